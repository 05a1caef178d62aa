import { describe, expect, it } from 'vitest';
import { syntheticDataset } from './synthetic.js';

describe('syntheticDataset', () => {
  it('is determined by its options', () => {
    const a = syntheticDataset({ seed: 1, trainCount: 100, testCount: 30 });
    const b = syntheticDataset({ seed: 1, trainCount: 100, testCount: 30 });
    const c = syntheticDataset({ seed: 2, trainCount: 100, testCount: 30 });
    expect(a.train.images).toEqual(b.train.images);
    expect(a.test.labels).toEqual(b.test.labels);
    expect(a.train.images).not.toEqual(c.train.images);
    expect(a.imageShape).toEqual([28, 28, 1]);
    expect(a.train.images.length).toBe(100 * 784);
  });

  it('is class-balanced', () => {
    const d = syntheticDataset({
      seed: 3,
      numClasses: 4,
      trainCount: 102,
      testCount: 8,
      imageShape: [8, 8, 3],
    });
    const counts = [0, 0, 0, 0];
    for (const y of d.train.labels) counts[y] = (counts[y] as number) + 1;
    expect(counts).toEqual([26, 26, 25, 25]);
    expect(d.classNames).toHaveLength(4);
  });

  it('is learnable: a nearest-class-mean classifier fit on train is > 90% accurate on test', () => {
    const d = syntheticDataset({ seed: 4, trainCount: 500, testCount: 200 });
    const size = 784;
    const means = Array.from({ length: 10 }, () => new Float64Array(size));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < d.train.count; i++) {
      const y = d.train.labels[i] as number;
      counts[y]++;
      const m = means[y] as Float64Array;
      for (let k = 0; k < size; k++) m[k] = (m[k] as number) + (d.train.images[i * size + k] as number);
    }
    for (const [y, m] of means.entries()) {
      for (let k = 0; k < size; k++) m[k] = (m[k] as number) / counts[y];
    }
    let correct = 0;
    for (let i = 0; i < d.test.count; i++) {
      let best = -1;
      let bestD = Number.POSITIVE_INFINITY;
      for (let y = 0; y < 10; y++) {
        let dist = 0;
        for (let k = 0; k < size; k++)
          dist += ((d.test.images[i * size + k] as number) - (means[y] as Float64Array)[k]!) ** 2;
        if (dist < bestD) [best, bestD] = [y, dist];
      }
      if (best === d.test.labels[i]) correct++;
    }
    expect(correct / d.test.count).toBeGreaterThan(0.9);
    // ...and not trivially constant: the noise makes examples of a class differ.
    expect(d.train.images.subarray(0, size)).not.toEqual(d.train.images.subarray(size * 10, size * 11));
  });

  it('rejects bad options', () => {
    expect(() => syntheticDataset({ seed: Number.NaN })).toThrow(
      "syntheticDataset: argument 'seed' must be a finite number",
    );
    expect(() => syntheticDataset({ seed: 1, numClasses: 1 })).toThrow(/argument 'numClasses'/);
    expect(() => syntheticDataset({ seed: 1, imageShape: [28, 28] as never })).toThrow(
      /argument 'imageShape'/,
    );
  });
});
