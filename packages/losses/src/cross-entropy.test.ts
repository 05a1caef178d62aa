import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { logSoftmax } from './__fixtures__/reference.js';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { crossEntropy } from './cross-entropy.js';

/** PyTorch's definition, float64: (1 - eps) * nll + eps * mean_j(-log p_j), mean over labelled rows. */
function reference(logits: number[][], labels: number[], eps = 0, ignore?: number): number {
  let total = 0;
  let count = 0;
  logits.forEach((row, n) => {
    if (labels[n] === ignore) return;
    const lp = logSoftmax(row);
    total += -(1 - eps) * lp[labels[n]!]! - (eps * lp.reduce((a, b) => a + b, 0)) / row.length;
    count++;
  });
  return count === 0 ? 0 : total / count;
}

const logits = [
  [2, -1, 0.5, 0],
  [-3, 4, 1, 1],
  [0, 0, 0, 10],
];
const labels = [0, 3, 3];

describe('crossEntropy', () => {
  beforeAll(() => useBackend('cpu'));

  it('matches the PyTorch definition with and without label smoothing, on random inputs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 9 }).chain((classes) =>
          fc.tuple(
            fc.array(
              fc.tuple(
                fc.array(fc.double({ min: -50, max: 50, noNaN: true }), {
                  minLength: classes,
                  maxLength: classes,
                }),
                fc.integer({ min: 0, max: classes - 1 }),
              ),
              { minLength: 1, maxLength: 5 },
            ),
            fc.double({ min: 0, max: 0.5, noNaN: true }),
          ),
        ),
        ([examples, eps]) => {
          const z = examples.map((e) => e[0]);
          const y = examples.map((e) => e[1]);
          const zt = tf.tensor2d(z);
          const got = take(crossEntropy(zt, y, { labelSmoothing: eps }));
          zt.dispose();
          expectClose(got, [reference(z, y, eps)], `ce eps=${eps}`);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('gives the same value for int32 ids, float ids, Int32Array, number[] and one-hot rows', () => {
    const z = tf.tensor2d(logits);
    const ids = tf.tensor1d(labels, 'int32');
    const floatIds = tf.tensor1d(labels, 'float32');
    const oneHot = tf.cast(tf.oneHot(ids, 4), 'float32') as tf.Tensor2D;
    const expected = [reference(logits, labels)];
    expectClose(take(crossEntropy(z, ids)), expected, 'int32 ids');
    expectClose(take(crossEntropy(z, floatIds)), expected, 'float ids');
    expectClose(take(crossEntropy(z, Int32Array.from(labels))), expected, 'Int32Array');
    expectClose(take(crossEntropy(z, labels)), expected, 'number[]');
    expectClose(take(crossEntropy(z, oneHot)), expected, 'one-hot');
    const smoothed = [reference(logits, labels, 0.1)];
    expectClose(take(crossEntropy(z, oneHot, { labelSmoothing: 0.1 })), smoothed, 'one-hot smoothed');
    expectClose(take(crossEntropy(z, ids, { labelSmoothing: 0.1 })), smoothed, 'ids smoothed');
    tf.dispose([z, ids, floatIds, oneHot]);
  });

  it('takes probability rows as soft labels: -sum q log p', () => {
    const z = tf.tensor2d([[1, 2, 3]]);
    const q = tf.tensor2d([[0.2, 0.3, 0.5]]);
    const lp = logSoftmax([1, 2, 3]);
    expectClose(take(crossEntropy(z, q)), [-(0.2 * lp[0]! + 0.3 * lp[1]! + 0.5 * lp[2]!)], 'soft labels');
    tf.dispose([z, q]);
  });

  it('supports sum and none reductions, and ignoreIndex like PyTorch ignore_index', () => {
    const z = tf.tensor2d(logits);
    const none = crossEntropy(z, labels, { reduction: 'none' });
    expect(none.shape).toEqual([3]);
    const perRow = take(none);
    expectClose(
      perRow,
      logits.map((row, n) => reference([row], [labels[n]!])),
      'none',
    );
    expectClose(
      take(crossEntropy(z, labels, { reduction: 'sum' })),
      [perRow[0]! + perRow[1]! + perRow[2]!],
      'sum',
    );
    const partial = [0, -1, 3];
    expectClose(
      take(crossEntropy(z, partial, { ignoreIndex: -1, labelSmoothing: 0.1 })),
      [reference(logits, partial, 0.1, -1)],
      'ignored row left out of the mean',
    );
    expectClose(
      take(crossEntropy(z, partial, { ignoreIndex: -1, reduction: 'none' })).slice(1, 2),
      [0],
      'ignored = 0',
    );
    expectClose(take(crossEntropy(z, [-1, -1, -1], { ignoreIndex: -1 })), [0], 'all ignored');
    z.dispose();
  });

  it('is finite for logits of +-1e4', () => {
    const z = tf.tensor2d([
      [1e4, -1e4, 0],
      [-1e4, -1e4, 1e4],
    ]);
    const v = take(crossEntropy(z, [1, 2], { labelSmoothing: 0.1 }));
    expect(v.every(Number.isFinite)).toBe(true);
    expectClose(
      v,
      [
        reference(
          [
            [1e4, -1e4, 0],
            [-1e4, -1e4, 1e4],
          ],
          [1, 2],
          0.1,
        ),
      ],
      'extreme',
    );
    z.dispose();
  });

  it('leaks nothing on success or error', () => {
    const z = tf.tensor2d(logits);
    expectNoLeak(() => take(crossEntropy(z, labels, { labelSmoothing: 0.2 })));
    expectNoLeak(() => take(tf.grad((x: tf.Tensor) => crossEntropy(x as tf.Tensor2D, labels))(z)));
    z.dispose();
  });

  it('rejects labels out of range, non-integer, of the wrong rank or length, and bad options', () => {
    const z = tf.tensor2d(logits);
    expectInvalid(
      () => crossEntropy(z, [0, 4, 1]),
      /^crossEntropy:/,
      /'labels'/,
      /\[0, 3\]/,
      /got 4 at index 1/,
    );
    expectInvalid(() => crossEntropy(z, [0, -1, 1]), /'labels'/, /got -1 at index 1/);
    expectInvalid(() => crossEntropy(z, [0, 1.5, 1]), /'labels'/, /integer/, /1\.5/);
    const floatIds = tf.tensor1d([0, 2.5, 1]);
    expectInvalid(() => crossEntropy(z, floatIds), /'labels'/, /integer/);
    const ids = tf.tensor1d([0, 1, 7], 'int32');
    expectInvalid(() => crossEntropy(z, ids), /'labels'/, /got 7 at index 2/);
    expectInvalid(() => crossEntropy(z, [0, 1]), /'labels'/, /3 class ids/);
    const rank3 = tf.zeros([3, 4, 1]);
    expectInvalid(() => crossEntropy(z, rank3 as never), /'labels'/, /Tensor1D/, /\[3, 4, 1\]/);
    const wrongProbs = tf.tensor2d([
      [0.5, 0.5, 0.5, 0.5],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
    ]);
    expectInvalid(() => crossEntropy(z, wrongProbs), /'labels'/, /sum to 1/);
    const negative = tf.tensor2d([
      [1.5, -0.5, 0, 0],
      [1, 0, 0, 0],
      [0, 0, 0, 1],
    ]);
    expectInvalid(() => crossEntropy(z, negative), /'labels'/, /\[0, 1\]/);
    const narrow = tf.tensor2d([
      [1, 0, 0],
      [1, 0, 0],
      [1, 0, 0],
    ]);
    expectInvalid(() => crossEntropy(z, narrow), /'labels'/, /\[3, 4\]/);
    expectInvalid(() => crossEntropy(z, labels, { labelSmoothing: 1 }), /'labelSmoothing'/, /\[0, 1\)/);
    expectInvalid(() => crossEntropy(z, labels, { labelSmoothing: -0.1 }), /'labelSmoothing'/);
    expectInvalid(() => crossEntropy(z, labels, { ignoreIndex: 2 }), /'ignoreIndex'/, /negative/);
    const v = tf.tensor1d([1, 2]);
    expectInvalid(() => crossEntropy(v as never, labels), /'logits'/, /rank-2/);
    tf.dispose([z, floatIds, ids, rank3, wrongProbs, negative, narrow, v]);
  });
});
