import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient.js';
import { assertLogits, assertOptions, assertSameShape, assertTemperature } from './validate.js';

/** Options of {@link ttmLoss} and {@link wttmLoss}. */
export interface TtmLossOptions {
  /**
   * The teacher's temperature T > 0 (the paper's power transform `p^gamma` with `gamma = 1 / T`; its
   * CIFAR-100 recipe uses gamma = 0.1, T = 10).
   */
  temperature: number;
}

/**
 * Transformed teacher matching (Zheng and Yang, "Knowledge Distillation Based on Transformed Teacher
 * Matching", ICLR 2024): only the teacher is tempered, the student is matched at T = 1,
 *
 * `ttm = mean_i KL(softmax(t_i / T) || softmax(s_i))`, with no T^2 factor.
 *
 * (`softmax(t / T)` is the paper's power transform `p_t^(1/T)` renormalised.) The teacher carries no
 * gradient. See {@link wttmLoss} for the sample-weighted form.
 *
 * @param studentLogits - `[batch, classes]` float32 logits.
 * @param teacherLogits - `[batch, classes]` float32 logits, same shape.
 * @returns the scalar loss.
 */
export function ttmLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: TtmLossOptions,
): tf.Scalar {
  return checked('ttmLoss', studentLogits, teacherLogits, options, false);
}

/**
 * Weighted TTM (Zheng and Yang, ICLR 2024): TTM with each example weighted by the power sum of its
 * teacher distribution before normalisation,
 *
 * `wttm = mean_i w_i KL(softmax(t_i / T) || softmax(s_i))`, `w_i = sum_c softmax(t_i)_c^(1/T)`,
 *
 * which is larger for the examples the teacher is less sure of. `log w_i` is computed as
 * `logsumexp_c(log softmax(t_i)_c / T)`, finite for any logits. The teacher carries no gradient.
 */
export function wttmLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: TtmLossOptions,
): tf.Scalar {
  return checked('wttmLoss', studentLogits, teacherLogits, options, true);
}

function checked(
  fn: string,
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: TtmLossOptions,
  weighted: boolean,
): tf.Scalar {
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const opts = assertOptions<TtmLossOptions>(fn, options, true);
  const temperature = assertTemperature(fn, opts.temperature);
  return tf.tidy(() => tf.mean(ttmPerExample(s, t, temperature, weighted)) as tf.Scalar);
}

/** @internal TTM (or WTTM) per example, `[batch]`, without checks, inside a tidy. */
export function ttmPerExample(
  s: tf.Tensor,
  t: tf.Tensor,
  temperature: number,
  weighted: boolean,
): tf.Tensor1D {
  const teacher = stopGradient(t);
  const logPt = tf.logSoftmax(tf.div(teacher, temperature));
  const logPs = tf.logSoftmax(s);
  const kl = tf.sum(tf.mul(tf.exp(logPt), tf.sub(logPt, logPs)), 1);
  if (!weighted) return kl as tf.Tensor1D;
  const logW = tf.logSumExp(tf.div(tf.logSoftmax(teacher), temperature), 1);
  return tf.mul(kl, tf.exp(logW)) as tf.Tensor1D;
}
