import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, toyStream } from './__fixtures__/toy.js';
import { TrainingDivergedError } from './divergence.js';
import { fit } from './fit.js';

const dirs: string[] = [];
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('divergence', () => {
  const data = gaussianData({ seed: 3, count: 160 });

  it('Adam at lr 1e9 stops as diverged before the update, keeping the last good checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trainer-div-'));
    dirs.push(dir);
    const model = mlp(8, [16], 4, 1);
    const ok = await fit(model, toyStream(data, { batchSize: 16 }), {
      epochs: 1,
      optimizer: { name: 'adam', lr: 0.01 },
      checkpoint: { dir },
    });
    expect(ok.stopReason).toBe('completed');
    const error = await fit(model, toyStream(data, { batchSize: 16 }), {
      epochs: 3,
      optimizer: { name: 'adam', lr: 1e9 },
      checkpoint: { dir: join(dir, 'again') },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const d = error as TrainingDivergedError;
    expect(d.code).toBe('diverged');
    expect(d.reason).toBe('loss-bound');
    expect(d.loss).toBeGreaterThan(1000);
    expect(d.message).toMatch(/fit: training diverged: the loss reached .* past its bound/);

    expect(d.checkpoint).toBeUndefined();
    expect(d.message).toMatch(/no checkpoint had been written yet/);
  });

  it('stops before the update that explodes and keeps the epoch checkpoint written before it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trainer-div-'));
    dirs.push(dir);
    const model = mlp(8, [16], 4, 1);
    const error = await fit(model, toyStream(data, { batchSize: 16 }), {
      epochs: 3,
      checkpoint: { dir },
      // after epoch 0 (and its checkpoint), the weights blow up: the next step's loss is far past the bound
      callbacks: {
        onEpochEnd: () => model.setWeights(model.getWeights().map((w) => tf.mul(w, 1e6))),
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const d = error as TrainingDivergedError;
    expect(d.step).toBe(10);
    expect(d.checkpoint).toBe(join(dir, 'ckpt-0000000010.djsckpt'));
    expect(d.message).toContain(`the last good checkpoint ${join(dir, 'ckpt-0000000010.djsckpt')} is kept`);
    expect(readdirSync(dir)).toEqual(['ckpt-0000000010.djsckpt']);
  });

  it('an epoch at chance accuracy with no fall in loss is divergence; a slow but learning run is not', async () => {
    const model = mlp(8, [16], 4, 1);
    model.setWeights(model.getWeights().map((w) => tf.zerosLike(w)));
    const error = await fit(model, toyStream(data, { batchSize: 16 }), {
      epochs: 2,
      optimizer: { name: 'sgd', lr: 1e-30 },
      divergence: { chance: true },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    expect((error as TrainingDivergedError).reason).toBe('chance');
    expect((error as Error).message).toMatch(/after epoch 0/);
    const off = await fit(model, toyStream(data, { batchSize: 16 }), {
      epochs: 1,
      optimizer: { name: 'sgd', lr: 1e-30 },
    });
    expect(off.stopReason).toBe('completed');
    const slow = await fit(mlp(8, [16], 4, 1), toyStream(data, { batchSize: 16 }), {
      epochs: 1,
      optimizer: { name: 'sgd', lr: 1e-4 },
      divergence: { chance: true },
    });
    expect(slow.stopReason).toBe('completed');
  });
});
