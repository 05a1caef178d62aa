import { assertInRange } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyResolved, resolveIgnoreIndex, resolveLabelSmoothing } from './cross-entropy.js';
import {
  distillationFused,
  distillationLossFused,
  type FusedDistillationInput,
} from './distillation-loss-fused.js';
import { fusedHere } from './fused-row-losses.js';
import { kdPerExample } from './kd-loss.js';
import { type Labels, type ResolvedLabels, resolveLabels } from './labels.js';
import { assertLogits, assertOptions, assertSameShape, assertTemperature } from './validate.js';

/** Options of {@link distillationLoss} and {@link distillationLossParts}. */
export interface DistillationLossOptions {
  /** Softmax temperature T of the soft term, a finite number > 0. */
  temperature: number;
  /** Weight of the soft (KD) term in [0, 1]; the hard (label) term gets `1 - alpha`. */
  alpha: number;
  /** Label smoothing of the hard term (PyTorch convention, see `crossEntropy`). Default 0. */
  labelSmoothing?: number;
  /** Class id of unlabelled examples in the hard term (the core `Batch` uses -1). Default: none. */
  ignoreIndex?: number;
}

/** The total loss and the two terms it is made of, all scalars, for logging. */
export interface LossParts {
  /** What to minimise. */
  loss: tf.Scalar;
  /** The teacher term (KD, DKD, logit matching...), before weighting. */
  soft: tf.Scalar;
  /** The label term (cross-entropy with the labels), before weighting. */
  hard: tf.Scalar;
}

/**
 * Hinton's distillation objective,
 *
 * `loss = alpha * kdLoss(s, t; T) + (1 - alpha) * crossEntropy(s, y)`,
 *
 * where kdLoss already carries the T^2 factor (so alpha means the same thing at every T) and the
 * cross-entropy is at T = 1. The teacher carries no gradient. On the cpu and wasm backends with class-id
 * labels it runs as one fused op (value and gradient in one float64 pass over the rows); elsewhere, and for
 * probability labels, as composed tensor ops.
 *
 * @param studentLogits - `[batch, classes]` float32 logits of the student.
 * @param teacherLogits - `[batch, classes]` float32 logits of the teacher.
 * @param labels - class ids or probability rows, see {@link Labels}.
 * @returns the scalar loss; {@link distillationLossParts} also returns the two terms.
 * @throws InvalidArgumentError for bad shapes, T <= 0, alpha outside [0, 1] or bad labels.
 */
export function distillationLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: Labels,
  options: DistillationLossOptions,
): tf.Scalar {
  const v = validate('distillationLoss', studentLogits, teacherLogits, labels, options);
  if (v.fused !== undefined) return distillationLossFused(v.s, v.t, v.fused);
  const parts = composedParts(v);
  tf.dispose([parts.soft, parts.hard]);
  return parts.loss;
}

/**
 * {@link distillationLoss} with its two terms: `soft` = kdLoss (T^2-scaled, batchmean), `hard` =
 * cross-entropy with the labels, `loss = alpha * soft + (1 - alpha) * hard`. The caller owns (and
 * disposes) all three scalars.
 */
export function distillationLossParts(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: Labels,
  options: DistillationLossOptions,
): LossParts {
  const v = validate('distillationLossParts', studentLogits, teacherLogits, labels, options);
  if (v.fused !== undefined) {
    const fused = v.fused;
    const [loss, soft, hard] = tf.tidy(() => tf.unstack(distillationFused(v.s, v.t, fused))) as tf.Scalar[];
    return { loss: loss as tf.Scalar, soft: soft as tf.Scalar, hard: hard as tf.Scalar };
  }
  return composedParts(v);
}

interface Validated {
  readonly s: tf.Tensor;
  readonly t: tf.Tensor;
  readonly temperature: number;
  readonly alpha: number;
  readonly eps: number;
  readonly resolved: ResolvedLabels;
  /** Set on cpu and wasm with class-id labels: the fused op's input. */
  readonly fused: FusedDistillationInput | undefined;
}

function validate(
  fn: string,
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  labels: Labels,
  options: DistillationLossOptions,
): Validated {
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const opts = assertOptions<DistillationLossOptions>(fn, options, true);
  const temperature = assertTemperature(fn, opts.temperature);
  assertInRange(fn, 'alpha', opts.alpha, 0, 1);
  const alpha = opts.alpha;
  const eps = resolveLabelSmoothing(fn, opts.labelSmoothing);
  const ignoreIndex = resolveIgnoreIndex(fn, opts.ignoreIndex);
  const [batch, classes] = s.shape as [number, number];
  const resolved = resolveLabels(fn, labels, batch, classes, { probabilities: true, ignoreIndex });
  // On cpu and wasm (logits in CPU memory) one fused op: value and gradient in one float64 pass.
  const fused =
    resolved.kind === 'ids' && fusedHere()
      ? { ids: resolved.ids, labelled: resolved.labelled, temperature, alpha, labelSmoothing: eps }
      : undefined;
  return { s, t, temperature, alpha, eps, resolved, fused };
}

function composedParts({ s, t, temperature, alpha, eps, resolved }: Validated): LossParts {
  return tf.tidy(() => {
    const soft = tf.mean(kdPerExample(s, t, temperature)) as tf.Scalar;
    const hard = crossEntropyResolved(s, resolved, eps, 'batchmean') as tf.Scalar;
    const loss = tf.add(tf.mul(soft, alpha), tf.mul(hard, 1 - alpha)) as tf.Scalar;
    return { loss, soft, hard };
  });
}
