import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { kdPerExample } from './kd-loss.js';
import { assertLogits, assertSameShape, assertTensor } from './validate.js';

/**
 * Gradient reversal (Ganin and Lempitsky 2015): the identity in the forward pass; in the backward pass
 * the gradient is multiplied by `-lambda`. CTKD (Li et al., AAAI 2023) puts its learnable temperature
 * behind one, so the temperature climbs the distillation loss while the student descends it.
 *
 * @param x - any tensor.
 * @param lambda - a finite number >= 0.
 */
export function gradientReversal<T extends tf.Tensor>(x: T, lambda: number): T {
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) {
    invalidArgument('gradientReversal', 'lambda', 'a finite number >= 0', lambda);
  }
  assertTensor('gradientReversal', 'x', x);
  const reverse = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.clone(args[0] as tf.Tensor),
    gradFunc: (dy: tf.Tensor) => tf.mul(dy, -lambda),
  }));
  return reverse(x) as T;
}

/** Options of {@link ctkdLambda}. */
export interface CtkdLambdaOptions {
  /** Epochs over which lambda rises from 0 to `max` (the paper's code: 10). Default 10. */
  loops?: number;
  /** The final reversal weight. Default 1. */
  max?: number;
}

/**
 * CTKD's curriculum for the reversal weight: a cosine rise from 0 at epoch 0 to `max` at epoch
 * `loops`, then constant,
 *
 * `lambda(e) = max * (1 - cos(pi * min(e, loops) / loops)) / 2`.
 *
 * (The paper's code writes it as a "cosine decay" from 0 to -1 and multiplies the gradient by that
 * value; the result is the same.)
 */
export function ctkdLambda(epoch: number, options: CtkdLambdaOptions = {}): number {
  const loops = options.loops ?? 10;
  const max = options.max ?? 1;
  if (!(Number.isFinite(epoch) && epoch >= 0)) invalidArgument('ctkdLambda', 'epoch', 'a number >= 0', epoch);
  if (!(Number.isInteger(loops) && loops >= 1))
    invalidArgument('ctkdLambda', 'loops', 'an integer >= 1', loops);
  if (!(Number.isFinite(max) && max >= 0)) invalidArgument('ctkdLambda', 'max', 'a finite number >= 0', max);
  return (max * (1 - Math.cos((Math.PI * Math.min(epoch, loops)) / loops))) / 2;
}

/**
 * Hinton's KD at a temperature given as a tensor, so the temperature can be learned (CTKD):
 * `mean_i T_i^2 KL(softmax(t_i / T_i) || softmax(s_i / T_i))`, with `T` a scalar (global) or a
 * `[batch, 1]` tensor (one temperature per example). The gradient flows to the student and to `T`
 * (`d kd / d T` before any reversal); the teacher carries none.
 */
export function kdLossAtTemperature(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  temperature: tf.Tensor,
): tf.Scalar {
  const fn = 'kdLossAtTemperature';
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  checkTemperatureTensor(fn, 'temperature', temperature, s.shape[0]!);
  return tf.tidy(() => tf.mean(kdPerExample(s, t, temperature)) as tf.Scalar);
}

/** @internal Checks a learnable temperature: a float32 scalar or `[batch, 1]` tensor. */
export function checkTemperatureTensor(fn: string, arg: string, value: unknown, batch: number): tf.Tensor {
  const what = `a float32 scalar or [${batch}, 1] tensor`;
  const T = assertTensor(fn, arg, value, undefined, what);
  const ok = T.rank === 0 || (T.rank === 2 && T.shape[0] === batch && T.shape[1] === 1);
  if (!ok) invalidArgument(fn, arg, what, T);
  return T;
}
