import { ConfigError } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { hintonExperiment } from './commands/reproduce-hinton.js';
import { loadDataset } from './toolkit.js';

describe('dataset.validationSize', () => {
  it('holds out the last N training examples as the evaluation split; the test split is not used', async () => {
    const full = await loadDataset({ name: 'synthetic', trainSize: 100, testSize: 40 });
    const held = await loadDataset({ name: 'synthetic', trainSize: 100, testSize: 40, validationSize: 30 });
    expect(held.train.count).toBe(70);
    expect(held.test.count).toBe(30);
    expect(held.name).toBe('synthetic (validation)');
    const px = full.train.images.length / full.train.count;
    expect(Array.from(held.train.labels)).toEqual(Array.from(full.train.labels.subarray(0, 70)));
    expect(Array.from(held.test.labels)).toEqual(Array.from(full.train.labels.subarray(70, 100)));
    expect(Array.from(held.test.images.subarray(0, px))).toEqual(
      Array.from(full.train.images.subarray(70 * px, 71 * px)),
    );
  });

  it('applies after trainSize, and refuses to hold out every training example', async () => {
    const held = await loadDataset({ name: 'mnist-embedded', trainSize: 1000, validationSize: 200 });
    expect([held.train.count, held.test.count]).toEqual([800, 200]);
    const attempt = loadDataset({ name: 'synthetic', trainSize: 50, validationSize: 50 });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      /dataset.validationSize: 50 .* 50 training examples .*\(at most 49\)/,
    );
  });
});

describe('reproduce hinton settings', () => {
  const base = { dataset: 'fashion-mnist', seeds: 1, quick: false, sweeps: false } as const;
  it('passes the validation split, alpha and the teacher jitter into the experiment', () => {
    const exp = hintonExperiment({ ...base, validationSize: 10_000, alpha: 0.9, jitter: 0 });
    expect(exp.dataset.validationSize).toBe(10_000);
    expect(exp.teacher && 'model' in exp.teacher ? exp.teacher.augment : 'none').toBeUndefined();
    expect(exp.students.filter((s) => s.loss === 'kd').map((s) => s.alpha)).toEqual([0.9]);
  });
  it("defaults to the paper's recipe: 2-px teacher jitter, alpha 0.5, the test split", () => {
    const exp = hintonExperiment(base);
    expect(exp.dataset.validationSize).toBeUndefined();
    expect(exp.teacher && 'model' in exp.teacher ? exp.teacher.augment : undefined).toEqual({ shift: 2 });
    expect(exp.students.find((s) => s.loss === 'kd')?.alpha).toBe(0.5);
  });
});
