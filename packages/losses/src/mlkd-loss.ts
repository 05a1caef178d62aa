import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { kdPerExample } from './kd-loss.js';
import { standardize } from './logit-standardization.js';
import { stopGradient } from './stop-gradient.js';
import { assertFlag, assertLogits, assertOptions, assertSameShape, assertTemperature } from './validate.js';

/** MLKD's temperatures (the paper's code: its base T = 4 and 2, 3, 5, 6). */
export const MLKD_TEMPERATURES: readonly number[] = [2, 3, 4, 5, 6];

/** Options of {@link mlkdLoss}. */
export interface MlkdLossOptions {
  /** The temperatures the three levels are summed over; default {@link MLKD_TEMPERATURES}. */
  temperatures?: readonly number[];
  /**
   * The paper's confidence masking; default true. Examples whose teacher confidence (top probability
   * at T = 1) is above the batch median, and classes whose summed teacher probability is above the
   * median class, are left out of the instance- and batch-level (examples) and class-level (classes) terms.
   */
  mask?: boolean;
  /** Standardise the logits (Sun et al. 2024) in the instance-level KD terms. Default false. */
  logitStandardization?: boolean;
}

/** MLKD's total and its three levels, all scalars the caller owns. */
export interface MlkdLossParts {
  loss: tf.Scalar;
  /** Sum over T of the (masked) per-example KD, `T^2 KL`. */
  instance: tf.Scalar;
  /** Sum over T of the (masked) class-level correlation term. */
  classLevel: tf.Scalar;
  /** Sum over T of the (masked) batch-level correlation term. */
  batchLevel: tf.Scalar;
}

/** Options of {@link classCorrelationLoss} and {@link batchCorrelationLoss}. */
export interface CorrelationLossOptions {
  /** Softmax temperature T > 0. */
  temperature: number;
}

/**
 * MLKD's class-level term (Jin, Wang and Lin, "Multi-Level Logit Distillation", CVPR 2023): the
 * squared difference of the class-correlation (Gram) matrices of the softened predictions,
 * `sum_{c,c'} (P_t^T P_t - P_s^T P_s)^2 / C`, `P = softmax(z / T)` as `[batch, classes]`.
 */
export function classCorrelationLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: CorrelationLossOptions,
): tf.Scalar {
  const [s, t, temperature] = checkPair('classCorrelationLoss', studentLogits, teacherLogits, options);
  return tf.tidy(() => gramTerm(s, t, temperature, 'class', undefined));
}

/**
 * MLKD's batch-level term: `sum_{i,j} (P_t P_t^T - P_s P_s^T)^2 / B`, the squared difference of the
 * examples' correlation matrices over the batch.
 */
export function batchCorrelationLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: CorrelationLossOptions,
): tf.Scalar {
  const [s, t, temperature] = checkPair('batchCorrelationLoss', studentLogits, teacherLogits, options);
  return tf.tidy(() => gramTerm(s, t, temperature, 'batch', undefined));
}

/**
 * Multi-level logit distillation (Jin, Wang and Lin, CVPR 2023) on one view of a batch: for every T of
 * `temperatures`, the instance-level KD `T^2 KL(p_t || p_s)`, the class-level and the batch-level
 * correlation terms, with the confidence masking (see {@link MlkdLossOptions.mask}), summed:
 *
 * `mlkd = sum_T [ (1/B) sum_i m_i KD_T(i) + sum_{c,c'} n_c' D_T[c,c']^2 / C + sum_{i,j} m_j E_T[i,j]^2 / B ]`,
 *
 * with `m` the example mask, `n` the class mask (all ones without masking), D and E the differences of
 * the class and batch Gram matrices. The paper's code multiplies already-reduced scalars by its masks, so
 * there the masks act as a constant factor of about one half; here they select examples and classes as
 * the paper describes. The weak/strong augmentation pairing is a recipe of the trainer (`mlkdViews`).
 *
 * @returns `{ loss, instance, classLevel, batchLevel }`.
 */
export function mlkdLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: MlkdLossOptions = {},
): MlkdLossParts {
  const fn = 'mlkdLoss';
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const opts = assertOptions<MlkdLossOptions>(fn, options, false);
  const temperatures = checkTemperatures(fn, opts.temperatures);
  const mask = opts.mask === undefined ? true : assertFlag(fn, 'mask', opts.mask);
  const ls = assertFlag(fn, 'logitStandardization', opts.logitStandardization);
  return tf.tidy(
    () => mlkdValue(s, t, temperatures, mask, ls) as unknown as tf.TensorContainerObject,
  ) as unknown as MlkdLossParts;
}

