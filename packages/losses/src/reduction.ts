import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';

/**
 * How per-example losses become the returned tensor.
 *
 * - `'batchmean'`: sum over classes, mean over the batch (PyTorch `kl_div(reduction='batchmean')`,
 *   and the mathematically correct KL divergence per example). A scalar.
 * - `'sum'`: sum over classes and the batch. A scalar.
 * - `'none'`: one value per example, a `Tensor1D` of length `batch`.
 */
export type Reduction = 'batchmean' | 'sum' | 'none';

/** The reductions every loss in this package accepts. */
export const REDUCTIONS: readonly Reduction[] = ['batchmean', 'sum', 'none'];

/** @internal Checks `value` is a {@link Reduction} (or undefined, then `fallback`). */
export function resolveReduction(fn: string, value: unknown, fallback: Reduction = 'batchmean'): Reduction {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(REDUCTIONS as readonly string[]).includes(value)) {
    invalidArgument(fn, 'reduction', `one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')}`, value);
  }
  return value as Reduction;
}

/** @internal Applies a reduction to per-example losses `[batch]`. */
export function reduce(perExample: tf.Tensor1D, reduction: Reduction): tf.Tensor {
  if (reduction === 'none') return perExample;
  if (reduction === 'sum') return tf.sum(perExample);
  return tf.mean(perExample);
}
