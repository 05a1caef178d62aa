import { crossEntropy } from '@distilljs/losses';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * @internal Cross-entropy over the labelled examples of a batch (label -1 = unlabelled, left out of
 * the mean; 0 when none is labelled).
 */
export function maskedCrossEntropy(
  logits: tf.Tensor,
  labels: Int32Array,
  labelSmoothing: number,
  _fn: string,
): tf.Scalar {
  return crossEntropy(logits as tf.Tensor2D, labels, { labelSmoothing, ignoreIndex: -1 });
}
