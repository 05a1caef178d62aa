/**
 * Helpers the registry's logits-loss descriptors share: argument checks, the hard term, the mix.
 *
 * @internal
 */
import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyResolved, resolveLabelSmoothing } from './cross-entropy.js';
import type { LossParts } from './distillation-loss.js';
import { crossEntropyIdsFused, fusedHere } from './fused-row-losses.js';
import { type Labels, resolveLabels } from './labels.js';
import { checkTemperatureTensor } from './learnable-temperature.js';
import type { LogitsLossInput } from './registry.js';
import { assertLogits, assertSameShape, assertTemperature } from './validate.js';

/** The class id of an unlabelled example (the core `Batch` convention). */
export const UNLABELLED = -1;

export function teacherOf(fn: string, input: LogitsLossInput): tf.Tensor {
  if (input.teacherLogits === undefined) {
    invalidArgument(fn, 'teacherLogits', 'a [batch, classes] float32 tensor', undefined);
  }
  return input.teacherLogits;
}

/** `{ loss: alpha * soft + (1 - alpha) * hard, soft, hard }`. */
export function weighted(soft: tf.Scalar, hard: tf.Scalar, alpha: number): LossParts {
  const loss = tf.tidy(() => tf.add(tf.mul(soft, alpha), tf.mul(hard, 1 - alpha)) as tf.Scalar);
  return { loss, soft, hard };
}

export function checkAlpha(fn: string, alpha: unknown): number {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
    invalidArgument(fn, 'alpha', 'a number in [0, 1]', alpha);
  }
  return alpha;
}

/** Hard term for the registry: cross-entropy with -1 marking unlabelled examples. */
export function hardTerm(fn: string, student: tf.Tensor, labels: Labels, labelSmoothing: unknown): tf.Scalar {
  const s = assertLogits(fn, 'studentLogits', student);
  const eps = resolveLabelSmoothing(fn, labelSmoothing);
  const [batch, classes] = s.shape as [number, number];
  const resolved = resolveLabels(fn, labels, batch, classes, {
    probabilities: true,
    ignoreIndex: UNLABELLED,
  });
  // On cpu and wasm, class ids take one fused op (value and gradient in one pass); elsewhere, and for
  // probability labels, the composed ops.
  if (resolved.kind === 'ids' && fusedHere()) {
    return crossEntropyIdsFused(s, resolved.ids, resolved.labelled, eps);
  }
  return crossEntropyResolved(s, resolved, eps, 'batchmean') as tf.Scalar;
}

/**
 * The checked student and teacher logits, alpha, and the temperature: `temperatureTensor` (CTKD's
 * learnable one) when given, else the number `temperature`.
 */
export function checkedInput(
  fn: string,
  opts: LogitsLossInput,
): { s: tf.Tensor; t: tf.Tensor; alpha: number; temperature: number | tf.Tensor } {
  const teacher = teacherOf(fn, opts);
  const alpha = checkAlpha(fn, opts.alpha);
  const s = assertLogits(fn, 'studentLogits', opts.studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacher);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const temperature =
    opts.temperatureTensor === undefined
      ? assertTemperature(fn, opts.temperature)
      : checkTemperatureTensor(fn, 'temperatureTensor', opts.temperatureTensor, s.shape[0]!);
  return { s, t, alpha, temperature };
}

/**
 * A target class for every example (DKD, NKD): the label, or for an unlabelled example (and for
 * probability rows) the teacher's top class, read back once.
 */
export function targetIds(fn: string, labels: Labels, teacher: tf.Tensor): Int32Array {
  const [batch, classes] = teacher.shape as [number, number];
  if (classes < 2)
    invalidArgument(fn, 'studentLogits', 'a [batch, classes] tensor with classes >= 2', teacher);
  const resolved = resolveLabels(fn, labels, batch, classes, {
    probabilities: true,
    ignoreIndex: UNLABELLED,
  });
  if (resolved.kind === 'ids' && resolved.labelled === batch) return resolved.ids;
  const source = resolved.kind === 'ids' ? teacher : (labels as tf.Tensor2D);
  const top = tf.tidy(() => tf.argMax(source, 1));
  const topIds = top.dataSync() as Int32Array;
  top.dispose();
  return resolved.kind === 'ids'
    ? resolved.ids.map((id, i) => (id < 0 ? topIds[i]! : id))
    : Int32Array.from(topIds);
}
