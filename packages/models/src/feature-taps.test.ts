import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { withFeatureTaps } from './feature-taps.js';
import { createModel } from './registry.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('withFeatureTaps', () => {
  it('returns [logits, ...default taps] for every CNN family', () => {
    const cases: Array<[Parameters<typeof createModel>[0], number[], number[][]]> = [
      [
        'hinton-student',
        [28, 28, 1],
        [
          [2, 800],
          [2, 800],
        ],
      ],
      [
        'mnist-cnn',
        [28, 28, 1],
        [
          [2, 14, 14, 32],
          [2, 7, 7, 64],
        ],
      ],
      [
        'lenet5',
        [28, 28, 1],
        [
          [2, 14, 14, 6],
          [2, 5, 5, 16],
        ],
      ],
      [
        'resnet8x4',
        [32, 32, 3],
        [
          [2, 32, 32, 64],
          [2, 16, 16, 128],
          [2, 8, 8, 256],
        ],
      ],
    ];
    for (const [name, shape, taps] of cases) {
      const model = withFeatureTaps(createModel(name, { seed: 1 }));
      const out = tf.tidy(() => (model.predict(tf.zeros([2, ...shape])) as tf.Tensor[]).map((t) => t.shape));
      expect(out, name).toEqual([[2, 10], ...taps]);
    }
  });

  it('shares weights with the logits model: same logits, and a change to one is seen by the other', () => {
    const base = createModel('cifar-vgg-small', { seed: 2 });
    const tapped = withFeatureTaps(base, ['block2_pool', 'block4_pool']);
    const x = tf.randomUniform([1, 32, 32, 3], 0, 1, 'float32', 1);
    const [logits, f2, f4] = tapped.predict(x) as tf.Tensor[];
    expect(f2?.shape).toEqual([1, 8, 8, 64]);
    expect(f4?.shape).toEqual([1, 2, 2, 128]);
    const direct = base.predict(x) as tf.Tensor;
    expect(Array.from((logits as tf.Tensor).dataSync())).toEqual(Array.from(direct.dataSync()));
    const layer = base.getLayer('logits');
    layer.setWeights(layer.getWeights().map((w) => tf.mul(w, 2)));
    const after = (tapped.predict(x) as tf.Tensor[])[0] as tf.Tensor;
    expect(Array.from(after.dataSync())).toEqual(Array.from((base.predict(x) as tf.Tensor).dataSync()));
    expect(Array.from(after.dataSync())).not.toEqual(Array.from(direct.dataSync()));
    expect(tapped.trainableWeights.length).toBe(base.trainableWeights.length);
  });

  it('names the unknown layer and lists the valid ones', () => {
    const base = createModel('mnist-cnn');
    expect(() => withFeatureTaps(base, ['conv9'])).toThrow(InvalidArgumentError);
    expect(() => withFeatureTaps(base, ['conv9'])).toThrow(
      /layer "conv9" is not in model 'mnist-cnn'; valid layer names are 'input', 'conv1', 'pool1'/,
    );
  });

  it('asks for layer names on a model without default taps', () => {
    const input = tfl.input({ shape: [3] });
    const out = tfl.layers.dense({ units: 2, name: 'head' }).apply(input) as tfl.SymbolicTensor;
    expect(() => withFeatureTaps(tfl.model({ inputs: input, outputs: out, name: 'plain' }))).toThrow(
      /model 'plain' has no default feature taps \(it is not a zoo model\); pass layerNames/,
    );
  });
});
