import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { type Labels, resolveLabels } from './labels.js';
import { stopGradient } from './stop-gradient.js';
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
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  labels: Labels,
  options: DkdLossOptions,
): tf.Scalar {
  const parts = computeDkd('dkdLoss', studentLogits, teacherLogits, labels, options);
  tf.dispose([parts.tckd, parts.nckd]);
  return parts.loss;
}

/** {@link dkdLoss} with its two unweighted terms; the caller owns (and disposes) all three scalars. */
export function dkdLossParts(
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
  labels: Labels,
  options: DkdLossOptions,
): DkdLossParts {
  return computeDkd('dkdLossParts', studentLogits, teacherLogits, labels, options);
}

function computeDkd(
  fn: string,
  studentLogits: tf.Tensor2D,
  teacherLogits: tf.Tensor2D,
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
    const mask = tf.cast(tf.oneHot(tf.tensor1d(ids, 'int32'), classes), 'bool');
    const split = (z: tf.Tensor) => {
      const x = tf.div(z, temperature);
      const lseAll = tf.logSumExp(x, 1, true);
      // logsumexp over the non-target classes: shift by their max (the target entry is replaced by the
      // row minimum, which never wins the max), then drop the target entry from the sum.
      const others = tf.where(mask, tf.broadcastTo(tf.min(x, 1, true), x.shape), x);
      const m = tf.max(others, 1, true);
      const e = tf.where(mask, tf.zerosLike(x), tf.exp(tf.sub(others, m)));
      const lseOthers = tf.add(tf.log(tf.sum(e, 1, true)), m);
      const logPg = tf.sub(tf.sum(tf.where(mask, x, tf.zerosLike(x)), 1, true), lseAll);
      const logRest = tf.sub(lseOthers, lseAll);
      // Target entries are set to 0 before any exp(): exp(x_g - lseOthers) can overflow, and 0 * Inf
      // would turn the (zero) gradient of the masked entry into NaN.
      const logQ = tf.where(mask, tf.zerosLike(x), tf.sub(x, lseOthers));
      return { logPg, logRest, logQ };
    };
    const st = split(s);
    const te = split(stopGradient(t));
    const pg = tf.exp(te.logPg);
    const rest = tf.exp(te.logRest);
    const tckdRows = tf.add(
      tf.mul(pg, tf.sub(te.logPg, st.logPg)),
      tf.mul(rest, tf.sub(te.logRest, st.logRest)),
    );
    const nckdTerms = tf.where(mask, tf.zerosLike(s), tf.mul(tf.exp(te.logQ), tf.sub(te.logQ, st.logQ)));
    const scale = temperature * temperature;
    const tckd = tf.mul(tf.mean(tckdRows), scale) as tf.Scalar;
    const nckd = tf.mul(tf.div(tf.sum(nckdTerms), batch), scale) as tf.Scalar;
    const loss = tf.add(tf.mul(tckd, alpha), tf.mul(nckd, beta)) as tf.Scalar;
    return { loss, tckd, nckd };
  });
}
