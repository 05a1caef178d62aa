import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, sameBits, toyStream, weightBytes } from './__fixtures__/toy.js';
import { distill } from './distill.js';
import { earlyStoppingCallback } from './early-stopping.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';
import { multiSeed } from './multi-seed.js';
import { createRunRecord } from './run-record.js';
import { TrainingController } from './training-controller.js';

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

  it('same seed, same backend: the same metrics and weights; another seed: different dropout masks', async () => {
    const data = gaussianData({ seed: 3, count: 96 });
    const validation = toyStream(gaussianData({ seed: 4, count: 64 }), { batchSize: 32 });
    const run = async (seed: number) => {
      // One seed drives initialisation (the model), shuffling (the stream) and dropout (the trainer).
      const model = mlp(8, [16], 4, seed, { dropout: 0.5 });
      const h = await fit(model, toyStream(data, { batchSize: 32, seed }), { epochs: 2, seed, validation });
      const w = weightBytes(model);
      model.dispose();
      return { h, w };
    };
    const a = await run(7);
    const b = await run(7);
    expect(a.h.history.loss).toEqual(b.h.history.loss);
    expect(a.h.final?.evaluation).toEqual(b.h.final?.evaluation);
    expect(sameBits(a.w, b.w)).toBe(true);
    // Only the trainer seed differs: the dropout masks differ, so the losses do.
    const model = mlp(8, [16], 4, 7, { dropout: 0.5 });
    const c = await fit(model, toyStream(data, { batchSize: 32, seed: 7 }), { epochs: 2, seed: 8 });
    expect(c.history.loss).not.toEqual(a.h.history.loss);
  });

  it('early stopping, best and final epochs, and Keras-style columns', async () => {
    const data = gaussianData({ seed: 3, count: 64 });
    const validation = toyStream(gaussianData({ seed: 4, count: 64 }), { batchSize: 64 });
    const model = mlp(8, [16], 4, 1);
    const messages: string[] = [];
    // lr so large the validation loss gets worse after the first epochs.
    const h = await fit(model, toyStream(data, { batchSize: 8 }), {
      epochs: 30,
      optimizer: { name: 'sgd', lr: 2 },
      clipGradNorm: 50,
      validation,
      earlyStopping: { monitor: 'val_acc', patience: 2 },
      callbacks: { onMessage: (m) => void messages.push(m) },
    });
    expect(h.stopReason).toBe('early-stopping');
    expect(h.epochs.length).toBeLessThan(30);
    expect(h.best?.monitor).toBe('val_acc');
    expect(h.best?.mode).toBe('max');
    const accs = h.history.val_acc!;
    expect(h.best?.logs.val_acc).toBe(Math.max(...accs));
    expect(accs.slice(h.best!.epoch + 1).every((a) => a <= h.best!.logs.val_acc!)).toBe(true);
    expect(h.epochs.length - 1 - h.best!.epoch).toBe(2);
    expect(h.final?.evaluation?.confusionMatrix).toHaveLength(4);
    expect(h.best?.evaluation?.count).toBe(64);
    expect(messages.join()).toMatch(
      /early stopping after epoch \d+: 'val_acc' has not improved for 2 epochs/,
    );
  });

  it('a controller stops after the current batch; yieldEvery lets timers run during training', async () => {
    const data = gaussianData({ seed: 3, count: 64 });
    const controller = new TrainingController();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const h = await fit(mlp(8, [16], 4, 1), toyStream(data, { batchSize: 8 }), {
      epochs: 5,
      controller,
      yieldEvery: 1,
      callbacks: {
        onBatchEnd: (step) => {
          if (step === 10) controller.stop('user pressed stop');
        },
      },
    });
    clearInterval(timer);
    expect(h.stopReason).toBe('stopped');
    expect(h.steps).toBe(11);
    expect(h.epochs).toHaveLength(2); // epoch 0 and the partial epoch 1
    expect(ticks).toBeGreaterThan(5);
  });

  it('multiSeed reports mean and std over seeds; the run record is JSON with versions and timings', async () => {
    const data = gaussianData({ seed: 3, count: 64 });
    const test = toyStream(gaussianData({ seed: 9, count: 64 }), { batchSize: 64 });
    let last: Awaited<ReturnType<typeof fit>> | undefined;
    const r = await multiSeed([1, 2, 3], async (seed) => {
      const student = mlp(8, [8], 4, seed);
      last = await distill({
        teacher: mlp(8, [16], 4, 99),
        student,
        data: toyStream(data, { batchSize: 16, seed }),
        epochs: 1,
        seed,
      });
      return evaluate(student, test);
    });
    const accs = r.runs.map((x) => x.accuracy);
    const mean = accs.reduce((a, b) => a + b, 0) / 3;
    expect(r.summary.accuracy!.mean).toBeCloseTo(mean, 12);
    expect(r.summary.accuracy!.std).toBeCloseTo(
      Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / 2),
      12,
    );
    expect(r.summary).not.toHaveProperty('confusionMatrix');
    const record = JSON.parse(
      JSON.stringify(
        createRunRecord({ config: { loss: 'kd', T: 4 }, history: last!, seed: 3, finalMetrics: r.runs[2] }),
      ),
    );
    expect(record.format).toBe('distilljs-run');
    expect(record.backend).toBe('cpu');
    expect(record.versions['@tensorflow/tfjs-core']).toBe('4.22.0');
    expect(record.versions['@distilljs/trainer']).toMatch(/^\d+\.\d+\.\d+/);
    expect(record.history.steps).toBe(4);
    expect(record.timings.epochSeconds).toHaveLength(1);
    expect(record.finalMetrics.accuracy).toBe(r.runs[2]!.accuracy);
    expect(record.config).toEqual({ loss: 'kd', T: 4 });
  });

  it('earlyStoppingCallback stops through the controller at the end of an epoch', async () => {
    const data = gaussianData({ seed: 3, count: 64 });
    const controller = new TrainingController();
    let epochs = 0;
    // 'lr' never improves under a constant schedule: the callback stops after 1 + patience epochs.
    const h = await fit(mlp(8, [16], 4, 1), toyStream(data, { batchSize: 16 }), {
      epochs: 10,
      controller,
      callbacks: [
        earlyStoppingCallback(controller, { monitor: 'lr', patience: 2, mode: 'min' }),
        { onEpochEnd: () => void epochs++ },
      ],
    });
    expect(h.stopReason).toBe('stopped');
    expect(epochs).toBe(3);
    expect(h.steps).toBe(12);
    expect(controller.reason).toMatch(/early stopping after epoch 2: 'lr' has not improved for 2 epochs/);
  });
});
