import * as tf from '@tensorflow/tfjs-core';
import { assertLogits, assertTemperature } from './validate.js';

/**
 * Hinton's soft targets: the softmax of logits divided by a temperature,
 *
 * `p_i = exp(z_i / T) / sum_j exp(z_j / T)`.
 *
 * Computed as `exp(logSoftmax(z / T))`, so it is exact for logits of any magnitude (the max is
 * subtracted first) and never NaN. T = 1 is the ordinary softmax; a higher T gives a softer
 * distribution that shows how the teacher ranks the wrong classes ("dark knowledge").
 *
 * @param logits - `[batch, classes]` float32 logits.
 * @param temperature - T, a finite number > 0.
 * @returns `[batch, classes]` probabilities; each row sums to 1.
 * @throws InvalidArgumentError if `logits` is not a non-empty rank-2 float32 tensor or T is not > 0.
 */
export function softTargets(logits: tf.Tensor, temperature: number): tf.Tensor2D {
  const z = assertLogits('softTargets', 'logits', logits);
  const t = assertTemperature('softTargets', temperature);
  return tf.tidy(() => tf.exp(tf.logSoftmax(tf.div(z, t)))) as tf.Tensor2D;
}

/**
 * Log of {@link softTargets}: `log p_i = z_i / T - logsumexp_j(z_j / T)`, finite for any finite logits
 * (use it rather than `log(softTargets(...))`, which is `-Infinity` wherever a probability underflows).
 *
 * @param logits - `[batch, classes]` float32 logits.
 * @param temperature - T, a finite number > 0.
 * @returns `[batch, classes]` log-probabilities.
 */
export function logSoftTargets(logits: tf.Tensor, temperature: number): tf.Tensor2D {
  const z = assertLogits('logSoftTargets', 'logits', logits);
  const t = assertTemperature('logSoftTargets', temperature);
  return tf.tidy(() => tf.logSoftmax(tf.div(z, t))) as tf.Tensor2D;
}
