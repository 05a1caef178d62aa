import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { assertLogits } from './validate.js';

/** Added to the standard deviation, as in the paper's code. */
export const LOGIT_STANDARDIZATION_EPS = 1e-7;

/**
 * Logit standardisation (Sun, Ren, Li, Wang and Cao, "Logit Standardization in Knowledge Distillation",
 * CVPR 2024): the Z-score of each row of logits,
 *
 * `z' = (z - mean_c z) / (1e-7 + std_c z)`,
 *
 * with the unbiased sample standard deviation (N - 1, as `torch.std`). Applied to the student's and the
 * teacher's logits before the temperature (option `logitStandardization` of the `'kd'`, `'dkd'` and
 * `'mlkd'` losses), it lets the student match the teacher's logit relations rather than their scale.
 *
 * @param logits - `[batch, classes]` float32 logits, classes >= 2.
 * @returns `[batch, classes]` standardised logits (each row has mean 0 and standard deviation ~1).
 * @throws InvalidArgumentError if `logits` is not a non-empty rank-2 float32 tensor with >= 2 classes.
 */
export function standardizeLogits(logits: tf.Tensor): tf.Tensor2D {
  const fn = 'standardizeLogits';
  const z = assertLogits(fn, 'logits', logits);
  if (z.shape[1]! < 2) invalidArgument(fn, 'logits', 'a [batch, classes] tensor with classes >= 2', z);
  return tf.tidy(() => standardize(z)) as tf.Tensor2D;
}

/**
 * @internal {@link standardizeLogits} without checks, inside a tidy. The variance is floored at 1e-30
 * before the square root (a change of at most 1e-15 in the denominator, far below the 1e-7 epsilon),
 * so a constant row has a zero gradient instead of NaN.
 */
export function standardize(z: tf.Tensor): tf.Tensor {
  const classes = z.shape[z.rank - 1]!;
  const centred = tf.sub(z, tf.mean(z, -1, true));
  const variance = tf.div(tf.sum(tf.square(centred), -1, true), classes - 1);
  const std = tf.sqrt(tf.maximum(variance, 1e-30));
  return tf.div(centred, tf.add(std, LOGIT_STANDARDIZATION_EPS));
}
