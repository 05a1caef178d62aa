import type { DatasetSplit } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { datasetView, materializeView, subset, transferSet } from './dataset-view.js';
import { syntheticDataset } from './synthetic.js';

const ds = syntheticDataset({ seed: 9, trainCount: 60, testCount: 20, imageShape: [4, 4, 1], numClasses: 5 });

describe('dataset views', () => {
  it('selects by class, sample and take without copying, keeping source positions', () => {
    const v = datasetView(ds, 'train');
    expect(v.name).toBe('synthetic/train');
    expect(v.positions.length).toBe(60);
    const no3 = subset(ds, { excludeClasses: [3] });
    expect(no3.split).toBe(ds.train);
    expect(Array.from(no3.positions).every((p) => ds.train.labels[p] !== 3)).toBe(true);
    expect(no3.positions.length).toBe(48);
    const two = subset(no3, { classes: [1, 2], take: 5 });
    expect(two.positions.length).toBe(5);
    expect(Array.from(two.positions).every((p) => [1, 2].includes(ds.train.labels[p] as number))).toBe(true);
    expect(two.steps).toEqual(['exclude=3', 'classes=1,2', 'take=5']);
    const s1 = subset(ds, { sample: { count: 10, seed: 1 } });
    expect(subset(ds, { sample: { count: 10, seed: 1 } }).positions).toEqual(s1.positions);
    expect(subset(ds, { sample: { count: 10, seed: 2 } }).positions).not.toEqual(s1.positions);
    expect(Array.from(s1.positions)).toEqual([...s1.positions].sort((a, b) => a - b));
  });

  it('makes an unlabelled transfer set and materialises a view', () => {
    const t = transferSet(ds, { excludeClasses: [0], split: 'test' });
    expect(t.unlabelled).toBe(true);
    expect(t.name).toBe('synthetic/test');
    const m = materializeView(t);
    expect(m.count).toBe(t.positions.length);
    const p = t.positions[1] as number;
    expect((m as DatasetSplit).images.subarray(16, 32)).toEqual(
      ds.test.images.subarray(p * 16, (p + 1) * 16),
    );
    expect(Array.from(m.labels).includes(0)).toBe(false);
  });

  it('rejects bad selections', () => {
    expect(() => subset(ds, { classes: [5] })).toThrow(
      "subset: argument 'classes' must be an array of class ids in 0..4",
    );
    expect(() => subset(ds, { sample: { count: 100, seed: 1 } })).toThrow(
      /at most the 60 examples available/,
    );
    expect(() => datasetView(ds, 'val' as never)).toThrow(
      /datasetView: argument 'split' must be 'train' or 'test'/,
    );
  });
});
