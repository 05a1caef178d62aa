import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, toyStream } from './__fixtures__/toy.js';
import { distill } from './distill.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

// Dense models only: tfjs-backend-wasm 4.22 has the kernels an MLP needs to train, not Conv2DBackpropFilter.
for (const backend of ['cpu', 'wasm'] as const) {
  describe(`no tensor leaks on ${backend}`, () => {
    const data = gaussianData({ seed: 1, count: 96 });
    const validation = toyStream(gaussianData({ seed: 2, count: 32 }), { batchSize: 16 });

    const perEpoch = () => {
      const counts: number[] = [];
      return { counts, callbacks: { onEpochEnd: () => void counts.push(tf.memory().numTensors) } };
    };

    it('fit: numTensors after epoch 1 equals after epoch 3', async () => {
      await tf.setBackend(backend);
      expect(tf.getBackend()).toBe(backend);
      const model = mlp(8, [16], 4, 1, { dropout: 0.2 });
      const { counts, callbacks } = perEpoch();
      await fit(model, toyStream(data, { batchSize: 32 }), {
        epochs: 3,
        optimizer: { name: 'sgd', momentum: 0.9, nesterov: true },
        clipGradNorm: 1,
        validation,
        callbacks,
      });
      expect(counts).toHaveLength(3);
      expect(counts[2]).toBe(counts[0]);
      model.dispose();
    });

    for (const augmented of [false, true]) {
      it(`distill (${augmented ? 'teacher per batch' : 'teacher-output cache'}): numTensors after epoch 1 equals after epoch 3, and nothing is left after`, async () => {
        await tf.setBackend(backend);
        const teacher = mlp(8, [16], 4, 1, { dropout: 0.3 });
        const student = mlp(8, [8], 4, 2, { dropout: 0.1 });
        const teacher2 = mlp(8, [16], 4, 3);
        const start = tf.memory().numTensors;
        const { counts, callbacks } = perEpoch();
        await distill({
          teachers: [teacher, teacher2],
          student,
          data: toyStream(data, { batchSize: 32, augmented }),
          epochs: 3,
          optimizer: 'adam',
          validation,
          callbacks,
        });
        expect(counts[2]).toBe(counts[0]);
        expect(tf.memory().numTensors).toBe(start); // optimiser slots freed at the end
      });
    }

    it('errors leak nothing: bad options and a NaN loss', async () => {
      await tf.setBackend(backend);
      const teacher = mlp(8, [16], 4, 1);
      const student = mlp(8, [8], 4, 2);
      const start = tf.memory().numTensors;
      await expect(
        distill({ teacher, student, data: toyStream(data, { batchSize: 32 }), epochs: 1, temperature: 0 }),
      ).rejects.toThrow();
      expect(tf.memory().numTensors).toBe(start);
      const nanData = { ...gaussianData({ seed: 1, count: 32 }) };
      nanData.x.fill(Number.NaN);
      await expect(fit(student, toyStream(nanData, { batchSize: 16 }), { epochs: 1 })).rejects.toThrow(
        /loss became NaN/,
      );
      expect(tf.memory().numTensors).toBe(start);
      await evaluate(student, validation);
      expect(tf.memory().numTensors).toBe(start);
    });
  });
}
