import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { kdLoss } from './kd-loss.js';
import { logitMatchingLoss } from './logit-matching-loss.js';

describe('logitMatchingLoss', () => {
  beforeAll(() => useBackend('cpu'));

  it('is the mean squared difference of the logits, with no gradient to the teacher', () => {
    const a = tf.tensor2d([
      [1, 2, 3],
      [0, 0, 1],
    ]);
    const b = tf.tensor2d([
      [0, 2, 5],
      [1, 0, 1],
    ]);
    expectClose(take(logitMatchingLoss(a, b)), [(1 + 0 + 4 + 1 + 0 + 0) / 6], 'mse');
    expectClose(
      take(tf.grad((x: tf.Tensor) => logitMatchingLoss(x as tf.Tensor2D, b))(a)),
      [1, 0, -2, -1, 0, 0].map((v) => v / 3),
      'grad',
    );
    const gTeacher = take(tf.grad((x: tf.Tensor) => logitMatchingLoss(a, x as tf.Tensor2D))(b));
    expect(gTeacher.every((v) => v === 0)).toBe(true);
    expectNoLeak(() => take(logitMatchingLoss(a, b)));
    tf.dispose([a, b]);
  });

  it("is KD's high-temperature limit: grad kdLoss -> grad logitMatchingLoss / 2 for zero-mean logits", () => {
    const s = [[0.5, -0.3, 0.1, -0.3]]; // zero-mean rows
    const t = [[-0.2, 0.4, 0.0, -0.2]];
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const gKd = take(tf.grad((x: tf.Tensor) => kdLoss(x as tf.Tensor2D, b, { temperature: 500 }))(a));
    const gLm = take(tf.grad((x: tf.Tensor) => logitMatchingLoss(x as tf.Tensor2D, b))(a));
    expectClose(
      gKd,
      gLm.map((v) => v / 2),
      'high-T limit',
      2e-2,
      1e-5,
    );
    tf.dispose([a, b]);
  });

  it('rejects mismatched shapes and ranks', () => {
    const a = tf.tensor2d([[1, 2, 3]]);
    const b = tf.tensor2d([[1, 2]]);
    const v = tf.tensor1d([1, 2, 3]);
    expectInvalid(() => logitMatchingLoss(a, b), /^logitMatchingLoss:/, /'teacherLogits'/, /same shape/);
    expectInvalid(() => logitMatchingLoss(v as never, a), /'studentLogits'/, /rank-2/);
    tf.dispose([a, b, v]);
  });
});
