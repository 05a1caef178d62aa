import { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, expectClose, take, useBackend } from './__fixtures__/tf.js';
import { crossEntropy } from './cross-entropy.js';
import { distillationLoss, distillationLossParts } from './distillation-loss.js';
import { distillationFused, distillationLossFused } from './distillation-loss-fused.js';
import { kdPerExample } from './kd-loss.js';

/** The composed tensor ops of Hinton's objective: alpha * mean T^2 KL + (1 - alpha) * CE. */
function composedTerms(s: tf.Tensor, t: tf.Tensor, ids: Int32Array, T: number, eps: number) {
  const soft = tf.mean(kdPerExample(s, t, T));
  const hard = crossEntropy(s, ids, { labelSmoothing: eps, ignoreIndex: -1 });
  return { soft, hard };
}

function randomCase(rng: Rng, B: number, C: number, unlabelled: boolean) {
  const s = Array.from({ length: B * C }, () => 3 * rng.normal());
  const t = Array.from({ length: B * C }, () => 3 * rng.normal());
  const ids = Int32Array.from({ length: B }, (_, i) => (unlabelled && i % 3 === 1 ? -1 : rng.int(C)));
  return { s, t, ids, labelled: ids.filter((v) => v >= 0).length };
}

for (const backend of BACKENDS) {
  describe(`fused distillation loss (${backend})`, () => {
    beforeAll(() => useBackend(backend));

    it('has the value, terms and student gradients of the composed ops', () => {
      const rng = new Rng(27);
      for (const [B, C, T, alpha, eps, unlabelled] of [
        [5, 3, 4, 0.5, 0, false],
        [7, 10, 1, 0.9, 0.1, true],
        [4, 6, 2.5, 0, 0.2, true],
        [3, 4, 8, 1, 0, false],
      ] as const) {
        const c = randomCase(rng, B, C, unlabelled);
        const input = { ids: c.ids, labelled: c.labelled, temperature: T, alpha, labelSmoothing: eps };
        const a = tf.tensor2d(c.s, [B, C]);
        const b = tf.tensor2d(c.t, [B, C]);
        const where = `B=${B} C=${C} T=${T} alpha=${alpha} eps=${eps}`;
        const loss = (x: tf.Tensor) => {
          const { soft, hard } = composedTerms(x, b, c.ids, T, eps);
          return tf.add(tf.mul(soft, alpha), tf.mul(hard, 1 - alpha)) as tf.Scalar;
        };
        const fusedLoss = (x: tf.Tensor) => distillationLossFused(x, b, input);
        expectClose(take(fusedLoss(a)), take(loss(a)), `${where} loss`);
        expectClose(take(tf.grad(fusedLoss)(a)), take(tf.grad(loss)(a)), `${where} gradient`, 1e-4, 1e-6);
        // The [loss, soft, hard] form: each entry's own gradient.
        const composedParts = [
          loss,
          (x: tf.Tensor) => composedTerms(x, b, c.ids, T, eps).soft,
          (x: tf.Tensor) => composedTerms(x, b, c.ids, T, eps).hard,
        ];
        for (const [k, composed] of composedParts.entries()) {
          const part = (x: tf.Tensor) => tf.unstack(distillationFused(x, b, input))[k] as tf.Scalar;
          expectClose(take(part(a)), take(composed(a)), `${where} part ${k}`);
          expectClose(
            take(tf.grad(part)(a)),
            take(tf.grad(composed)(a)),
            `${where} part ${k} gradient`,
            1e-4,
            1e-6,
          );
        }
        // The teacher gets no gradient.
        expect(
          Math.max(...take(tf.grad((y: tf.Tensor) => distillationLossFused(a, y, input))(b)).map(Math.abs)),
        ).toBe(0);
        tf.dispose([a, b]);
      }
    });

    it('is what distillationLoss and distillationLossParts run here with class ids: a handful of kernels', async () => {
      const rng = new Rng(3);
      const c = randomCase(rng, 16, 10, true);
      const a = tf.tensor2d(c.s, [16, 10]);
      const b = tf.tensor2d(c.t, [16, 10]);
      const options = { temperature: 4, alpha: 0.5, ignoreIndex: -1 };
      const profile = await tf.profile(() =>
        tf.grad((x: tf.Tensor) => distillationLoss(x, b, c.ids, options))(a),
      );
      (profile.result as tf.Tensor).dispose();
      // The composed ops run about seventy kernels forward and backward.
      expect(profile.kernels.length).toBeLessThan(12);
      const parts = distillationLossParts(a, b, c.ids, options);
      const fused = distillationFused(a, b, {
        ids: c.ids,
        labelled: c.labelled,
        temperature: 4,
        alpha: 0.5,
        labelSmoothing: 0,
      });
      expect(take(tf.stack([parts.loss, parts.soft, parts.hard]))).toEqual(take(fused));
      tf.dispose([a, b, parts.loss, parts.soft, parts.hard]);
    });
  });
}
