import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { stopGradient } from './stop-gradient.js';

describe('stopGradient', () => {
  beforeAll(() => useBackend('cpu'));

  it('is the identity forward and blocks the gradient backward', () => {
    const x = tf.tensor1d([1, 2, 3]);
    expect(take(stopGradient(x))).toEqual([1, 2, 3]);
    // d/dx sum(x * stop(x)) = stop(x) = x (the product rule's second term is cut)
    expect(take(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(x))).toEqual([1, 2, 3]);
    expect(take(tf.grad((v: tf.Tensor) => tf.sum(stopGradient(v)))(x))).toEqual([0, 0, 0]);
    expectNoLeak(() => take(tf.grad((v: tf.Tensor) => tf.sum(tf.mul(v, stopGradient(v))))(x)));
    x.dispose();
  });
});
