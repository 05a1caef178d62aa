import * as tfl from '@tensorflow/tfjs-layers';
import { conv2d } from './conv2d.js';
import type { BuildContext, BuiltModel } from './zoo-types.js';

/**
 * The small MNIST CNN of the Keras examples, with 'same' convolutions: conv3x3(32)-ReLU-maxpool2,
 * conv3x3(64)-ReLU-maxpool2, dense 128-ReLU, dense to the classes. Feature taps: `pool1`, `pool2`.
 */
export function buildMnistCnn(ctx: BuildContext): BuiltModel {
  const { seeds } = ctx;
  const input = tfl.input({ shape: [...ctx.inputShape], name: 'input' });
  let x: tfl.SymbolicTensor = input;
  for (const [i, filters] of [32, 64].entries()) {
    x = conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: seeds.heNormal(),
      name: `conv${i + 1}`,
    }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers
      .maxPooling2d({ poolSize: 2, strides: 2, name: `pool${i + 1}` })
      .apply(x) as tfl.SymbolicTensor;
  }
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers
    .dense({ units: 128, activation: 'relu', kernelInitializer: seeds.heNormal(), name: 'fc1' })
    .apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers
    .dense({ units: ctx.numClasses, kernelInitializer: seeds.glorotUniform(), name: 'logits' })
    .apply(x) as tfl.SymbolicTensor;
  return {
    model: tfl.model({ inputs: input, outputs: logits, name: ctx.name }),
    featureTaps: ['pool1', 'pool2'],
  };
}
