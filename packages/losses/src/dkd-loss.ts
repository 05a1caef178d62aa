import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { type Labels, resolveLabels } from './labels.js';
import { stopGradient } from './stop-gradient.js';
import { splitAtTarget, targetMask } from './target-split.js';
import { temperatureScale } from './temperature-scale.js';
import {
  assertLogits,
  assertNonNegative,
  assertOptions,
  assertSameShape,
  assertTemperature,
} from './validate.js';

/** Options of {@link dkdLoss}. */
export interface DkdLossOptions {
  /** Weight of the target-class term TCKD, >= 0 (the paper uses 1). */
  alpha: number;
  /** Weight of the non-target-class term NCKD, >= 0 (the paper uses 8 on CIFAR-100, 0.5 on ImageNet). */
  beta: number;
  /** Softmax temperature T, a finite number > 0 (the paper uses 4 on CIFAR-100, 1 on ImageNet). */
  temperature: number;
}

/** DKD's total and its two terms (before alpha/beta weighting), all scalars. */
export interface DkdLossParts {
  /** `alpha * tckd + beta * nckd`. */
  loss: tf.Scalar;
  /** Target-class KD: T^2 * KL between the binary (target, rest) distributions, batch-averaged. */
  tckd: tf.Scalar;
  /** Non-target-class KD: T^2 * KL between the distributions over the non-target classes, batch-averaged. */
  nckd: tf.Scalar;
}

/**
 * Decoupled Knowledge Distillation (Zhao, Cui, Song, Qiu and Liang, "Decoupled Knowledge Distillation",
 * CVPR 2022), which splits Hinton's KD into a target-class and a non-target-class term and weights
 * them independently:
 *
 * `dkd = alpha * TCKD + beta * NCKD`
 *
 * - `TCKD = T^2 * KL(b_t || b_s)` with `b = [p_g, 1 - p_g]`, the probability of the labelled class g
 *   and of all the others, `p = softmax(z / T)`;
 * - `NCKD = T^2 * KL(q_t || q_s)` with `q_j = softmax over the non-target classes j != g of z_j / T`;
 *
 * each summed per example and averaged over the batch. (Hinton's KD = TCKD + (1 - p_t,g) * NCKD.)
 *
 * Computed in log space without the reference implementation's `-1000 * mask` trick:
 * `log q_j = z_j / T - logsumexp_{k != g}(z_k / T)`, `log p_g = z_g / T - logsumexp_k(z_k / T)` and
 * `log(1 - p_g) = logsumexp_{k != g} - logsumexp_k`, all finite for any finite logits. The teacher
 * carries no gradient.
 *
 * @param studentLogits - `[batch, classes]` float32 logits, classes >= 2.
 * @param teacherLogits - `[batch, classes]` float32 logits, same shape.
 * @param labels - class ids in [0, classes) (`Tensor1D`, `Int32Array` or `number[]`).
 * @returns the scalar loss.
 * @throws InvalidArgumentError for bad shapes, fewer than 2 classes, T <= 0, negative weights or bad labels.
 */
export function dkdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: Labels,
  options: DkdLossOptions,
): tf.Scalar {
  const parts = computeDkd('dkdLoss', studentLogits, teacherLogits, labels, options);
  tf.dispose([parts.tckd, parts.nckd]);
  return parts.loss;
}

/** {@link dkdLoss} with its two unweighted terms; the caller owns (and disposes) all three scalars. */
export function dkdLossParts(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: Labels,
  options: DkdLossOptions,
): DkdLossParts {
  return computeDkd('dkdLossParts', studentLogits, teacherLogits, labels, options);
}

function computeDkd(
  fn: string,
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: Labels,
  options: DkdLossOptions,
): DkdLossParts {
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const [batch, classes] = s.shape as [number, number];
  if (classes < 2) invalidArgument(fn, 'studentLogits', 'a [batch, classes] tensor with classes >= 2', s);
  const opts = assertOptions<DkdLossOptions>(fn, options, true);
  const alpha = assertNonNegative(fn, 'alpha', opts.alpha);
  const beta = assertNonNegative(fn, 'beta', opts.beta);
  const temperature = assertTemperature(fn, opts.temperature);
  const resolved = resolveLabels(fn, labels, batch, classes, { probabilities: false });
  const ids = resolved.kind === 'ids' ? resolved.ids : new Int32Array(0);
  return tf.tidy(() => {
    const terms = dkdPerExample(s, t, ids, temperature);
    const tckd = tf.mean(terms.tckd) as tf.Scalar;
    const nckd = tf.mean(terms.nckd) as tf.Scalar;
    const loss = tf.add(tf.mul(tckd, alpha), tf.mul(nckd, beta)) as tf.Scalar;
    return { loss, tckd, nckd };
  });
}

/**
 * @internal Per-example TCKD and NCKD, each T^2-scaled, `[batch]`; the teacher detached. `temperature` is a
 * number, a scalar tensor or a `[batch, 1]` tensor (a learnable temperature, CTKD). Call inside a tidy.
 */
export function dkdPerExample(
  s: tf.Tensor,
  t: tf.Tensor,
  ids: Int32Array,
  temperature: number | tf.Tensor,
): { tckd: tf.Tensor1D; nckd: tf.Tensor1D } {
  const mask = targetMask(ids, s.shape[1]!);
  const split = (z: tf.Tensor) => splitAtTarget(tf.div(z, temperature), mask);
  const st = split(s);
  const te = split(stopGradient(t));
  const pg = tf.exp(te.logPg);
  const rest = tf.exp(te.logRest);
  const tckdRows = tf.add(
    tf.mul(pg, tf.sub(te.logPg, st.logPg)),
    tf.mul(rest, tf.sub(te.logRest, st.logRest)),
  );
  const nckdTerms = tf.where(mask, tf.zerosLike(s), tf.mul(tf.exp(te.logQ), tf.sub(te.logQ, st.logQ)));
  const scale = temperatureScale(temperature);
  return {
    tckd: tf.mul(tf.reshape(tckdRows, [-1]), scale) as tf.Tensor1D,
    nckd: tf.mul(tf.sum(nckdTerms, 1), scale) as tf.Tensor1D,
  };
}
