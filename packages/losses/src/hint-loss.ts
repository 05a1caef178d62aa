import { describeValue, InvalidArgumentError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient.js';
import { assertOptions, assertTensor, isTensor } from './validate.js';

/** Options of {@link hintLoss}. */
export interface HintLossOptions {
  /**
   * FitNets' regressor: maps the student's features to the teacher's shape (typically a learned 1x1
   * convolution or dense layer, e.g. `(x) => regressorLayer.apply(x) as Tensor`). Its weights are
   * trained with the student. Default: identity (the shapes must then already match).
   */
  regressor?: (x: tf.Tensor) => tf.Tensor;
}

/**
 * FitNets hint loss (Romero et al., "FitNets: Hints for Thin Deep Nets", ICLR 2015): the mean squared
 * error between the (regressed) student features and the teacher's features at a hint layer,
 *
 * `hint = mean((r(f_s) - f_t)^2)`
 *
 * over every element (PyTorch `mse_loss`, as torchdistill uses; the paper's `1/2 ||.||^2` differs by a
 * constant). Works for any rank (NHWC feature maps `[b, h, w, c]`, or `[b, d]` vectors). The teacher
 * carries no gradient; the regressor does.
 *
 * @param studentFeatures - float32 student features `[batch, ...]`.
 * @param teacherFeatures - float32 teacher features, the shape of `regressor(studentFeatures)`.
 * @returns a scalar.
 * @throws InvalidArgumentError when batch sizes differ or the (regressed) shapes do not match.
 */
export function hintLoss(
  studentFeatures: tf.Tensor,
  teacherFeatures: tf.Tensor,
  options?: HintLossOptions,
): tf.Scalar {
  const fn = 'hintLoss';
  const s = assertTensor(fn, 'studentFeatures', studentFeatures);
  const t = assertTensor(fn, 'teacherFeatures', teacherFeatures);
  const opts = assertOptions<HintLossOptions>(fn, options, false);
  if (opts.regressor !== undefined && typeof opts.regressor !== 'function') {
    throw new InvalidArgumentError(
      `${fn}: argument 'regressor' must be a function (x: Tensor) => Tensor, got ${describeValue(opts.regressor)}`,
      { where: `${fn}(regressor)` },
    );
  }
  if (s.rank < 1 || t.rank < 1 || s.shape[0] !== t.shape[0]) {
    throw new InvalidArgumentError(
      `${fn}: arguments 'studentFeatures' ${describeValue(s)} and 'teacherFeatures' ${describeValue(t)} must have the same batch size`,
      { where: `${fn}(teacherFeatures)` },
    );
  }
  const regressor = opts.regressor;
  if (regressor === undefined) checkShapes(fn, 'studentFeatures', s, t);
  return tf.tidy(() => {
    const r = regressor === undefined ? s : regressor(s);
    if (!isTensor(r)) {
      throw new InvalidArgumentError(`${fn}: 'regressor' must return a tensor, got ${describeValue(r)}`, {
        where: `${fn}(regressor)`,
      });
    }
    if (regressor !== undefined) checkShapes(fn, 'regressor(studentFeatures)', r, t);
    return tf.mean(tf.squaredDifference(r, stopGradient(t))) as tf.Scalar;
  });
}

function checkShapes(fn: string, what: string, a: tf.Tensor, t: tf.Tensor): void {
  const same = a.shape.length === t.shape.length && a.shape.every((d, i) => d === t.shape[i]);
  if (!same) {
    throw new InvalidArgumentError(
      `${fn}: '${what}' has shape [${a.shape.join(', ')}] but 'teacherFeatures' has shape [${t.shape.join(', ')}]; ` +
        'they must match (pass a regressor that maps the student features to the teacher shape)',
      { where: `${fn}(teacherFeatures)` },
    );
  }
}
