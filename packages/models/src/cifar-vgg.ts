import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormRelu, batchNormReluPool } from './batch-norm.js';
import { conv2d } from './conv2d.js';
import type { BuildContext, BuiltModel } from './zoo-types.js';

/** Channel widths of the large VGG-style teacher of labml_nn.distillation (`LargeModel`). */
export const VGG_LARGE_BLOCKS: readonly (readonly number[])[] = [
  [64, 64],
  [128, 128],
  [256, 256, 256],
  [512, 512, 512],
  [512, 512, 512],
];
/** Channel widths of the small VGG-style student of labml_nn.distillation (`SmallModel`). */
export const VGG_SMALL_BLOCKS: readonly (readonly number[])[] = [[32, 32], [64, 64], [128], [128], [128]];

/**
 * The VGG-style CIFAR-10 models of labml's annotated distillation (labml_nn/distillation/{large,small}.py
 * on labml_nn/experiments/cifar10.py): per conv `[dropout(0.1)] conv3x3 (bias) - batch norm - ReLU`, a 2x2
 * max pool after each block (`block{i}_pool`, the feature taps), flatten, one dense layer to the classes.
 * Batch norm uses PyTorch's defaults (momentum 0.1, i.e. Keras momentum 0.9; epsilon 1e-5).
 */
export function buildCifarVgg(
  ctx: BuildContext,
  blocks: readonly (readonly number[])[],
  convDropout: number,
): BuiltModel {
  const { seeds } = ctx;
  const input = tfl.input({ shape: [...ctx.inputShape], name: 'input' });
  let x: tfl.SymbolicTensor = input;
  const taps: string[] = [];
  blocks.forEach((widths, b) => {
    const p = `block${b + 1}`;
    widths.forEach((filters, c) => {
      if (convDropout > 0) {
        x = tfl.layers
          .dropout({ rate: convDropout, name: `${p}_dropout${c + 1}` })
          .apply(x) as tfl.SymbolicTensor;
      }
      x = conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        kernelInitializer: seeds.heNormal(),
        name: `${p}_conv${c + 1}`,
      }).apply(x) as tfl.SymbolicTensor;
      // Batch norm and ReLU in one op in training (the same layers and values); the block's last one
      // with the 2x2 max pooling after it too.
      const bnArgs = { momentum: 0.9, epsilon: 1e-5, name: `${p}_bn${c + 1}` };
      const reluArgs = { name: `${p}_relu${c + 1}` };
      if (c < widths.length - 1) {
        const { batchNorm, relu } = batchNormRelu(bnArgs, reluArgs);
        x = relu.apply(batchNorm.apply(x)) as tfl.SymbolicTensor;
      } else {
        const { batchNorm, relu, pool } = batchNormReluPool(bnArgs, reluArgs, { name: `${p}_pool` });
        x = pool.apply(relu.apply(batchNorm.apply(x))) as tfl.SymbolicTensor;
      }
    });
    taps.push(`${p}_pool`);
  });
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers
    .dense({ units: ctx.numClasses, kernelInitializer: seeds.glorotUniform(), name: 'logits' })
    .apply(x) as tfl.SymbolicTensor;
  return { model: tfl.model({ inputs: input, outputs: logits, name: ctx.name }), featureTaps: taps };
}
