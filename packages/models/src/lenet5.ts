import * as tfl from '@tensorflow/tfjs-layers';
import { conv2d } from './conv2d.js';
import type { BuildContext, BuiltModel } from './zoo-types.js';

/**
 * LeNet-5 (LeCun et al. 1998) on 28x28x1: the first 5x5 convolution pads 'same' so 28x28 input plays the
 * role of the paper's padded 32x32; tanh activations and 2x2 average pooling (the paper's subsampling),
 * conv5x5(6)-avgpool-conv5x5(16)-avgpool-dense 120-dense 84-dense classes. Feature taps: `pool1`, `pool2`.
 */
export function buildLenet5(ctx: BuildContext): BuiltModel {
  const { seeds } = ctx;
  const input = tfl.input({ shape: [...ctx.inputShape], name: 'input' });
  let x: tfl.SymbolicTensor = input;
  for (const [i, filters] of [6, 16].entries()) {
    x = conv2d({
      filters,
      kernelSize: 5,
      padding: i === 0 ? 'same' : 'valid',
      activation: 'tanh',
      kernelInitializer: seeds.glorotUniform(),
      name: `conv${i + 1}`,
    }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .averagePooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` })
      .apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  for (const [i, units] of [120, 84].entries()) {
    x = tfl.layers
      .dense({ units, activation: 'tanh', kernelInitializer: seeds.glorotUniform(), name: `fc${i + 1}` })
      .apply(x) as tfl.SymbolicTensor;
  }
  const logits = tfl.layers
    .dense({ units: ctx.numClasses, kernelInitializer: seeds.glorotUniform(), name: 'logits' })
    .apply(x) as tfl.SymbolicTensor;
  return {
    model: tfl.model({ inputs: input, outputs: logits, name: ctx.name }),
    featureTaps: ['pool1', 'pool2'],
  };
}
