import * as tf from '@tensorflow/tfjs-core';
import { type Reduction, reduce, resolveReduction } from './reduction.js';
import { stopGradient } from './stop-gradient.js';
import { assertLogits, assertOptions, assertSameShape, assertTemperature } from './validate.js';

/** Options of {@link kdLossFromSoftTargets}. */
export interface KdLossFromSoftTargetsOptions {
  /** Temperature T the targets were made at (applied to the student), a finite number > 0. */
  temperature: number;
  /** Default `'batchmean'`. */
  reduction?: Reduction;
}

/**
 * {@link kdLoss} against given target probabilities instead of teacher logits, for targets that are not
 * the softmax of one set of logits (an ensemble from {@link ensembleSoftTargets}, cached or smoothed
 * targets):
 *
 * `kd = T^2 * sum_i q_i * (log q_i - log softmax(s / T)_i)`, summed over classes, batch-averaged;
 * terms with `q_i = 0` are exactly 0 (the `0 * log 0 = 0` convention).
 *
 * With `q = softTargets(t, T)` this equals `kdLoss(s, t, { temperature: T })`. The targets carry no
 * gradient.
 *
 * @param studentLogits - `[batch, classes]` float32 logits.
 * @param targets - `[batch, classes]` float32 probabilities (rows summing to 1), e.g. at temperature T.
 * @returns a scalar (`[batch]` for `reduction: 'none'`).
 */
export function kdLossFromSoftTargets(
  studentLogits: tf.Tensor,
  targets: tf.Tensor,
  options: KdLossFromSoftTargetsOptions,
): tf.Scalar {
  const fn = 'kdLossFromSoftTargets';
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const q = assertLogits(fn, 'targets', targets);
  assertSameShape(fn, 'studentLogits', s, 'targets', q);
  const opts = assertOptions<KdLossFromSoftTargetsOptions>(fn, options, true);
  const temperature = assertTemperature(fn, opts.temperature);
  const reduction = resolveReduction(fn, opts.reduction);
  return tf.tidy(() => {
    const logPs = tf.logSoftmax(tf.div(s, temperature));
    const target = stopGradient(q);
    // q * log(max(q, 1e-30)) is exactly 0 where q = 0 and differs from q * log q by < 1e-28 elsewhere.
    const terms = tf.mul(target, tf.sub(tf.log(tf.maximum(target, 1e-30)), logPs));
    const perExample = tf.mul(tf.sum(terms, 1), temperature * temperature) as tf.Tensor1D;
    return reduce(perExample, reduction) as tf.Scalar;
  });
}
