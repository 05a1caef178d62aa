import { describeValue, InvalidArgumentError, invalidArgument } from '@distilljs/core';
import type * as tf from '@tensorflow/tfjs-core';
import { isTensor } from './validate.js';

/**
 * Ground-truth labels, in any of the forms a trainer has at hand:
 *
 * - class ids `0..classes-1`, one per example: a `Tensor1D` (int32, or float32 holding integers), an
 *   `Int32Array` (the core `Batch.labels`) or a `number[]`;
 * - or a `[batch, classes]` `Tensor2D` of one-hot / probability rows (each row in [0, 1], summing to 1).
 *
 * Any `tf.Tensor` type is accepted (a `tf.Tensor`, a `tf.Variable`); the rank and dtype are checked at
 * run time. Where a function takes an `ignoreIndex`, ids equal to it mark unlabelled examples.
 */
export type Labels = tf.Tensor | Int32Array | readonly number[];

/** @internal Labels after validation. */
export type ResolvedLabels =
  | { kind: 'ids'; ids: Int32Array; labelled: number }
  | { kind: 'probs'; probs: tf.Tensor2D };

/** @internal Settings of {@link resolveLabels}. */
export interface ResolveLabelsOptions {
  /** Accept `[batch, classes]` probability rows. */
  probabilities: boolean;
  /** An id that marks an unlabelled example (excluded from the range check), if any. */
  ignoreIndex?: number | undefined;
}

function fail(fn: string, message: string): never {
  throw new InvalidArgumentError(`${fn}: argument 'labels' ${message}`, { where: `${fn}(labels)` });
}

/**
 * @internal Validates labels against `[batch, classes]` logits without allocating a tensor. Tensor
 * labels are read back (a small synchronous read) to check their values.
 */
export function resolveLabels(
  fn: string,
  labels: unknown,
  batch: number,
  classes: number,
  options: ResolveLabelsOptions,
): ResolvedLabels {
  const idsForm = `class ids in [0, ${classes - 1}]${options.ignoreIndex === undefined ? '' : ` (or ${options.ignoreIndex} for unlabelled)`}`;
  const expected = options.probabilities
    ? `${batch} ${idsForm} (a Tensor1D, Int32Array or number[]) or a [${batch}, ${classes}] float32 Tensor2D of probabilities`
    : `${batch} ${idsForm} (a Tensor1D, Int32Array or number[])`;
  let values: ArrayLike<number>;
  if (isTensor(labels)) {
    if (labels.isDisposed) fail(fn, 'was already disposed');
    if (labels.rank === 2) {
      if (!options.probabilities) invalidArgument(fn, 'labels', expected, labels);
      if (labels.shape[0] !== batch || labels.shape[1] !== classes || labels.dtype !== 'float32') {
        invalidArgument(fn, 'labels', `a [${batch}, ${classes}] float32 Tensor2D of probabilities`, labels);
      }
      const p = labels.dataSync();
      for (let i = 0; i < batch; i++) {
        let sum = 0;
        for (let j = 0; j < classes; j++) {
          const v = p[i * classes + j]!;
          if (!(v >= 0 && v <= 1)) {
            fail(fn, `must hold probabilities in [0, 1], got ${v} at [${i}, ${j}]`);
          }
          sum += v;
        }
        if (Math.abs(sum - 1) > 1e-3) fail(fn, `rows must sum to 1, got ${sum} in row ${i}`);
      }
      return { kind: 'probs', probs: labels as tf.Tensor2D };
    }
    if (labels.rank !== 1 || (labels.dtype !== 'int32' && labels.dtype !== 'float32')) {
      invalidArgument(fn, 'labels', expected, labels);
    }
    values = labels.dataSync() as ArrayLike<number>;
  } else if (labels instanceof Int32Array || Array.isArray(labels)) {
    values = labels as ArrayLike<number>;
  } else {
    invalidArgument(fn, 'labels', expected, labels);
  }
  if (values.length !== batch) {
    fail(fn, `must hold ${batch} class ids (one per row of the logits), got ${describeValue(labels)}`);
  }
  const ids = new Int32Array(batch);
  let labelled = 0;
  for (let i = 0; i < batch; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      fail(fn, `must hold integer class ids, got ${describeValue(v)} at index ${i}`);
    }
    if (options.ignoreIndex !== undefined && v === options.ignoreIndex) {
      ids[i] = v;
      continue;
    }
    if (v < 0 || v >= classes) fail(fn, `must hold ${idsForm}, got ${v} at index ${i}`);
    ids[i] = v;
    labelled++;
  }
  return { kind: 'ids', ids, labelled };
}
