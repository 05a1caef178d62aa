import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { float32KlFloor, kdRow, logSoftmax } from './__fixtures__/reference.js';
import { BACKENDS, expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { dkdLoss, dkdLossParts } from './dkd-loss.js';

/** TCKD and NCKD of one row in float64, straight from the paper's definitions. */
function dkdRow(s: number[], t: number[], g: number, T: number): { tckd: number; nckd: number } {
  const ps = logSoftmax(s, T).map(Math.exp);
  const pt = logSoftmax(t, T).map(Math.exp);
  const bs = [ps[g]!, 1 - ps[g]!];
  const bt = [pt[g]!, 1 - pt[g]!];
  const tckd = bt.reduce((acc, v, i) => acc + v * (Math.log(v) - Math.log(bs[i]!)), 0) * T * T;
  const others = (p: number[]) => {
    const rest = p.filter((_, i) => i !== g);
    const sum = rest.reduce((a, b) => a + b, 0);
    return rest.map((v) => v / sum);
  };
  const qs = others(ps);
  const qt = others(pt);
  const nckd = qt.reduce((acc, v, i) => acc + v * (Math.log(v) - Math.log(qs[i]!)), 0) * T * T;
  return { tckd, nckd };
}

const example = fc.integer({ min: 2, max: 7 }).chain((classes) =>
  fc.record({
    s: fc.array(fc.double({ min: -6, max: 6, noNaN: true }), { minLength: classes, maxLength: classes }),
    t: fc.array(fc.double({ min: -6, max: 6, noNaN: true }), { minLength: classes, maxLength: classes }),
    g: fc.integer({ min: 0, max: classes - 1 }),
    T: fc.double({ min: 0.5, max: 10, noNaN: true }),
  }),
);

describe('dkdLoss', () => {
  beforeAll(() => useBackend('cpu'));

  it('matches the paper definition and decomposes KD: KD = TCKD + (1 - p_t,g) * NCKD', () => {
    fc.assert(
      fc.property(example, ({ s, t, g, T }) => {
        const a = tf.tensor2d([s]);
        const b = tf.tensor2d([t]);
        const parts = dkdLossParts(a, b, [g], { alpha: 0.5, beta: 2, temperature: T });
        const tckd = take(parts.tckd)[0]!;
        const nckd = take(parts.nckd)[0]!;
        const loss = take(parts.loss)[0]!;
        tf.dispose([a, b]);
        const ref = dkdRow(s, t, g, T);
        const atol = 1e-5 + float32KlFloor(Math.max(...s.map(Math.abs), ...t.map(Math.abs)), T, s.length);
        expectClose([tckd, nckd], [ref.tckd, ref.nckd], 'tckd, nckd', 1e-3, atol);
        expectClose([loss], [0.5 * tckd + 2 * nckd], 'alpha * tckd + beta * nckd', 1e-5, 1e-6);
        const ptg = Math.exp(logSoftmax(t, T)[g]!);
        expectClose([tckd + (1 - ptg) * nckd], [kdRow(s, t, T)], 'KD decomposition', 1e-3, atol);
      }),
      { numRuns: 120 },
    );
  });

  it('averages over the batch and sends no gradient to the teacher', () => {
    const s = [
      [1, 2, 3, 0],
      [0, 0, 1, -2],
    ];
    const t = [
      [3, 1, 0, 0],
      [1, 2, 0, 0],
    ];
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const expected =
      (dkdRow(s[0]!, t[0]!, 0, 4).tckd +
        8 * dkdRow(s[0]!, t[0]!, 0, 4).nckd +
        dkdRow(s[1]!, t[1]!, 3, 4).tckd +
        8 * dkdRow(s[1]!, t[1]!, 3, 4).nckd) /
      2;
    const y = tf.tensor1d([0, 3], 'int32');
    expectClose(take(dkdLoss(a, b, y, { alpha: 1, beta: 8, temperature: 4 })), [expected], 'batch');
    const gTeacher = take(
      tf.grad((x: tf.Tensor) => dkdLoss(a, x as tf.Tensor2D, y, { alpha: 1, beta: 8, temperature: 4 }))(b),
    );
    expect(gTeacher.every((v) => v === 0)).toBe(true);
    const gStudent = take(
      tf.grad((x: tf.Tensor) => dkdLoss(x as tf.Tensor2D, b, y, { alpha: 1, beta: 8, temperature: 4 }))(a),
    );
    expect(gStudent.every(Number.isFinite) && gStudent.some((v) => v !== 0)).toBe(true);
    expectNoLeak(() => take(dkdLoss(a, b, y, { alpha: 1, beta: 8, temperature: 4 })));
    tf.dispose([a, b, y]);
  });

  it('rejects bad labels, weights, temperature and shapes', () => {
    const a = tf.tensor2d([[1, 2, 3]]);
    const b = tf.tensor2d([[0, 1, 0]]);
    const probs = tf.tensor2d([[0, 1, 0]]);
    const one = tf.tensor2d([[1]]);
    const opts = { alpha: 1, beta: 8, temperature: 4 };
    expectInvalid(() => dkdLoss(a, b, [3], opts), /^dkdLoss:/, /'labels'/, /\[0, 2\]/, /got 3/);
    expectInvalid(() => dkdLoss(a, b, [0.5], opts), /'labels'/, /integer/);
    expectInvalid(() => dkdLoss(a, b, probs, opts), /'labels'/, /class ids/);
    expectInvalid(() => dkdLoss(a, b, [0], { ...opts, beta: -1 }), /'beta'/, />= 0/);
    expectInvalid(() => dkdLoss(a, b, [0], { ...opts, alpha: Number.NaN }), /'alpha'/);
    expectInvalid(
      () => dkdLossParts(a, b, [0], { ...opts, temperature: 0 }),
      /^dkdLossParts:/,
      /'temperature'/,
    );
    expectInvalid(() => dkdLoss(one, one, [0], opts), /'studentLogits'/, /classes >= 2/);
    expectInvalid(() => dkdLoss(a, one, [0], opts), /'teacherLogits'/, /same shape/);
    tf.dispose([a, b, probs, one]);
  });
});

describe.each(BACKENDS)('dkdLoss with extreme logits on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('stays finite for logits up to +-1e4 and T in [0.05, 100]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 6 }).chain((classes) =>
          fc.record({
            s: fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), {
              minLength: classes,
              maxLength: classes,
            }),
            t: fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), {
              minLength: classes,
              maxLength: classes,
            }),
            g: fc.integer({ min: 0, max: classes - 1 }),
          }),
        ),
        fc.double({ min: 0.05, max: 100, noNaN: true }),
        ({ s, t, g }, T) => {
          const a = tf.tensor2d([s]);
          const b = tf.tensor2d([t]);
          const v = take(dkdLoss(a, b, [g], { alpha: 1, beta: 8, temperature: T }));
          const grad = take(
            tf.grad((x: tf.Tensor) =>
              dkdLoss(x as tf.Tensor2D, b, [g], { alpha: 1, beta: 8, temperature: T }),
            )(a),
          );
          tf.dispose([a, b]);
          expect(v.every(Number.isFinite)).toBe(true);
          expect(v[0]!).toBeGreaterThanOrEqual(-1e-2);
          expect(grad.every(Number.isFinite)).toBe(true);
        },
      ),
      { numRuns: backend === 'cpu' ? 80 : 30 },
    );
  });
});
