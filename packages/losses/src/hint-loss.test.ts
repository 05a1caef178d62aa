import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { hintLoss } from './hint-loss.js';

describe('hintLoss', () => {
  beforeAll(() => useBackend('cpu'));

  it('is the MSE between features of any rank, with no gradient to the teacher', () => {
    const s = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 2, 2]);
    const t = tf.tensor4d([1, 1, 3, 3, 5, 5, 7, 7], [1, 2, 2, 2]);
    expectClose(take(hintLoss(s, t)), [(0 + 1 + 0 + 1 + 0 + 1 + 0 + 1) / 8], 'mse');
    const gTeacher = take(tf.grad((x: tf.Tensor) => hintLoss(s, x))(t));
    expect(gTeacher.every((v) => v === 0)).toBe(true);
    expectNoLeak(() => take(hintLoss(s, t)));
    tf.dispose([s, t]);
  });

  it("applies the caller's regressor (a 1x1 conv / dense map) and trains it", () => {
    // student: [1, 2, 2, 1] features; teacher: [1, 2, 2, 3]; regressor: a 1x1 conv = matmul over channels
    const s = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const t = tf.tensor4d([1, 2, 3, 2, 4, 6, 3, 6, 9, 4, 8, 12], [1, 2, 2, 3]);
    const w = tf.variable(tf.tensor2d([[1, 1, 1]]));
    const regressor = (x: tf.Tensor) => tf.reshape(tf.matMul(tf.reshape(x, [-1, 1]), w), [1, 2, 2, 3]);
    // r(s) per position = [v, v, v]; t = [v, 2v, 3v] -> errors [0, v, 2v], v = 1..4
    const expected = [1, 2, 3, 4].reduce((acc, v) => acc + v * v + 4 * v * v, 0) / 12;
    expectClose(take(hintLoss(s, t, { regressor })), [expected], 'with regressor');
    const { grads, value } = tf.variableGrads(() => hintLoss(s, t, { regressor }), [w]);
    const gw = take(grads[w.name]!);
    // d/dw_k of mean (s*w_k - t_k)^2 = 2 * sum_pos s (s w_k - t_k) / 12; with w = 1: t_k = (k+1) s
    const ss = 1 + 4 + 9 + 16;
    expectClose(gw, [0, (2 * -1 * ss) / 12, (2 * -2 * ss) / 12], 'regressor gradient');
    expectNoLeak(() => take(hintLoss(s, t, { regressor })));
    tf.dispose([s, t, w, value]);
  });

  it('rejects mismatched shapes (with or without a regressor) and bad regressors', () => {
    const s = tf.zeros([2, 4, 4, 8]);
    const t = tf.zeros([2, 4, 4, 16]);
    const other = tf.zeros([3, 4, 4, 8]);
    expectInvalid(
      () => hintLoss(s, t),
      /^hintLoss:/,
      /'studentFeatures'/,
      /\[2, 4, 4, 8\]/,
      /\[2, 4, 4, 16\]/,
      /regressor/,
    );
    expectInvalid(() => hintLoss(s, other), /^hintLoss:/, /batch size/);
    expectInvalid(
      () => hintLoss(s, t, { regressor: (x) => tf.mul(x, 2) }),
      /'regressor\(studentFeatures\)'/,
      /\[2, 4, 4, 16\]/,
    );
    expectInvalid(() => hintLoss(s, t, { regressor: 3 as never }), /'regressor'/, /function/);
    expectInvalid(() => hintLoss(s, t, { regressor: () => 3 as never }), /'regressor' must return a tensor/);
    tf.dispose([s, t, other]);
  });
});
