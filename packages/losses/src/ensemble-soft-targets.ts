import { describeValue, InvalidArgumentError, invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient.js';
import { assertLogits, assertOptions, assertSameShape, assertTemperature } from './validate.js';

/** Options of {@link ensembleSoftTargets}. */
export interface EnsembleSoftTargetsOptions {
  /** Softmax temperature T applied to every teacher, a finite number > 0. */
  temperature: number;
  /** One weight >= 0 per teacher, not all 0; normalised to sum to 1. Default: equal weights. */
  weights?: readonly number[];
}

/**
 * Soft targets of an ensemble of teachers (Hinton et al. 2015, section 2; multi-teacher KD): the
 * weighted average of the teachers' **probabilities**, not of their logits,
 *
 * `p = sum_k w_k * softmax(t_k / T) / sum_k w_k`.
 *
 * Averaging probabilities keeps each teacher's distribution (averaging logits would not be a mixture
 * of them). The result carries no gradient to the teachers. Use it as the target of
 * {@link kdLossFromSoftTargets}.
 *
 * @param teacherLogitsList - one or more `[batch, classes]` float32 logits tensors of the same shape.
 * @returns `[batch, classes]` probabilities; each row sums to 1.
 * @throws InvalidArgumentError for an empty list, mismatched shapes, T <= 0 or bad weights.
 */
export function ensembleSoftTargets(
  teacherLogitsList: readonly tf.Tensor[],
  options: EnsembleSoftTargetsOptions,
): tf.Tensor2D {
  const fn = 'ensembleSoftTargets';
  if (!Array.isArray(teacherLogitsList) || teacherLogitsList.length === 0) {
    invalidArgument(
      fn,
      'teacherLogitsList',
      'a non-empty array of [batch, classes] logits tensors',
      teacherLogitsList,
    );
  }
  const first = assertLogits(fn, 'teacherLogitsList[0]', teacherLogitsList[0]);
  teacherLogitsList.forEach((t, k) => {
    assertLogits(fn, `teacherLogitsList[${k}]`, t);
    assertSameShape(fn, 'teacherLogitsList[0]', first, `teacherLogitsList[${k}]`, t);
  });
  const opts = assertOptions<EnsembleSoftTargetsOptions>(fn, options, true);
  const temperature = assertTemperature(fn, opts.temperature);
  const n = teacherLogitsList.length;
  let weights: number[];
  if (opts.weights === undefined) {
    weights = new Array<number>(n).fill(1 / n);
  } else {
    const w = opts.weights;
    if (!Array.isArray(w) || w.length !== n) {
      invalidArgument(fn, 'weights', `an array of ${n} numbers (one per teacher)`, w);
    }
    w.forEach((v, k) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        invalidArgument(fn, `weights[${k}]`, 'a finite number >= 0', v);
      }
    });
    const total = w.reduce((a, b) => a + b, 0);
    if (!(total > 0)) {
      throw new InvalidArgumentError(
        `${fn}: argument 'weights' must have a positive sum, got ${describeValue(w)} summing to ${total}`,
        { where: `${fn}(weights)` },
      );
    }
    weights = w.map((v) => v / total);
  }
  return tf.tidy(() => {
    const probs = teacherLogitsList.map((t, k) =>
      tf.mul(tf.exp(tf.logSoftmax(tf.div(stopGradient(t), temperature))), weights[k]!),
    );
    return (probs.length === 1 ? probs[0]! : tf.addN(probs)) as tf.Tensor2D;
  });
}
