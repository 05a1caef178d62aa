/**
 * Every value and student gradient of the PyTorch float64 reference for the post-2022 logit methods
 * (src/__fixtures__/modern-losses.json, copied verbatim from the project's golden file) on the cpu and
 * wasm backends, to 1e-4 relative / 1e-5 absolute, including the case with logits beyond +-90.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import golden from './__fixtures__/modern-losses.json';
import { BACKENDS, expectClose, take, useBackend } from './__fixtures__/tf.js';
import { distLoss } from './dist-loss.js';
import { kdLoss } from './kd-loss.js';
import { gradientReversal, kdLossAtTemperature } from './learnable-temperature.js';
import { batchCorrelationLoss, classCorrelationLoss } from './mlkd-loss.js';
import { nkdLoss } from './nkd-loss.js';
import { getLoss } from './registry.js';
import { ttmLoss, wttmLoss } from './ttm-loss.js';

type Result = Record<string, number | number[][]> & { temperature: number; kdGradTemperature: number };
interface GoldenCase {
  student_logits: number[][];
  teacher_logits: number[][];
  labels: number[];
  results: Result[];
}
const cases = (golden as unknown as { cases: GoldenCase[] }).cases;

/** Each golden key with the function of (student, teacher, labels, T) that computes it. */
const LOSSES: Record<string, (s: tf.Tensor2D, t: tf.Tensor2D, y: number[], T: number) => tf.Scalar> = {
  dist_b1_g1: (s, t, _y, T) => distLoss(s, t, { temperature: T }),
  'dist_b2_g0.5': (s, t, _y, T) => distLoss(s, t, { temperature: T, beta: 2, gamma: 0.5 }),
  kdStandardized: (s, t, _y, T) => kdLoss(s, t, { temperature: T, logitStandardization: true }),
  ttm: (s, t, _y, T) => ttmLoss(s, t, { temperature: T }),
  wttm: (s, t, _y, T) => wttmLoss(s, t, { temperature: T }),
  'nkd_g1.5': (s, t, y, T) => nkdLoss(s, t, y, { temperature: T, gamma: 1.5 }),
  mlkdClassCorrelation: (s, t, _y, T) => classCorrelationLoss(s, t, { temperature: T }),
  mlkdBatchCorrelation: (s, t, _y, T) => batchCorrelationLoss(s, t, { temperature: T }),
};

/** The same values through the registry (alpha = 1, so loss = soft). */
const REGISTRY: Record<string, { name: string; extra: Record<string, unknown> }> = {
  dist_b1_g1: { name: 'dist', extra: {} },
  'dist_b2_g0.5': { name: 'dist', extra: { distBeta: 2, distGamma: 0.5 } },
  kdStandardized: { name: 'kd', extra: { logitStandardization: true } },
  ttm: { name: 'ttm', extra: {} },
  wttm: { name: 'wttm', extra: {} },
  'nkd_g1.5': { name: 'nkd', extra: {} },
};

describe.each(BACKENDS)('modern logit losses against PyTorch (float64) on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('has every key of the golden file, and the large-logit case', () => {
    const keys = Object.keys(cases[0]!.results[0]!).filter((k) => !k.endsWith('GradStudent'));
    expect(keys.sort()).toEqual([...Object.keys(LOSSES), 'kdGradTemperature', 'temperature'].sort());
    const magnitudes = cases.flatMap((c) => [...c.student_logits.flat(), ...c.teacher_logits.flat()]);
    expect(Math.max(...magnitudes.map(Math.abs))).toBeGreaterThan(90);
  });

  cases.forEach((c, ci) => {
    const shape = `${c.student_logits.length}x${c.student_logits[0]!.length}`;
    for (const r of c.results) {
      const T = r.temperature;
      it(`case ${ci} (${shape}) T=${T}: values and student gradients`, () => {
        const before = tf.memory().numTensors;
        const s = tf.tensor2d(c.student_logits);
        const t = tf.tensor2d(c.teacher_logits);
        for (const [key, f] of Object.entries(LOSSES)) {
          const where = `case ${ci} T=${T} ${key}`;
          expectClose(take(f(s, t, c.labels, T)), [r[key] as number], where);
          const grad = tf.grad((x: tf.Tensor) => f(x as tf.Tensor2D, t, c.labels, T))(s);
          expectClose(take(grad), (r[`${key}GradStudent`] as number[][]).flat(), `${where} GradStudent`);
        }
        tf.dispose([s, t]);
        expect(tf.memory().numTensors).toBe(before);
      });

      it(`case ${ci} (${shape}) T=${T}: the registry gives the same soft terms`, () => {
        const before = tf.memory().numTensors;
        const s = tf.tensor2d(c.student_logits);
        const t = tf.tensor2d(c.teacher_logits);
        for (const [key, { name, extra }] of Object.entries(REGISTRY)) {
          const loss = getLoss(name);
          if (loss.kind !== 'logits') throw new Error(`${name} is not a logits loss`);
          const input = {
            studentLogits: s,
            teacherLogits: t,
            labels: c.labels,
            temperature: T,
            alpha: 1,
            ...extra,
          };
          const parts = loss.compute(input);
          expectClose(take(parts.soft), [r[key] as number], `registry ${name} case ${ci} T=${T}`);
          expectClose(take(parts.loss), [r[key] as number], `registry ${name} loss case ${ci} T=${T}`);
          parts.hard.dispose();
          const grad = tf.grad((x: tf.Tensor) => {
            const p = loss.compute({ ...input, studentLogits: x as tf.Tensor2D });
            tf.dispose([p.soft, p.hard]);
            return p.loss;
          })(s);
          expectClose(take(grad), (r[`${key}GradStudent`] as number[][]).flat(), `registry ${name} grad`);
        }
        tf.dispose([s, t]);
        expect(tf.memory().numTensors).toBe(before);
      });

      it(`case ${ci} (${shape}) T=${T}: CTKD's temperature gradient, before and after the reversal`, () => {
        const before = tf.memory().numTensors;
        const s = tf.tensor2d(c.student_logits);
        const t = tf.tensor2d(c.teacher_logits);
        const temperature = tf.scalar(T);
        const kdT = (x: tf.Tensor) => kdLossAtTemperature(s, t, x);
        expectClose(
          take(tf.grad(kdT)(temperature)),
          [r.kdGradTemperature],
          `case ${ci} T=${T} kdGradTemperature`,
        );
        const lambda = 0.7;
        const reversed = tf.grad((x: tf.Tensor) => kdLossAtTemperature(s, t, gradientReversal(x, lambda)))(
          temperature,
        );
        expectClose(take(reversed), [-lambda * r.kdGradTemperature], `case ${ci} T=${T} reversed`);
        // Per-example temperatures all equal to T give the same gradient in total.
        const perExample = tf.fill([c.labels.length, 1], T);
        const g = take(tf.grad((x: tf.Tensor) => kdLossAtTemperature(s, t, x))(perExample));
        expectClose([g.reduce((a, b) => a + b, 0)], [r.kdGradTemperature], `case ${ci} T=${T} per-example`);
        tf.dispose([s, t, temperature, perExample]);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
});
