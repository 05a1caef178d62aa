import type { AdamUpdateAttrs } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * The formula of `ADAM_UPDATE_KERNEL` as separate float32 tensor ops, on the current backend: the
 * reference the fused kernel must match bit for bit. Returns `[pNext, mNext, vNext]` as plain arrays.
 */
export function composedAdam(
  inputs: readonly [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>, ArrayLike<number>],
  attrs: AdamUpdateAttrs,
): number[][] {
  return tf.tidy(() => {
    const [p, g, m, v] = inputs.map((a) => tf.tensor1d(Array.from(a))) as [
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
      tf.Tensor,
    ];
    const flush = (x: tf.Tensor) => tf.sub(tf.add(x, 2 ** -100), 2 ** -100);
    const mN = flush(tf.add(tf.mul(m, attrs.beta1), tf.mul(g, attrs.oneMinusBeta1)));
    const vN = flush(tf.add(tf.mul(v, attrs.beta2), tf.mul(tf.square(g), attrs.oneMinusBeta2)));
    const step = tf.div(mN, tf.add(tf.sqrt(tf.div(vN, attrs.biasCorrection2)), attrs.epsilon));
    const pN = tf.sub(tf.mul(p, attrs.decay), tf.mul(step, attrs.stepSize));
    return [pN, mN, vN].map((t) => Array.from(t.dataSync()));
  });
}
