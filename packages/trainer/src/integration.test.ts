import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatchStream, randomShift, syntheticDataset } from '@distilljs/datasets';
import { createModel } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameBits, weightBytes } from './__fixtures__/toy.js';
import { distill } from './distill.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';

const dirs: string[] = [];
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Counts forward passes of a model. */
function countApplies(model: tfl.LayersModel): { calls: number } {
  const counter = { calls: 0 };
  const original = model.apply.bind(model);
  model.apply = ((...args: Parameters<typeof original>) => {
    counter.calls++;
    return original(...args);
  }) as typeof model.apply;
  return counter;
}

describe('with the zoo (@distilljs/models) and real batch streams (@distilljs/datasets)', () => {
  const dataset = syntheticDataset({
    seed: 1,
    numClasses: 4,
    imageShape: [12, 12, 1],
    trainCount: 96,
    testCount: 48,
  });

  it('max-norm constraints hold after every update, as Keras applies them (a feature-tap model fits on its logits)', async () => {
    const model = createModel('mlp', {
      inputShape: [12, 12, 1],
      numClasses: 4,
      hiddenUnits: [16],
      maxNorm: 0.5,
      seed: 1,
      features: true,
    });
    expect(model.outputs.length).toBeGreaterThan(1);
    await fit(model, createBatchStream(dataset, { batchSize: 32, shuffle: true, seed: 1 }), {
      epochs: 2,
      optimizer: { name: 'sgd', lr: 1 },
    });
    const kernel = model.trainableWeights.find((w) => w.shape.length === 2)!.read();
    const norms = tf.tidy(() => tf.sqrt(tf.sum(tf.square(kernel), 0)).dataSync());
    expect(Math.max(...norms)).toBeLessThanOrEqual(0.5 + 1e-4);
    model.dispose();
  });

  it('attention transfer between zoo CNNs with feature taps; the teacher runs per batch and never changes', async () => {
    const teacher = createModel('lenet5', {
      inputShape: [12, 12, 1],
      numClasses: 4,
      seed: 2,
      features: true,
    });
    const student = createModel('lenet5', {
      inputShape: [12, 12, 1],
      numClasses: 4,
      seed: 3,
      features: true,
    });
    const before = weightBytes(teacher);
    const small = syntheticDataset({
      seed: 1,
      numClasses: 4,
      imageShape: [12, 12, 1],
      trainCount: 32,
      testCount: 16,
    });
    const h = await distill({
      teacher,
      student,
      data: createBatchStream(small, { batchSize: 16, shuffle: true, seed: 4 }),
      validation: createBatchStream(small, { split: 'test', batchSize: 16 }),
      epochs: 2,
      featureLoss: { loss: 'attention-transfer', weight: 100 },
    });
    expect(h.steps).toBe(4);
    expect(h.notes.join()).toMatch(/cache: off \(a feature loss/);
    expect(h.final?.evaluation?.count).toBe(16);
    expect(sameBits(weightBytes(teacher), before)).toBe(true);
  });

  it('teacher-output cache in a file: the second run loads it and runs no teacher pass; augmentation turns it off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trainer-cache-'));
    dirs.push(dir);
    const teacher = createModel('mlp', {
      inputShape: [12, 12, 1],
      numClasses: 4,
      hiddenUnits: [32],
      seed: 5,
    });
    const calls = countApplies(teacher);
    const data = createBatchStream(dataset, { batchSize: 32, shuffle: true, seed: 6 });
    const run = async (stream: typeof data) => {
      const student = createModel('mlp', {
        inputShape: [12, 12, 1],
        numClasses: 4,
        hiddenUnits: [8],
        seed: 7,
      });
      const h = await distill({ teacher, student, data: stream, epochs: 2, teacherCache: { dir } });
      return {
        h,
        accuracy: (await evaluate(student, createBatchStream(dataset, { split: 'test', batchSize: 48 })))
          .accuracy,
      };
    };
    const first = await run(data);
    expect(calls.calls).toBe(3);
    expect(readdirSync(dir).filter((f) => f.endsWith('.djscache'))).toHaveLength(1);
    calls.calls = 0;
    // Another shuffling seed: same examples and preprocessing, so the same cache file applies.
    const second = await run(createBatchStream(dataset, { batchSize: 32, shuffle: true, seed: 6 }));
    expect(calls.calls).toBe(0);
    expect(second.h.notes.join()).toMatch(/96 outputs loaded from/);
    expect(second.h.history.loss).toEqual(first.h.history.loss);
    expect(second.accuracy).toBe(first.accuracy);
    calls.calls = 0;
    const augmented = createBatchStream(dataset, {
      batchSize: 32,
      shuffle: true,
      seed: 6,
      augment: randomShift(1),
    });
    expect(augmented.augmented).toBe(true);
    const third = await run(augmented);
    expect(calls.calls).toBe(6);
    expect(third.h.notes.join()).toMatch(/cache: off/);
  });
});
