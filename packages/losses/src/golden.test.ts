/**
 * Every value of the PyTorch float64 reference (src/__fixtures__/losses.json, copied verbatim from
 * the project's golden file) on the cpu and wasm backends, to 1e-4 relative / 1e-5 absolute.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import golden from './__fixtures__/losses.json';
import { BACKENDS, expectClose, take, useBackend } from './__fixtures__/tf.js';
import { crossEntropy } from './cross-entropy.js';
import { distillationLoss, distillationLossParts } from './distillation-loss.js';
import { dkdLoss } from './dkd-loss.js';
import { kdLoss } from './kd-loss.js';
import { softTargets } from './soft-targets.js';

interface GoldenResult {
  temperature: number;
  alpha: number;
  softTargets: number[][];
  kdLoss: number;
  kdLossGradStudent: number[][];
  crossEntropy: number;
  'crossEntropySmoothed0.1': number;
  distillationLoss: number;
  dkdLoss_a1_b8: number;
}
interface GoldenCase {
  student_logits: number[][];
  teacher_logits: number[][];
  labels: number[];
  results: GoldenResult[];
}
const cases = (golden as unknown as { cases: GoldenCase[] }).cases;

describe.each(BACKENDS)('golden values from PyTorch (float64) on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  it('has the expected cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
    // the large-logit case is present and really large
    const magnitudes = cases.flatMap((c) => [...c.student_logits.flat(), ...c.teacher_logits.flat()]);
    expect(Math.max(...magnitudes.map(Math.abs))).toBeGreaterThan(90);
  });

  cases.forEach((c, ci) => {
    const shape = `${c.student_logits.length}x${c.student_logits[0]!.length}`;
    describe(`case ${ci} (${shape})`, () => {
      for (const r of c.results) {
        it(`T=${r.temperature} alpha=${r.alpha}`, () => {
          const before = tf.memory().numTensors;
          const s = tf.tensor2d(c.student_logits);
          const t = tf.tensor2d(c.teacher_logits);
          const y = tf.tensor1d(c.labels, 'int32');
          const T = r.temperature;
          const where = `case ${ci} T=${T} alpha=${r.alpha}`;

          expectClose(take(softTargets(t, T)), r.softTargets.flat(), `${where} softTargets`);
          expectClose(take(kdLoss(s, t, { temperature: T })), [r.kdLoss], `${where} kdLoss`);
          const grad = tf.grad((x: tf.Tensor) => kdLoss(x as tf.Tensor2D, t, { temperature: T }))(s);
          expectClose(take(grad), r.kdLossGradStudent.flat(), `${where} kdLossGradStudent`);
          expectClose(take(crossEntropy(s, y)), [r.crossEntropy], `${where} crossEntropy`);
          expectClose(
            take(crossEntropy(s, y, { labelSmoothing: 0.1 })),
            [r['crossEntropySmoothed0.1']],
            `${where} crossEntropySmoothed0.1`,
          );
          expectClose(
            take(distillationLoss(s, t, y, { temperature: T, alpha: r.alpha })),
            [r.distillationLoss],
            `${where} distillationLoss`,
          );
          const parts = distillationLossParts(s, t, y, { temperature: T, alpha: r.alpha });
          expectClose(take(parts.loss), [r.distillationLoss], `${where} distillationLossParts.loss`);
          expectClose(take(parts.soft), [r.kdLoss], `${where} distillationLossParts.soft`);
          expectClose(take(parts.hard), [r.crossEntropy], `${where} distillationLossParts.hard`);
          expectClose(
            take(dkdLoss(s, t, y, { alpha: 1, beta: 8, temperature: T })),
            [r.dkdLoss_a1_b8],
            `${where} dkdLoss_a1_b8`,
          );
          tf.dispose([s, t, y]);
          expect(tf.memory().numTensors).toBe(before);
        });
      }
    });
  });
});
