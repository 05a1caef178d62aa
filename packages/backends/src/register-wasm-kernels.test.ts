import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';

describe('@distilljs/backends/register-wasm-kernels', () => {
  it('registers the training kernels for wasm on import', async () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    await import('./register-wasm-kernels.js');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    await tf.setBackend('wasm');
    const dw = tf.tidy(() =>
      tf.grad((w: tf.Tensor) =>
        tf.sum(tf.conv2d(tf.ones([1, 4, 4, 1]) as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid')),
      )(tf.ones([3, 3, 1, 1])),
    );
    // Each filter tap sees the 2x2 output positions of an all-ones input.
    expect(Array.from(await dw.data())).toEqual(new Array(9).fill(4));
    dw.dispose();
  });
});
