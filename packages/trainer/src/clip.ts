import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient clipping by global norm (PyTorch `clip_grad_norm_`, TF `clip_by_global_norm`): when
 * `||g||_2 = sqrt(sum_i ||g_i||^2)` exceeds `maxNorm`, every gradient is scaled by `maxNorm / (||g|| + 1e-6)`.
 * Returns new tensors and the global norm (a scalar tensor) without reading them back, so no device sync.
 * The caller owns (and disposes) the results; the inputs are not disposed.
 */
export function clipByGlobalNorm(
  grads: readonly tf.Tensor[],
  maxNorm: number,
): { grads: tf.Tensor[]; norm: tf.Scalar } {
  if (typeof maxNorm !== 'number' || !Number.isFinite(maxNorm) || maxNorm <= 0) {
    invalidArgument('clipByGlobalNorm', 'maxNorm', 'a finite number > 0', maxNorm);
  }
  return tf.tidy(() => {
    const sq = grads.map((g) => tf.sum(tf.square(g)));
    const norm = tf.sqrt(sq.length === 0 ? tf.scalar(0) : tf.addN(sq)) as tf.Scalar;
    const scale = tf.minimum(tf.scalar(1), tf.div(maxNorm, tf.add(norm, 1e-6)));
    return { grads: grads.map((g) => tf.mul(g, scale)), norm };
  });
}
