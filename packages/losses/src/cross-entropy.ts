import { assertInRange, assertInteger, invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { type Labels, type ResolvedLabels, resolveLabels } from './labels.js';
import { type Reduction, resolveReduction } from './reduction.js';
import { assertLogits, assertOptions } from './validate.js';

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /**
   * Label smoothing eps in [0, 1), PyTorch convention: the target becomes `(1 - eps) * y + eps / C`,
   * i.e. eps is spread uniformly over **all** C classes (the true class keeps `1 - eps + eps / C`).
   * Default 0.
   */
  labelSmoothing?: number;
  /**
   * Default `'batchmean'`: the mean over the (labelled) examples, PyTorch's `reduction='mean'`.
   * `'sum'` sums over examples; `'none'` returns a `[batch]` tensor (0 for ignored examples).
   */
  reduction?: Reduction;
  /**
   * A class id that marks an unlabelled example (the core `Batch` uses -1). Such examples add 0 and
   * are left out of the mean, like PyTorch's `ignore_index`; a batch with no labelled example gives 0
   * (PyTorch gives NaN). Default: none, so every id must be in [0, C).
   */
  ignoreIndex?: number;
}

/**
 * Softmax cross-entropy between logits and labels:
 *
 * `ce_n = -sum_i y'_n,i * log softmax(z_n)_i`, with `y' = (1 - eps) * y + eps / C`,
 *
 * where `y` is the one-hot row of a class id or a given probability row. Matches
 * `torch.nn.functional.cross_entropy(z, y, label_smoothing=eps, ignore_index=...)` for ids and for
 * probability targets. Log-probabilities come from `logSoftmax`, so any finite logits give a finite loss.
 *
 * @param logits - `[batch, classes]` float32 logits.
 * @param labels - class ids (`Tensor1D`, `Int32Array`, `number[]`) or `[batch, classes]` probabilities;
 *   see {@link Labels}. Tensor labels are read back once to validate them.
 * @returns a scalar (`[batch]` for `reduction: 'none'`).
 * @throws InvalidArgumentError for ids out of range or not integers, probability rows that are not
 *   distributions, shape or rank mismatches, or eps outside [0, 1).
 */
export function crossEntropy(
  logits: tf.Tensor,
  labels: Labels,
  options?: CrossEntropyOptions & { reduction?: 'batchmean' | 'sum' },
): tf.Scalar;
export function crossEntropy(
  logits: tf.Tensor,
  labels: Labels,
  options: CrossEntropyOptions & { reduction: 'none' },
): tf.Tensor1D;
export function crossEntropy(logits: tf.Tensor, labels: Labels, options?: CrossEntropyOptions): tf.Tensor;
export function crossEntropy(logits: tf.Tensor, labels: Labels, options?: CrossEntropyOptions): tf.Tensor {
  const fn = 'crossEntropy';
  const z = assertLogits(fn, 'logits', logits);
  const opts = assertOptions<CrossEntropyOptions>(fn, options, false);
  const eps = resolveLabelSmoothing(fn, opts.labelSmoothing);
  const reduction = resolveReduction(fn, opts.reduction);
  const ignoreIndex = resolveIgnoreIndex(fn, opts.ignoreIndex);
  const [batch, classes] = z.shape as [number, number];
  const resolved = resolveLabels(fn, labels, batch, classes, { probabilities: true, ignoreIndex });
  return crossEntropyResolved(z, resolved, eps, reduction);
}

/** @internal Checks a label-smoothing eps in [0, 1). */
export function resolveLabelSmoothing(fn: string, value: unknown): number {
  if (value === undefined) return 0;
  assertInRange(fn, 'labelSmoothing', value, 0, 1);
  if (value === 1) invalidArgument(fn, 'labelSmoothing', 'a number in [0, 1)', value);
  return value;
}

/** @internal Checks an ignore index: an integer < 0 (so it can never be a class id) or undefined. */
export function resolveIgnoreIndex(fn: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  assertInteger(fn, 'ignoreIndex', value, Number.MIN_SAFE_INTEGER);
  if (value >= 0) invalidArgument(fn, 'ignoreIndex', 'a negative integer (e.g. -1) or undefined', value);
  return value;
}

/** @internal Cross-entropy on validated inputs; allocates inside `tidy`. */
export function crossEntropyResolved(
  z: tf.Tensor,
  labels: ResolvedLabels,
  eps: number,
  reduction: Reduction,
): tf.Tensor {
  const [batch, classes] = z.shape as [number, number];
  return tf.tidy(() => {
    const logP = tf.logSoftmax(z);
    let target: tf.Tensor;
    let count = batch;
    if (labels.kind === 'ids') {
      // Built on the CPU and uploaded once: smoothed one-hot rows, zero rows for ignored examples.
      const rows = new Float32Array(batch * classes);
      const off = eps / classes;
      for (let i = 0; i < batch; i++) {
        const id = labels.ids[i]!;
        if (id < 0) continue;
        rows.fill(off, i * classes, (i + 1) * classes);
        rows[i * classes + id] = 1 - eps + off;
      }
      target = tf.tensor2d(rows, [batch, classes]);
      count = labels.labelled;
    } else {
      target = eps === 0 ? labels.probs : tf.add(tf.mul(labels.probs, 1 - eps), eps / classes);
    }
    const perExample = tf.neg(tf.sum(tf.mul(target, logP), 1));
    if (reduction === 'none') return perExample;
    const total = tf.sum(perExample);
    if (reduction === 'sum') return total;
    return tf.div(total, Math.max(count, 1));
  });
}
