import { type Batch, ConfigError } from '@distilljs/core';
import { crossEntropy, kdLoss } from '@distilljs/losses';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { forwardLogits } from './forward.js';

/** What the strong view adds to one step: its soft and hard terms (scalars inside the gradient). */
export interface StrongViewTerms {
  soft: tf.Scalar;
  hard: tf.Scalar;
}

/**
 * @internal MLKD's strong view (Jin et al., CVPR 2023, as in the paper's code): the student's logits on
 * the strongly augmented copy of the batch are distilled towards the teacher's on the same copy with
 * the instance-level KD at every temperature, unmasked (`sum_T T^2 KL`), and trained on the labels
 * (cross-entropy). The class- and batch-level terms and the masking stay with the weak view.
 */
export function strongViewTerms(
  student: LayersModel,
  strong: Batch,
  teacherLogits: tf.Tensor2D,
  options: { temperatures: readonly number[]; logitStandardization: boolean; labelSmoothing?: number },
): StrongViewTerms {
  const logits = forwardLogits(student, strong.xs, true) as tf.Tensor2D;
  const terms = options.temperatures.map((temperature) =>
    kdLoss(logits, teacherLogits, { temperature, logitStandardization: options.logitStandardization }),
  );
  const soft = tf.addN(terms) as tf.Scalar;
  const hard = crossEntropy(logits, strong.labels, {
    ignoreIndex: -1,
    ...(options.labelSmoothing === undefined ? {} : { labelSmoothing: options.labelSmoothing }),
  });
  return { soft, hard };
}

/** @internal Throws unless the strong view's batch holds the same examples, in the same order. */
export function checkSameExamples(weak: Batch, strong: Batch, step: number): void {
  const a = weak.indices;
  const b = strong.indices;
  const same = a.length === b.length && a.every((v, i) => v === b[i]);
  if (!same) {
    throw new ConfigError(
      `distill: at step ${step} the strong view's batch does not hold the transfer set's examples in the same order; build 'strongView' from the same data, seed, batch size and shuffling as 'data', with only the augmentation changed`,
      { where: 'distill(options.strongView)' },
    );
  }
}
