import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { logSoftmax } from './__fixtures__/reference.js';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { ensembleSoftTargets } from './ensemble-soft-targets.js';
import { softTargets } from './soft-targets.js';

const t1 = [
  [4, 0, 0],
  [0, 1, 2],
];
const t2 = [
  [0, 4, 0],
  [2, 1, 0],
];

describe('ensembleSoftTargets', () => {
  beforeAll(() => useBackend('cpu'));

  it('averages probabilities (not logits) with normalised weights', () => {
    const a = tf.tensor2d(t1);
    const b = tf.tensor2d(t2);
    const T = 2;
    const expected = t1.flatMap((row, n) => {
      const p1 = logSoftmax(row, T).map(Math.exp);
      const p2 = logSoftmax(t2[n]!, T).map(Math.exp);
      return p1.map((v, i) => 0.25 * v + 0.75 * p2[i]!);
    });
    expectClose(take(ensembleSoftTargets([a, b], { temperature: T, weights: [1, 3] })), expected, 'weighted');
    expectClose(
      take(ensembleSoftTargets([a, b], { temperature: T, weights: [10, 30] })),
      expected,
      'scale-free',
    );
    const equal = take(ensembleSoftTargets([a, b], { temperature: T }));
    const mixedLogits = take(softTargets(tf.tidy(() => tf.div(tf.add(a, b), 2)) as tf.Tensor2D, T));
    expect(Math.abs(equal[0]! - mixedLogits[0]!)).toBeGreaterThan(0.01); // probabilities, not logits
    expectClose(take(ensembleSoftTargets([a], { temperature: T })), take(softTargets(a, T)), 'one teacher');
    const gTeacher = take(
      tf.grad((x: tf.Tensor) => tf.sum(ensembleSoftTargets([x as tf.Tensor2D, b], { temperature: T })))(a),
    );
    expect(gTeacher.every((v) => v === 0)).toBe(true);
    expectNoLeak(() => take(ensembleSoftTargets([a, b], { temperature: T, weights: [1, 2] })));
    tf.dispose([a, b]);
  });

  it('rejects empty lists, mismatched shapes and bad weights', () => {
    const a = tf.tensor2d(t1);
    const c = tf.zeros([2, 4]) as tf.Tensor2D;
    expectInvalid(
      () => ensembleSoftTargets([], { temperature: 1 }),
      /^ensembleSoftTargets:/,
      /'teacherLogitsList'/,
      /non-empty/,
    );
    expectInvalid(
      () => ensembleSoftTargets([a, c], { temperature: 1 }),
      /'teacherLogitsList\[1\]'/,
      /same shape/,
    );
    expectInvalid(
      () => ensembleSoftTargets([a, a], { temperature: 1, weights: [1] }),
      /'weights'/,
      /2 numbers/,
    );
    expectInvalid(
      () => ensembleSoftTargets([a, a], { temperature: 1, weights: [1, -1] }),
      /'weights\[1\]'/,
      />= 0/,
    );
    expectInvalid(
      () => ensembleSoftTargets([a, a], { temperature: 1, weights: [0, 0] }),
      /'weights'/,
      /positive sum/,
    );
    expectInvalid(() => ensembleSoftTargets([a], { temperature: 0 }), /'temperature'/);
    tf.dispose([a, c]);
  });
});
