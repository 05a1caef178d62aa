import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import golden from './__fixtures__/losses.json';
import { kd } from './__fixtures__/reference.js';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { crossEntropy } from './cross-entropy.js';
import { distillationLoss, distillationLossParts } from './distillation-loss.js';

interface GoldenCase {
  student_logits: number[][];
  teacher_logits: number[][];
  labels: number[];
  results: { temperature: number; alpha: number; kdLossGradStudent: number[][] }[];
}

const s = [
  [1, 2, 0.5],
  [-1, 0, 3],
];
const t = [
  [0.2, 3, -1],
  [2, 0, 1],
];
const y = [1, 2];

describe('distillationLoss', () => {
  beforeAll(() => useBackend('cpu'));

  it('is alpha * kdLoss + (1 - alpha) * crossEntropy, with the parts exposed', () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const ce = take(crossEntropy(a, y))[0]!;
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        (alpha, T) => {
          const soft = kd(s, t, T);
          const expected = alpha * soft + (1 - alpha) * ce;
          expectClose(take(distillationLoss(a, b, y, { temperature: T, alpha })), [expected], 'loss');
          const parts = distillationLossParts(a, b, y, { temperature: T, alpha });
          expect(parts.loss.shape).toEqual([]);
          expectClose(take(parts.loss), [expected], 'parts.loss');
          expectClose(take(parts.soft), [soft], 'parts.soft');
          expectClose(take(parts.hard), [ce], 'parts.hard');
        },
      ),
      { numRuns: 50 },
    );
    tf.dispose([a, b]);
  });

  it('reduces to crossEntropy at alpha = 0 and to kdLoss at alpha = 1, and passes options on', () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    expectClose(
      take(distillationLoss(a, b, y, { temperature: 4, alpha: 0 })),
      take(crossEntropy(a, y)),
      'alpha 0',
    );
    expectClose(take(distillationLoss(a, b, y, { temperature: 4, alpha: 1 })), [kd(s, t, 4)], 'alpha 1');
    expectClose(
      take(
        distillationLoss(a, b, [1, -1], { temperature: 4, alpha: 0, labelSmoothing: 0.1, ignoreIndex: -1 }),
      ),
      take(crossEntropy(a, [1, -1], { labelSmoothing: 0.1, ignoreIndex: -1 })),
      'options reach the hard term',
    );
    tf.dispose([a, b]);
  });

  it('sends no gradient to the teacher, and the student gradient is the weighted sum', () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const gTeacher = take(
      tf.grad((x: tf.Tensor) => distillationLoss(a, x as tf.Tensor2D, y, { temperature: 3, alpha: 0.7 }))(b),
    );
    expect(gTeacher.every((v) => v === 0)).toBe(true);
    tf.dispose([a, b]);
  });

  it("gives the student PyTorch's gradient: alpha * d kdLoss/ds (golden) + (1 - alpha) * d CE/ds", () => {
    // d CE/ds = (softmax(s) - onehot(y)) / N in float64 from the golden logits; d kdLoss/ds is the golden
    // file's own PyTorch value, so a wrong T^2 scale, a swapped alpha or a gradient leaking through the
    // teacher's soft targets all change the result.
    const cases = (golden as unknown as { cases: GoldenCase[] }).cases;
    for (const [ci, c] of cases.entries()) {
      const n = c.labels.length;
      const ceGrad = c.student_logits.map((row, i) => {
        const m = Math.max(...row);
        const e = row.map((v) => Math.exp(v - m));
        const z = e.reduce((x, v) => x + v, 0);
        return e.map((v, k) => (v / z - (k === c.labels[i] ? 1 : 0)) / n);
      });
      for (const r of c.results) {
        const a = tf.tensor2d(c.student_logits);
        const b = tf.tensor2d(c.teacher_logits);
        const options = { temperature: r.temperature, alpha: r.alpha };
        const got = take(
          tf.grad((x: tf.Tensor) => distillationLoss(x as tf.Tensor2D, b, c.labels, options))(a),
        );
        const want = r.kdLossGradStudent.flatMap((row, i) =>
          row.map((g, k) => r.alpha * g + (1 - r.alpha) * ceGrad[i]![k]!),
        );
        expectClose(got, want, `case ${ci} T=${r.temperature} alpha=${r.alpha} student gradient`);
        tf.dispose([a, b]);
      }
    }
  });

  it('leaks nothing on success or error', () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    expectNoLeak(() => take(distillationLoss(a, b, y, { temperature: 2, alpha: 0.5 })));
    expectNoLeak(() => {
      const p = distillationLossParts(a, b, y, { temperature: 2, alpha: 0.5 });
      tf.dispose([p.loss, p.soft, p.hard]);
    });
    tf.dispose([a, b]);
  });

  it('rejects alpha outside [0, 1], bad temperature, shapes and labels', () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const c = tf.zeros([3, 3]) as tf.Tensor2D;
    expectInvalid(
      () => distillationLoss(a, b, y, { temperature: 2, alpha: 1.5 }),
      /^distillationLoss:/,
      /'alpha'/,
      /\[0, 1\]/,
      /1\.5/,
    );
    expectInvalid(
      () => distillationLossParts(a, b, y, { temperature: 2, alpha: -0.1 }),
      /^distillationLossParts:/,
      /'alpha'/,
    );
    expectInvalid(() => distillationLoss(a, b, y, { temperature: 0, alpha: 0.5 }), /'temperature'/);
    expectInvalid(
      () => distillationLoss(a, c, y, { temperature: 1, alpha: 0.5 }),
      /'teacherLogits'/,
      /same shape/,
    );
    expectInvalid(
      () => distillationLoss(a, b, [1, 3], { temperature: 1, alpha: 0.5 }),
      /'labels'/,
      /\[0, 2\]/,
      /got 3/,
    );
    expectInvalid(
      () => distillationLoss(a, b, [1, 0.5], { temperature: 1, alpha: 0.5 }),
      /'labels'/,
      /integer/,
    );
    tf.dispose([a, b, c]);
  });
});
