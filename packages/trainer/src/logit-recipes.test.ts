/**
 * The trainer recipes of the post-2022 logit methods: CTKD's learnable temperature (global and per
 * example) with its reversal curriculum, and MLKD's weak/strong augmentation pairing.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, sameBits, toyStream, weightBytes } from './__fixtures__/toy.js';
import { distill } from './distill.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const data = gaussianData({ seed: 21, count: 96, dim: 8, numClasses: 4 });
const INITIAL_T = 1 + 20 / (1 + Math.exp(-1)); // tStart + tEnd * sigmoid(1)

function temperatures(h: Awaited<ReturnType<typeof distill>>): number[] {
  return h.epochs.map((e) => e.logs.temperature!);
}

describe('CTKD (learnable temperature)', () => {
  it('keeps T at its start while lambda is 0, then learns it; logs it per epoch; never moves the teacher', async () => {
    const teacher = mlp(8, [16], 4, 1);
    const before = weightBytes(teacher);
    for (const loss of ['kd', 'dkd']) {
      const student = mlp(8, [8], 4, 2);
      const seen: number[] = [];
      const tensors: number[] = [];
      const h = await distill({
        teacher,
        student,
        loss,
        data: toyStream(data, { batchSize: 32, seed: 1 }),
        epochs: 3,
        alpha: 0.9,
        optimizer: { name: 'adam', lr: 0.05 },
        ctkd: { loops: 2 },
        callbacks: {
          onBatchEnd: (_s, logs) => void seen.push(logs.temperature!),
          onEpochEnd: () => void tensors.push(tf.memory().numTensors),
        },
      });
      const perEpoch = temperatures(h);
      expect(perEpoch).toHaveLength(3);
      // epoch 0: lambda = 0, so the reversed gradient is 0 and T stays at its initial value
      for (const t of seen.slice(0, 3)) expect(t).toBeCloseTo(INITIAL_T, 4);
      expect(Math.abs(perEpoch[2]! - INITIAL_T)).toBeGreaterThan(1e-3);
      expect(new Set(tensors).size, `${loss}: live tensors per epoch ${tensors}`).toBe(1);
      student.dispose();
    }
    expect(sameBits(before, weightBytes(teacher))).toBe(true);
    teacher.dispose();
  });

  it('with lambdaMax 0 the temperature never moves; per example it is a [batch, 1] MLP output', async () => {
    const teacher = mlp(8, [16], 4, 1);
    const student = mlp(8, [8], 4, 2);
    const frozen = await distill({
      teacher,
      student,
      data: toyStream(data, { batchSize: 32, seed: 1 }),
      epochs: 2,
      optimizer: { name: 'adam', lr: 0.05 },
      ctkd: { loops: 1, lambdaMax: 0 },
    });
    for (const t of temperatures(frozen)) expect(t).toBeCloseTo(INITIAL_T, 5);
    const perExample = await distill({
      teacher,
      student,
      data: toyStream(data, { batchSize: 32, seed: 1 }),
      epochs: 2,
      optimizer: { name: 'adam', lr: 0.05 },
      ctkd: { perExample: true, loops: 1 },
    });
    for (const t of temperatures(perExample)) {
      expect(t).toBeGreaterThan(1);
      expect(t).toBeLessThan(21);
    }
    tf.dispose([teacher, student] as unknown as tf.Tensor[]);
  });

  it('is refused with a loss other than kd and dkd, and for bad options, naming the option', async () => {
    const teacher = mlp(8, [16], 4, 1);
    const student = mlp(8, [8], 4, 2);
    const base = { teacher, student, data: toyStream(data, { batchSize: 32 }), epochs: 1 };
    await expect(distill({ ...base, loss: 'dist', ctkd: {} })).rejects.toThrow(
      /'ctkd'.*'kd' or 'dkd', not 'dist'/,
    );
    await expect(distill({ ...base, ctkd: { loops: 0 } })).rejects.toThrow(
      /'ctkd.loops' must be an integer >= 1/,
    );
    await expect(distill({ ...base, ctkd: { tEnd: -1 } })).rejects.toThrow(/'ctkd.tEnd'/);
    tf.dispose([teacher, student] as unknown as tf.Tensor[]);
  });
});

describe("MLKD's weak/strong pairing (strongView)", () => {
  function counted(model: tfl.LayersModel): { calls: number } {
    const counter = { calls: 0 };
    const original = model.apply.bind(model);
    model.apply = ((...args: Parameters<typeof original>) => {
      counter.calls++;
      return original(...args);
    }) as typeof model.apply;
    return counter;
  }

  it('adds the strong view to every step: the teacher runs on each strong batch, the soft term grows', async () => {
    const teacher = mlp(8, [16], 4, 1);
    const run = async (withStrong: boolean) => {
      const student = mlp(8, [8], 4, 2);
      const calls = counted(teacher);
      const h = await distill({
        teacher,
        student,
        loss: 'mlkd',
        data: toyStream(data, { batchSize: 32, seed: 4 }),
        ...(withStrong ? { strongView: toyStream(data, { batchSize: 32, seed: 4, augmented: true }) } : {}),
        epochs: 1,
        optimizer: { name: 'sgd', lr: 1e-9 },
      });
      student.dispose();
      return { calls: calls.calls, soft: h.epochs[0]!.logs.softLoss!, hard: h.epochs[0]!.logs.hardLoss! };
    };
    const weakOnly = await run(false);
    const paired = await run(true);
    // weak view from the cache (one pass of 3 batches); the strong view needs the teacher at every step
    expect(paired.calls).toBe(weakOnly.calls + 3);
    expect(paired.soft).toBeGreaterThan(weakOnly.soft);
    expect(paired.hard).toBeGreaterThan(1.5 * weakOnly.hard);
    teacher.dispose();
  });

  it('refuses a strong view in another order, or with a loss other than mlkd', async () => {
    const teacher = mlp(8, [16], 4, 1);
    const student = mlp(8, [8], 4, 2);
    const base = { teacher, student, data: toyStream(data, { batchSize: 32, seed: 4 }), epochs: 1 };
    const other = toyStream(data, { batchSize: 32, seed: 5, augmented: true });
    await expect(distill({ ...base, loss: 'mlkd', strongView: other })).rejects.toThrow(/same order/);
    await expect(distill({ ...base, loss: 'kd', strongView: other })).rejects.toThrow(
      /'strongView'.*'mlkd', not 'kd'/,
    );
    tf.dispose([teacher, student] as unknown as tf.Tensor[]);
  });
});
