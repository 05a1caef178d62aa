import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient.js';
import { assertLogits, assertSameShape } from './validate.js';

/**
 * Logit matching (Ba and Caruana, "Do Deep Nets Really Need to be Deep?", NeurIPS 2014; the
 * high-temperature limit of Hinton's KD): the mean squared error between student and teacher logits,
 *
 * `lm = mean_{n,i} (s_n,i - t_n,i)^2`   (PyTorch `mse_loss(s, t)`).
 *
 * Hinton et al. show that as T grows the gradient of `T^2 * KL` tends to `(s_i - t_i) / C` for
 * zero-mean logits, so KD at high T is logit matching up to a constant factor. The teacher carries no
 * gradient.
 *
 * @param studentLogits - `[batch, classes]` float32 logits of the student.
 * @param teacherLogits - `[batch, classes]` float32 logits of the teacher, same shape.
 * @returns a scalar.
 * @throws InvalidArgumentError on a rank or shape mismatch.
 */
export function logitMatchingLoss(studentLogits: tf.Tensor, teacherLogits: tf.Tensor): tf.Scalar {
  const fn = 'logitMatchingLoss';
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  return tf.tidy(() => tf.mean(tf.squaredDifference(s, stopGradient(t))) as tf.Scalar);
}
