import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, toyStream } from './__fixtures__/toy.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('fit', () => {
  it('learns a separable toy task and reports per-epoch logs', async () => {
    const data = gaussianData({ seed: 1, count: 256, spread: 4 });
    const train = toyStream(data, { batchSize: 32, seed: 1 });
    const model = mlp(8, [16], 4, 1);
    const batchLogs: Record<string, number>[] = [];
    const h = await fit(model, train, {
      epochs: 3,
      optimizer: { name: 'adam', lr: 0.03 },
      callbacks: { onBatchEnd: (_s, logs) => void batchLogs.push(logs) },
    });
    expect(h.steps).toBe(24);
    expect(h.epochs).toHaveLength(3);
    expect(h.history.loss![2]).toBeLessThan(h.history.loss![0]!);
    expect(batchLogs).toHaveLength(24);
    expect(batchLogs[0]).toHaveProperty('lr', 0.03);
    expect(batchLogs[0]).toHaveProperty('hardLoss');
    const ev = await evaluate(
      model,
      toyStream(gaussianData({ seed: 2, count: 128, spread: 4 }), { batchSize: 64 }),
    );
    expect(ev.accuracy).toBeGreaterThan(0.9);
    model.dispose();
  });
});
