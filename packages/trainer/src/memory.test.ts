import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '@distilljs/backends';
import { createBatchStream, syntheticDataset } from '@distilljs/datasets';
import { createModel } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, toyStream } from './__fixtures__/toy.js';
import { distill } from './distill.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';

afterAll(async () => {
  await tf.setBackend('cpu');
});

// Dense models on the stock backends; tfjs-backend-wasm 4.22 lacks Conv2DBackpropFilter, so CNNs are
// checked on wasm with the training kernels of @distilljs/backends (last test).
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
          // The cached run also takes its hard term from a separate labelled stream.
          ...(augmented
            ? {}
            : { labelled: toyStream(gaussianData({ seed: 3, count: 40 }), { batchSize: 16 }) }),
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

describe('no tensor leaks for a CNN on wasm with the @distilljs/backends training kernels', () => {
  it('fit and distill (lenet5): numTensors after epoch 1 equals after epoch 3', async () => {
    await tf.setBackend('wasm');
    registerWasmTrainingKernels();
    try {
      const data = syntheticDataset({
        seed: 1,
        numClasses: 4,
        imageShape: [12, 12, 1],
        trainCount: 32,
        testCount: 8,
      });
      const stream = createBatchStream(data, { batchSize: 16, shuffle: true, seed: 1 });
      const opts = { inputShape: [12, 12, 1], numClasses: 4 } as const;
      const teacher = createModel('lenet5', { ...opts, seed: 1 });
      const student = createModel('lenet5', { ...opts, seed: 2 });
      for (const run of ['fit', 'distill'] as const) {
        const counts: number[] = [];
        const callbacks = { onEpochEnd: () => void counts.push(tf.memory().numTensors) };
        if (run === 'fit') await fit(teacher, stream, { epochs: 3, callbacks });
        else await distill({ teacher, student, data: stream, epochs: 3, callbacks });
        expect(counts[2]).toBe(counts[0]);
      }
    } finally {
      unregisterWasmTrainingKernels();
    }
  });
});
