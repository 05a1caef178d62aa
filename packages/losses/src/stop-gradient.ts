import * as tf from '@tensorflow/tfjs-core';

const stop = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
  value: tf.clone(args[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/**
 * Identity in the forward pass, zero gradient in the backward pass (TensorFlow's `tf.stop_gradient`,
 * PyTorch's `.detach()`); tfjs-core has no such op.
 *
 * Every loss here passes the teacher's side through it, so `tf.grad` with respect to the teacher's
 * logits or features is exactly zero and an optimizer can never move the teacher through the loss.
 *
 * @example
 * ```ts
 * const frozen = stopGradient(teacherLogits); // same values, no gradient flows back
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stop(x) as T;
}
