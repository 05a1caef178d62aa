import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { logSoftmax } from './__fixtures__/reference.js';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { logSoftTargets, softTargets } from './soft-targets.js';

describe('softTargets and logSoftTargets', () => {
  beforeAll(() => useBackend('cpu'));

  it('are softmax(z / T) and its log, rows summing to 1, for any magnitude and temperature', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 2, maxLength: 12 }),
        fc.double({ min: 0.05, max: 100, noNaN: true }),
        (row, T) => {
          const z = tf.tensor2d([row]);
          const p = take(softTargets(z, T));
          const logp = take(logSoftTargets(z, T));
          z.dispose();
          const ref = logSoftmax(row, T);
          expect(p.every(Number.isFinite) && logp.every(Number.isFinite)).toBe(true);
          expect(Math.abs(p.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
          expectClose(p, ref.map(Math.exp), 'p', 1e-4, 1e-6);
          // log-probabilities are accurate to float32 rounding of z / T
          const scale = Math.max(...row.map(Math.abs)) / T;
          expectClose(logp, ref, 'log p', 1e-4, 1e-5 + 1e-6 * scale);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('are a one-hot argmax at low T and uniform at high T', () => {
    const z = tf.tensor2d([[1, 3, 2]]);
    expectClose(take(softTargets(z, 0.01)), [0, 1, 0], 'T -> 0');
    expectClose(take(softTargets(z, 1e6)), [1 / 3, 1 / 3, 1 / 3], 'T -> inf');
    z.dispose();
  });

  it('leak nothing and reject bad input', () => {
    const z = tf.tensor2d([[1, 2]]);
    expectNoLeak(() => take(softTargets(z, 2)));
    expectInvalid(() => softTargets(z, 0), /^softTargets:/, /'temperature'/, /> 0/);
    expectInvalid(() => logSoftTargets(z, -1), /^logSoftTargets:/, /'temperature'/);
    const v = tf.tensor1d([1, 2]);
    expectInvalid(() => softTargets(v as never, 1), /^softTargets:/, /'logits'/, /rank-2/, /\[2\]/);
    const empty = tf.zeros([0, 3]);
    expectInvalid(() => softTargets(empty as tf.Tensor2D, 1), /'logits'/, /non-empty/);
    tf.dispose([z, v, empty]);
  });
});
