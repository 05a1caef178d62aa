import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { float32KlFloor, kd, kdRow, maxAbs } from './__fixtures__/reference.js';
import { BACKENDS, expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { kdLoss } from './kd-loss.js';
import { softTargets } from './soft-targets.js';

/** A `[batch, classes]` pair of logit matrices with entries in [-bound, bound]. */
function logitPair(bound: number, maxBatch = 4, maxClasses = 8) {
  return fc
    .record({
      batch: fc.integer({ min: 1, max: maxBatch }),
      classes: fc.integer({ min: 2, max: maxClasses }),
    })
    .chain(({ batch, classes }) => {
      const matrix = fc.array(
        fc.array(fc.double({ min: -bound, max: bound, noNaN: true }), {
          minLength: classes,
          maxLength: classes,
        }),
        { minLength: batch, maxLength: batch },
      );
      return fc.tuple(matrix, matrix);
    });
}

const temperatureArb = fc.double({ min: 0.5, max: 20, noNaN: true });

/** Runs `f` on float32 tensors made from `s` and `t`, disposing them after. */
function withTensors<T>(s: number[][], t: number[][], f: (s: tf.Tensor2D, t: tf.Tensor2D) => T): T {
  const st = tf.tensor2d(s);
  const tt = tf.tensor2d(t);
  try {
    return f(st, tt);
  } finally {
    tf.dispose([st, tt]);
  }
}

describe('kdLoss', () => {
  beforeAll(() => useBackend('cpu'));

  it('matches a float64 reference on random inputs', () => {
    fc.assert(
      fc.property(logitPair(6), temperatureArb, ([s, t], T) => {
        const got = withTensors(s, t, (a, b) => take(kdLoss(a, b, { temperature: T })));
        const floor = float32KlFloor(Math.max(maxAbs(s), maxAbs(t)), T, s[0]!.length);
        expectClose(got, [kd(s, t, T)], `kd T=${T}`, 1e-4, 1e-5 + floor);
      }),
      { numRuns: 150 },
    );
  });

  it('is zero when the student equals the teacher (and for a per-row shift of the logits)', () => {
    fc.assert(
      fc.property(logitPair(20), fc.double({ min: 0.05, max: 100, noNaN: true }), ([s], T) => {
        const [same, shifted] = withTensors(s, s, (a, b) => [
          take(kdLoss(a, b, { temperature: T }))[0]!,
          take(tf.tidy(() => kdLoss(a, tf.add(b, 3.5) as tf.Tensor2D, { temperature: T })))[0]!,
        ]);
        expect(same).toBe(0);
        expect(Math.abs(shifted)).toBeLessThanOrEqual(float32KlFloor(maxAbs(s) + 3.5, T, s[0]!.length));
      }),
      { numRuns: 100 },
    );
  });

  it('is > 0 whenever the two distributions differ', () => {
    fc.assert(
      fc.property(logitPair(6), temperatureArb, ([s, t], T) => {
        fc.pre(kd(s, t, T) > 2 * float32KlFloor(Math.max(maxAbs(s), maxAbs(t)), T, s[0]!.length));
        const got = withTensors(s, t, (a, b) => take(kdLoss(a, b, { temperature: T }))[0]!);
        expect(got).toBeGreaterThan(0);
      }),
      { numRuns: 150 },
    );
  });

  it('changes when student and teacher are swapped (the teacher is the target)', () => {
    // A concrete case: a confident teacher and an unsure student.
    withTensors([[4, 0, 0]], [[0, 0, 0]], (a, b) => {
      const forward = take(kdLoss(a, b, { temperature: 1 }))[0]!;
      const backward = take(kdLoss(b, a, { temperature: 1 }))[0]!;
      expect(forward).toBeCloseTo(kdRow([4, 0, 0], [0, 0, 0], 1), 5);
      expect(backward).toBeCloseTo(kdRow([0, 0, 0], [4, 0, 0], 1), 5);
      expect(Math.abs(forward - backward)).toBeGreaterThan(0.5);
    });
    fc.assert(
      fc.property(logitPair(6), temperatureArb, ([s, t], T) => {
        const asymmetry = Math.abs(kd(s, t, T) - kd(t, s, T));
        const floor = float32KlFloor(Math.max(maxAbs(s), maxAbs(t)), T, s[0]!.length);
        fc.pre(asymmetry > 1e-3 * (1 + kd(s, t, T)) + 4 * floor);
        const [st, ts] = withTensors(s, t, (a, b) => [
          take(kdLoss(a, b, { temperature: T }))[0]!,
          take(kdLoss(b, a, { temperature: T }))[0]!,
        ]);
        expect(st).not.toBeCloseTo(ts, 5);
        expectClose([ts], [kd(t, s, T)], 'swapped', 1e-4, 1e-5 + floor);
      }),
      { numRuns: 100 },
    );
  });

  it('has zero gradient with respect to the teacher, and T (p_s - p_t) / batch for the student', () => {
    fc.assert(
      fc.property(logitPair(8), temperatureArb, ([s, t], T) => {
        withTensors(s, t, (a, b) => {
          const gTeacher = take(
            tf.grad((x: tf.Tensor) => kdLoss(a, x as tf.Tensor2D, { temperature: T }))(b),
          );
          expect(gTeacher.every((v) => v === 0)).toBe(true);
          const gStudent = take(
            tf.grad((x: tf.Tensor) => kdLoss(x as tf.Tensor2D, b, { temperature: T }))(a),
          );
          const expected = take(
            tf.tidy(() => tf.mul(tf.sub(softTargets(a, T), softTargets(b, T)), T / s.length)),
          );
          expectClose(gStudent, expected, 'student gradient', 1e-3, 1e-6);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('has a gradient whose size does not depend on T at large T (the T^2 factor)', () => {
    fc.assert(
      fc.property(logitPair(2), fc.double({ min: 200, max: 1000, noNaN: true }), ([s, t], T) => {
        // Large-T limit: d kd / d s_i -> ((s_i - mean s) - (t_i - mean t)) / (classes * batch).
        const classes = s[0]!.length;
        const limit = s.flatMap((row, n) => {
          const tr = t[n]!;
          const ms = row.reduce((x, y) => x + y, 0) / classes;
          const mt = tr.reduce((x, y) => x + y, 0) / classes;
          return row.map((v, i) => (v - ms - (tr[i]! - mt)) / (classes * s.length));
        });
        const limitNorm = Math.hypot(...limit);
        fc.pre(limitNorm > 1e-3);
        const [g100, gT] = withTensors(s, t, (a, b) => [
          take(tf.grad((x: tf.Tensor) => kdLoss(x as tf.Tensor2D, b, { temperature: 100 }))(a)),
          take(tf.grad((x: tf.Tensor) => kdLoss(x as tf.Tensor2D, b, { temperature: T }))(a)),
        ]);
        expect(Math.hypot(...g100) / limitNorm).toBeGreaterThan(0.95);
        expect(Math.hypot(...g100) / limitNorm).toBeLessThan(1.05);
        expect(Math.hypot(...gT) / Math.hypot(...g100)).toBeGreaterThan(0.95);
        expect(Math.hypot(...gT) / Math.hypot(...g100)).toBeLessThan(1.05);
      }),
      { numRuns: 60 },
    );
  });

  it('supports the batchmean, sum and none reductions', () => {
    const s = [
      [1, 2, 3],
      [0, -1, 4],
    ];
    const t = [
      [3, 2, 1],
      [0, 0, 0],
    ];
    withTensors(s, t, (a, b) => {
      const none = kdLoss(a, b, { temperature: 2, reduction: 'none' });
      expect(none.shape).toEqual([2]);
      const perRow = take(none);
      expectClose(perRow, [kdRow(s[0]!, t[0]!, 2), kdRow(s[1]!, t[1]!, 2)], 'none');
      const sum = kdLoss(a, b, { temperature: 2, reduction: 'sum' });
      expect(sum.shape).toEqual([]);
      expectClose(take(sum), [perRow[0]! + perRow[1]!], 'sum');
      expectClose(take(kdLoss(a, b, { temperature: 2 })), [(perRow[0]! + perRow[1]!) / 2], 'batchmean');
    });
  });

  it('leaks no tensors, in the forward pass and under tf.grad', () => {
    withTensors([[1, 2, 3]], [[0, 1, 0]], (a, b) => {
      expectNoLeak(() => take(kdLoss(a, b, { temperature: 4 })));
      expectNoLeak(() => take(tf.grad((x) => kdLoss(x, b, { temperature: 4 }))(a)));
    });
  });

  it('takes a tf.Variable or a tensor of unknown rank (as tf.grad passes it), checking the rank at run time', () => {
    withTensors([[1, 2, 3]], [[0, 1, 0]], (a, b) => {
      const v = tf.variable(a);
      const unknownRank: tf.Tensor = b;
      const fromVariable = take(kdLoss(v, unknownRank, { temperature: 2 }));
      expectClose(fromVariable, take(kdLoss(a, b, { temperature: 2 })), 'kdLoss(variable)', 1e-7);
      const cube = tf.zeros([1, 1, 3]);
      expectInvalid(() => kdLoss(cube, b, { temperature: 1 }), /'studentLogits'/, /rank-2/, /\[1, 1, 3\]/);
      tf.dispose([v, cube]);
    });
  });

  it('rejects bad input with a message naming the function, the argument and what is valid', () => {
    withTensors([[1, 2, 3]], [[0, 1, 0]], (a, b) => {
      const wide = tf.zeros([1, 4]) as tf.Tensor2D;
      const flat = tf.zeros([3]);
      const ints = tf.zeros([1, 3], 'int32') as tf.Tensor2D;
      expectInvalid(
        () => kdLoss(a, wide, { temperature: 1 }),
        /^kdLoss:/,
        /'teacherLogits'/,
        /same shape/,
        /\[1, 3\]/,
      );
      expectInvalid(() => kdLoss(flat, b, { temperature: 1 }), /^kdLoss:/, /'studentLogits'/, /rank-2/);
      expectInvalid(() => kdLoss(a, ints, { temperature: 1 }), /'teacherLogits'/, /float32/);
      expectInvalid(() => kdLoss(a, b, { temperature: 0 }), /^kdLoss:/, /'temperature'/, /> 0/, /got 0/);
      expectInvalid(() => kdLoss(a, b, { temperature: -2 }), /'temperature'/, /got -2/);
      expectInvalid(() => kdLoss(a, b, { temperature: Number.NaN }), /'temperature'/);
      expectInvalid(() => kdLoss(a, b, { temperature: Number.POSITIVE_INFINITY }), /'temperature'/, /finite/);
      expectInvalid(
        () => kdLoss(a, b, { temperature: 1, reduction: 'mean' as 'sum' }),
        /'reduction'/,
        /'batchmean', 'sum', 'none'/,
      );
      expectInvalid(() => kdLoss(a, b, undefined as never), /'options'/);
      expectInvalid(() => kdLoss([[1, 2]] as never, b, { temperature: 1 }), /'studentLogits'/, /array/);
      tf.dispose([wide, flat, ints]);
    });
  });
});

describe.each(BACKENDS)('no NaN or Infinity for extreme logits and temperatures on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('kdLoss and its gradient stay finite for logits up to +-1e4 and T in [0.05, 100]', () => {
    fc.assert(
      fc.property(logitPair(1e4, 3, 6), fc.double({ min: 0.05, max: 100, noNaN: true }), ([s, t], T) => {
        withTensors(s, t, (a, b) => {
          const value = take(kdLoss(a, b, { temperature: T }));
          expect(value.every(Number.isFinite)).toBe(true);
          const floor = float32KlFloor(Math.max(maxAbs(s), maxAbs(t)), T, s[0]!.length);
          expect(value[0]!).toBeGreaterThanOrEqual(-floor);
          expectClose(value, [kd(s, t, T)], `extreme kd T=${T}`, 1e-4, 1e-5 + floor);
          const g = take(tf.grad((x: tf.Tensor) => kdLoss(x as tf.Tensor2D, b, { temperature: T }))(a));
          expect(g.every(Number.isFinite)).toBe(true);
        });
      }),
      { numRuns: backend === 'cpu' ? 100 : 40 },
    );
  });
});
