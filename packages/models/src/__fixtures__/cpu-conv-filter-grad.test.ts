import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastCpuConv2DBackpropFilter } from './cpu-conv-filter-grad.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function filterGrad(
  x: tf.Tensor4D,
  f: tf.Tensor4D,
  stride: number,
  pad: 'same' | 'valid' | number,
): tf.Tensor {
  const dy = tf.tidy(() => tf.randomNormal(tf.conv2d(x, f, stride, pad).shape, 0, 1, 'float32', 3));
  return tf.grad((ff: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, ff as tf.Tensor4D, stride, pad), dy)))(f);
}

describe('fast cpu Conv2DBackpropFilter test fixture', () => {
  it('matches the stock cpu kernel for same/valid/explicit padding and strides 1 and 2', () => {
    for (const [h, w, k, stride, pad] of [
      [7, 6, 3, 1, 'same'],
      [8, 8, 3, 2, 'same'],
      [9, 7, 3, 2, 'valid'],
      [6, 6, 1, 2, 'same'],
      [8, 5, 5, 1, 'valid'],
      [6, 7, 3, 2, 1],
    ] as const) {
      const x = tf.randomNormal([2, h, w, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const f = tf.randomNormal([k, k, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
      const want = filterGrad(x, f, stride, pad);
      const restore = useFastCpuConv2DBackpropFilter();
      const before = tf.memory().numTensors;
      let got: tf.Tensor;
      try {
        got = filterGrad(x, f, stride, pad);
      } finally {
        restore();
      }
      expect(tf.memory().numTensors).toBe(before + 2); // dy and the gradient, nothing else
      expect(got.shape).toEqual(want.shape);
      const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] as number;
      expect(diff, `${h}x${w} k${k} s${stride} ${pad}`).toBeLessThan(1e-4);
    }
  });
});
