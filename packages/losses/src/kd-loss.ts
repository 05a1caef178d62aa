import * as tf from '@tensorflow/tfjs-core';
import { standardize } from './logit-standardization.js';
import { type Reduction, reduce, resolveReduction } from './reduction.js';
import { stopGradient } from './stop-gradient.js';
import { temperatureScale } from './temperature-scale.js';
import { assertFlag, assertLogits, assertOptions, assertSameShape, assertTemperature } from './validate.js';

/** Options of {@link kdLoss}. */
export interface KdLossOptions {
  /** Softmax temperature T, a finite number > 0 (Hinton et al. use 1 to 20; 4 is common). */
  temperature: number;
  /** Default `'batchmean'`: summed over classes, averaged over the batch. */
  reduction?: Reduction;
  /**
   * Z-score the student's and the teacher's logits per example before the temperature (Sun et al.,
   * CVPR 2024; see `standardizeLogits`). Default false.
   */
  logitStandardization?: boolean;
}

/**
 * Hinton's soft-target loss (Hinton, Vinyals and Dean 2015, arXiv 1503.02531):
 *
 * `kd = T^2 * KL(p_t || p_s) = T^2 * sum_i p_t,i * (log p_t,i - log p_s,i)`,
 * with `p = softmax(z / T)`, summed over classes and (by default) averaged over the batch,
 * exactly PyTorch's `kl_div(log_softmax(s/T), softmax(t/T), reduction='batchmean') * T**2`.
 *
 * - The **teacher is the target** (first argument of the KL): the student is pulled towards the teacher,
 *   not the other way round. Swapping the arguments changes the value.
 * - The **T^2 factor** keeps the gradient's size independent of T (the gradient of the KL shrinks as
 *   1/T^2), so the soft and hard terms stay balanced when T changes.
 * - The **teacher carries no gradient** ({@link stopGradient}): `tf.grad` with respect to
 *   `teacherLogits` is zero.
 *
 * Log-probabilities come from `logSoftmax(z / T)`, which is finite for any finite logits, and each
 * term is `p_t * (log p_t - log p_s)`, so a class with `p_t = 0` contributes exactly 0: no NaN or
 * Infinity for logits of +-1e4 and T from 0.05 to 100.
 *
 * The gradient with respect to the student logits is `T * (p_s - p_t) / batch`.
 *
 * @param studentLogits - `[batch, classes]` float32 logits of the model being trained.
 * @param teacherLogits - `[batch, classes]` float32 logits of the teacher, same shape.
 * @returns a scalar, or a `[batch]` tensor for `reduction: 'none'`.
 * @throws InvalidArgumentError on a shape or rank mismatch, T <= 0 or an unknown reduction.
 */
export function kdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: KdLossOptions & { reduction?: 'batchmean' | 'sum' },
): tf.Scalar;
export function kdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: KdLossOptions & { reduction: 'none' },
): tf.Tensor1D;
export function kdLoss(studentLogits: tf.Tensor, teacherLogits: tf.Tensor, options: KdLossOptions): tf.Tensor;
export function kdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: KdLossOptions,
): tf.Tensor {
  const fn = 'kdLoss';
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const opts = assertOptions<KdLossOptions>(fn, options, true);
  const temperature = assertTemperature(fn, opts.temperature);
  const reduction = resolveReduction(fn, opts.reduction);
  const ls = assertFlag(fn, 'logitStandardization', opts.logitStandardization);
  return tf.tidy(() =>
    reduce(
      ls ? kdPerExample(standardize(s), standardize(t), temperature) : kdPerExample(s, t, temperature),
      reduction,
    ),
  );
}

/**
 * @internal `T^2 * KL(softmax(t/T) || softmax(s/T))` per example, `[batch]`; teacher detached. `temperature`
 * is a number, a scalar tensor or a `[batch, 1]` tensor (a learnable temperature, CTKD).
 */
export function kdPerExample(s: tf.Tensor, t: tf.Tensor, temperature: number | tf.Tensor): tf.Tensor1D {
  const logPs = tf.logSoftmax(tf.div(s, temperature));
  const logPt = tf.logSoftmax(tf.div(stopGradient(t), temperature));
  const pt = tf.exp(logPt);
  const kl = tf.sum(tf.mul(pt, tf.sub(logPt, logPs)), 1);
  return tf.mul(kl, temperatureScale(temperature)) as tf.Tensor1D;
}