/** @internal Checks a non-empty list of temperatures > 0. */
export function checkTemperatures(fn: string, value: unknown, arg = 'temperatures'): readonly number[] {
  if (value === undefined) return MLKD_TEMPERATURES;
  if (!Array.isArray(value) || value.length === 0) {
    invalidArgument(fn, arg, 'a non-empty array of temperatures > 0', value);
  }
  for (const T of value) assertTemperature(fn, T, arg);
  return value as number[];
}

/** @internal Example and class masks (1 = kept) from the teacher's T = 1 predictions, inside a tidy. */
export function confidenceMasks(t: tf.Tensor): { examples: tf.Tensor; classes: tf.Tensor } {
  return { examples: exampleMask(t), classes: classMask(t) };
}

/** Wraps a mask function so it is a constant for the gradient (comparisons have no gradient function). */
function constantOf(f: (t: tf.Tensor) => tf.Tensor): (t: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: f(args[0] as tf.Tensor),
    gradFunc: (_dy: tf.Tensor) => tf.zerosLike(args[0] as tf.Tensor),
  }));
  return (t) => op(t);
}

const exampleMask = constantOf((t) => keepAtOrBelowMedian(tf.max(tf.softmax(t), 1)));
const classMask = constantOf((t) => keepAtOrBelowMedian(tf.sum(tf.softmax(t), 0)));

/** 1 where `v <= median(v)` (numpy's 50th percentile, linear interpolation), else 0. */
function keepAtOrBelowMedian(v: tf.Tensor): tf.Tensor {
  const n = v.shape[0]!;
  const sorted = tf.reverse(tf.topk(v, n).values);
  const lo = Math.floor((n - 1) / 2);
  const hi = Math.ceil((n - 1) / 2);
  const median = tf.mul(tf.add(tf.slice(sorted, [lo], [1]), tf.slice(sorted, [hi], [1])), 0.5);
  return tf.cast(tf.lessEqual(v, median), 'float32');
}

/** @internal {@link mlkdLoss} without checks, inside a tidy. */
export function mlkdValue(
  s: tf.Tensor,
  t: tf.Tensor,
  temperatures: readonly number[],
  mask: boolean,
  logitStandardization: boolean,
): MlkdLossParts {
  const masks = mask ? confidenceMasks(t) : undefined;
  const [ks, kt] = logitStandardization ? [standardize(s), standardize(t)] : [s, t];
  const batch = s.shape[0]!;
  const instance: tf.Tensor[] = [];
  const classLevel: tf.Tensor[] = [];
  const batchLevel: tf.Tensor[] = [];
  for (const T of temperatures) {
    const kd = kdPerExample(ks, kt, T);
    instance.push(tf.div(tf.sum(masks ? tf.mul(kd, masks.examples) : kd), batch));
    classLevel.push(gramTerm(s, t, T, 'class', masks?.classes));
    batchLevel.push(gramTerm(s, t, T, 'batch', masks?.examples));
  }
  const parts = {
    instance: tf.addN(instance) as tf.Scalar,
    classLevel: tf.addN(classLevel) as tf.Scalar,
    batchLevel: tf.addN(batchLevel) as tf.Scalar,
  };
  return { loss: tf.addN([parts.instance, parts.classLevel, parts.batchLevel]) as tf.Scalar, ...parts };
}

/**
 * `sum (G_t - G_s)^2 / n` with `G = P^T P` (class, n = C) or `P P^T` (batch, n = B); `columnMask` weights
 * the Gram matrices' columns (classes or examples).
 */
function gramTerm(
  s: tf.Tensor,
  t: tf.Tensor,
  temperature: number,
  level: 'class' | 'batch',
  columnMask: tf.Tensor | undefined,
): tf.Scalar {
  const ps = tf.softmax(tf.div(s, temperature)) as tf.Tensor2D;
  const pt = tf.softmax(tf.div(stopGradient(t), temperature)) as tf.Tensor2D;
  const gram = (p: tf.Tensor2D) =>
    level === 'class' ? tf.matMul(p, p, true, false) : tf.matMul(p, p, false, true);
  const d2 = tf.square(tf.sub(gram(pt), gram(ps)));
  const n = level === 'class' ? s.shape[1]! : s.shape[0]!;
  return tf.div(tf.sum(columnMask ? tf.mul(d2, columnMask) : d2), n) as tf.Scalar;
}

function checkPair(
  fn: string,
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: CorrelationLossOptions,
): [tf.Tensor, tf.Tensor, number] {
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const opts = assertOptions<CorrelationLossOptions>(fn, options, true);
  return [s, t, assertTemperature(fn, opts.temperature)];
}
