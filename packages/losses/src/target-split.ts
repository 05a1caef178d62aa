import * as tf from '@tensorflow/tfjs-core';

/** @internal The target / non-target split of `x = z / T` that DKD and NKD share, all in log space. */
export interface TargetSplit {
  /** `[batch, 1]` log p_g = x_g - logsumexp_k x_k. */
  logPg: tf.Tensor;
  /** `[batch, 1]` log(1 - p_g) = logsumexp_{k != g} x_k - logsumexp_k x_k. */
  logRest: tf.Tensor;
  /** `[batch, classes]` log q_j = x_j - logsumexp_{k != g} x_k over the non-target classes, 0 at the target. */
  logQ: tf.Tensor;
}

/** @internal A `[batch, classes]` boolean mask, true at each row's target class. */
export function targetMask(ids: Int32Array, classes: number): tf.Tensor {
  return tf.cast(tf.oneHot(tf.tensor1d(ids, 'int32'), classes), 'bool');
}

/**
 * @internal Splits `x` (logits already divided by T) at the target classes `mask`, without the reference
 * implementations' `-1000 * mask` trick, so every value is finite for any finite logits. Call inside a tidy.
 */
export function splitAtTarget(x: tf.Tensor, mask: tf.Tensor): TargetSplit {
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
}
