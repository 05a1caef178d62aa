import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { type Labels, resolveLabels } from './labels.js';
import { stopGradient } from './stop-gradient.js';
import { splitAtTarget, targetMask } from './target-split.js';
import {
  assertLogits,
  assertNonNegative,
  assertOptions,
  assertSameShape,
  assertTemperature,
} from './validate.js';

/** Options of {@link nkdLoss}. */
export interface NkdLossOptions {
  /** Temperature T > 0 of the non-target term (the paper: 1 on ImageNet). */
  temperature: number;
  /** Weight gamma >= 0 of the non-target term. Default 1.5 (the paper's). */
  gamma?: number;
}

/**
 * Normalized KD (Yang, Zeng, Li, Zhang, Yuan and Li, "From Knowledge Distillation to Self-Knowledge
 * Distillation: A Unified Approach with Normalized Loss and Customized Soft Labels", ICCV 2023), in the
 * paper's form:
 *
 * `nkd = -mean_i p_t[i, y_i] log p_s[i, y_i] - gamma * T^2 * mean_i sum_{c != y_i} q_t[i, c] log q_s[i, c]`,
 *
 * `p = softmax(z)` (T = 1) and `q = softmax` over the non-target logits only, at T: the target term is a
 * cross-entropy with the teacher's target probability as weight, the non-target term a cross-entropy
 * between the normalised non-target distributions (the target class excluded; the authors' public code
 * builds its mask with `ones_like` and so does not exclude it). Computed in log space (as DKD), finite
 * for any finite logits; the teacher carries no gradient.
 *
 * @param studentLogits - `[batch, classes]` float32 logits, classes >= 2.
 * @param teacherLogits - `[batch, classes]` float32 logits, same shape.
 * @param labels - class ids in [0, classes).
 * @returns the scalar loss.
 */
export function nkdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: Labels,
  options: NkdLossOptions,
): tf.Scalar {
  const fn = 'nkdLoss';
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const [batch, classes] = s.shape as [number, number];
  if (classes < 2) invalidArgument(fn, 'studentLogits', 'a [batch, classes] tensor with classes >= 2', s);
  const opts = assertOptions<NkdLossOptions>(fn, options, true);
  const temperature = assertTemperature(fn, opts.temperature);
  const gamma = assertNonNegative(fn, 'gamma', opts.gamma ?? 1.5);
  const resolved = resolveLabels(fn, labels, batch, classes, { probabilities: false });
  const ids = resolved.kind === 'ids' ? resolved.ids : new Int32Array(0);
  return tf.tidy(() => nkdValue(s, t, ids, temperature, gamma));
}

/** @internal {@link nkdLoss} without checks, inside a tidy. */
export function nkdValue(
  s: tf.Tensor,
  t: tf.Tensor,
  ids: Int32Array,
  temperature: number,
  gamma: number,
): tf.Scalar {
  const mask = targetMask(ids, s.shape[1]!);
  const teacher = stopGradient(t);
  const target = tf.neg(
    tf.mean(tf.mul(tf.exp(splitAtTarget(teacher, mask).logPg), splitAtTarget(s, mask).logPg)),
  );
  const qt = splitAtTarget(tf.div(teacher, temperature), mask).logQ;
  const qs = splitAtTarget(tf.div(s, temperature), mask).logQ;
  const terms = tf.where(mask, tf.zerosLike(qs), tf.mul(tf.exp(qt), qs));
  const nonTarget = tf.div(tf.sum(terms), s.shape[0]!);
  return tf.sub(target, tf.mul(nonTarget, gamma * temperature * temperature)) as tf.Scalar;
}
