import * as tfl from '@tensorflow/tfjs-layers';
import type { BuildContext, BuiltModel } from './zoo-types.js';

/** Options of the MLP builders (`hinton-teacher`, `hinton-student`, `mlp`). */
export interface MlpOptions {
  /** Units of each hidden ReLU layer. */
  readonly hiddenUnits: readonly number[];
  /** Dropout rate on the flattened input (0 for none). */
  readonly inputDropout: number;
  /** Dropout rate after each hidden ReLU (0 for none). */
  readonly dropout: number;
  /** Max-norm bound on the L2 norm of each unit's incoming weights, or `undefined` for none. */
  readonly maxNorm: number | undefined;
}

/**
 * A fully connected ReLU network on image input: Flatten (for inputs of rank > 1), optional input dropout, hidden Dense+ReLU layers
 * (named `hidden1`, `hidden2`, ...) each followed by optional dropout, then a linear `logits` layer.
 * Feature taps: every hidden layer's output (after ReLU).
 */
export function buildMlp(ctx: BuildContext, opts: MlpOptions): BuiltModel {
  const { seeds } = ctx;
  const input = tfl.input({ shape: [...ctx.inputShape], name: 'input' });
  let x: tfl.SymbolicTensor = input;
  if (ctx.inputShape.length > 1) x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  if (opts.inputDropout > 0) {
    x = tfl.layers.dropout({ rate: opts.inputDropout, name: 'input_dropout' }).apply(x) as tfl.SymbolicTensor;
  }
  const constraint =
    opts.maxNorm === undefined
      ? {}
      : { kernelConstraint: tfl.constraints.maxNorm({ maxValue: opts.maxNorm, axis: 0 }) };
  const taps: string[] = [];
  opts.hiddenUnits.forEach((units, i) => {
    const name = `hidden${i + 1}`;
    x = tfl.layers
      .dense({ units, activation: 'relu', kernelInitializer: seeds.glorotUniform(), name, ...constraint })
      .apply(x) as tfl.SymbolicTensor;
    taps.push(name);
    if (opts.dropout > 0) {
      x = tfl.layers.dropout({ rate: opts.dropout, name: `dropout${i + 1}` }).apply(x) as tfl.SymbolicTensor;
    }
  });
  const logits = tfl.layers
    .dense({ units: ctx.numClasses, kernelInitializer: seeds.glorotUniform(), name: 'logits', ...constraint })
    .apply(x) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: input, outputs: logits, name: ctx.name }), featureTaps: taps };
}
