import type { Batch, ImageDataset } from '@distilljs/core';
import { InvalidArgumentError } from '@distilljs/core';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { horizontalFlip, randomShift } from './augment.js';
import { createBatchStream } from './batch-stream.js';
import { subset, transferSet } from './dataset-view.js';
import { syntheticDataset } from './synthetic.js';

const ds: ImageDataset = syntheticDataset({
  seed: 3,
  trainCount: 50,
  testCount: 20,
  imageShape: [6, 5, 1],
  numClasses: 4,
});

interface Plain {
  xs: number[];
  shape: number[];
  labels: number[];
  indices: number[];
}
function collect(batches: Iterable<Batch>): Plain[] {
  const out: Plain[] = [];
  for (const b of batches) {
    out.push({
      xs: Array.from(b.xs.dataSync()),
      shape: b.xs.shape,
      labels: Array.from(b.labels),
      indices: Array.from(b.indices),
    });
    b.xs.dispose();
  }
  return out;
}

describe('createBatchStream', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('implements BatchStream: float32 [b,h,w,c] in [0,1] = bytes/255, labels and source indices', () => {
    const s = createBatchStream(ds, { batchSize: 16 });
    expect(s.size).toBe(50);
    expect(s.batchesPerEpoch).toBe(4);
    expect(s.inputShape).toEqual([6, 5, 1]);
    expect(s.numClasses).toBe(4);
    expect(s.augmented).toBe(false);
    const before = tf.memory().numTensors;
    const batches = [...s.epoch(0)];
    expect(tf.memory().numTensors).toBe(before + 4);
    expect(batches.map((b) => b.xs.shape)).toEqual([
      [16, 6, 5, 1],
      [16, 6, 5, 1],
      [16, 6, 5, 1],
      [2, 6, 5, 1],
    ]);
    expect(batches[0]?.xs.dtype).toBe('float32');
    expect(batches[0]?.labels).toBeInstanceOf(Int32Array);
    expect(batches[0]?.indices).toBeInstanceOf(Int32Array);
    const b1 = batches[1] as Batch;
    const xs = b1.xs.dataSync();
    for (let i = 0; i < 16; i++) {
      const p = b1.indices[i] as number;
      expect(p).toBe(16 + i);
      expect(b1.labels[i]).toBe(ds.train.labels[p]);
      for (let k = 0; k < 30; k++)
        expect(xs[i * 30 + k]).toBeCloseTo((ds.train.images[p * 30 + k] as number) / 255, 6);
    }
    for (const b of batches) b.xs.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('epoch(e) is a pure function of seed and e; epochs and seeds differ; every example once', () => {
    const s = createBatchStream(ds, { batchSize: 8, shuffle: true, seed: 7 });
    const e1 = collect(s.epoch(1));
    expect(collect(s.epoch(1))).toEqual(e1);
    expect(collect(createBatchStream(ds, { batchSize: 8, shuffle: true, seed: 7 }).epoch(1))).toEqual(e1);
    const e2 = collect(s.epoch(2));
    expect(e2.flatMap((b) => b.indices)).not.toEqual(e1.flatMap((b) => b.indices));
    const other = collect(createBatchStream(ds, { batchSize: 8, shuffle: true, seed: 8 }).epoch(1));
    expect(other.flatMap((b) => b.indices)).not.toEqual(e1.flatMap((b) => b.indices));
    for (const e of [e1, e2]) {
      expect(e.flatMap((b) => b.indices).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      );
    }
    // Resuming: asking for epoch 2 first gives the same as after epoch 1.
    const fresh = createBatchStream(ds, { batchSize: 8, shuffle: true, seed: 7 });
    expect(collect(fresh.epoch(2))).toEqual(e2);
  });

  it('drop, take, class filters and unlabelled', () => {
    const dropped = createBatchStream(ds, { batchSize: 16, drop: true });
    expect(dropped.batchesPerEpoch).toBe(3);
    expect(dropped.size).toBe(48);
    expect(collect(dropped.epoch(0)).map((b) => b.labels.length)).toEqual([16, 16, 16]);

    const taken = createBatchStream(ds, { batchSize: 16, take: 10 });
    expect(taken.size).toBe(10);
    expect(collect(taken.epoch(0))[0]?.indices).toEqual(Array.from({ length: 10 }, (_, i) => i));

    const only = collect(
      createBatchStream(ds, { batchSize: 64, classFilter: [1, 3], split: 'test' }).epoch(0),
    );
    expect(only[0]?.labels.every((y) => y === 1 || y === 3)).toBe(true);
    expect(only[0]?.labels.length).toBe(Array.from(ds.test.labels).filter((y) => y === 1 || y === 3).length);
    for (const [i, p] of (only[0]?.indices ?? []).entries())
      expect(ds.test.labels[p]).toBe(only[0]?.labels[i]);

    const without = collect(createBatchStream(ds, { batchSize: 64, excludeClasses: [2] }).epoch(0));
    expect(without[0]?.labels.includes(2)).toBe(false);
    expect(without[0]?.labels.length).toBe(Array.from(ds.train.labels).filter((y) => y !== 2).length);

    const unl = collect(
      createBatchStream(transferSet(ds, { excludeClasses: [0] }), { batchSize: 64 }).epoch(0),
    );
    expect(unl[0]?.labels.every((y) => y === -1)).toBe(true);
    // Indices still point into the source split, where class 0 never appears.
    expect(unl[0]?.indices.some((p) => ds.train.labels[p] === 0)).toBe(false);
    const unl2 = createBatchStream(ds, { batchSize: 64, unlabelled: true });
    expect(collect(unl2.epoch(0))[0]?.labels.every((y) => y === -1)).toBe(true);
  });

  it('normalises per channel after scaling', () => {
    const rgb = syntheticDataset({
      seed: 1,
      trainCount: 4,
      testCount: 0,
      imageShape: [2, 2, 3],
      numClasses: 2,
    });
    const s = createBatchStream(rgb, {
      batchSize: 4,
      normalize: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.5] },
    });
    const [b] = collect(s.epoch(0));
    const mean = [0.5, 0.4, 0.3];
    const std = [0.2, 0.25, 0.5];
    b?.xs.forEach((v, k) => {
      const c = k % 3;
      expect(v).toBeCloseTo(
        ((rgb.train.images[k] as number) / 255 - (mean[c] as number)) / (std[c] as number),
        5,
      );
    });
  });

  it('augments reproducibly per (seed, epoch) and marks the stream augmented', () => {
    const opts = { batchSize: 10, seed: 5, augment: [randomShift(2), horizontalFlip()] };
    const s = createBatchStream(ds, opts);
    expect(s.augmented).toBe(true);
    const a = collect(s.epoch(0));
    expect(collect(createBatchStream(ds, opts).epoch(0))).toEqual(a);
    expect(collect(s.epoch(1))).not.toEqual(a);
    const plain = collect(createBatchStream(ds, { batchSize: 10 }).epoch(0));
    expect(a.map((b) => b.indices)).toEqual(plain.map((b) => b.indices));
    expect(a.map((b) => b.xs)).not.toEqual(plain.map((b) => b.xs));
  });

  it('fingerprint changes with data, selection, order, preprocessing and augmentation', () => {
    const base = { batchSize: 8, shuffle: true, seed: 1 };
    const fp = createBatchStream(ds, base).fingerprint;
    expect(fp).toMatch(/^synthetic-train-[0-9a-f]{16}$/);
    expect(createBatchStream(ds, base).fingerprint).toBe(fp);
    const variants = [
      createBatchStream(ds, { ...base, seed: 2 }),
      createBatchStream(ds, { ...base, shuffle: false }),
      createBatchStream(ds, { ...base, split: 'test' }),
      createBatchStream(ds, { ...base, take: 10 }),
      createBatchStream(ds, { ...base, excludeClasses: [3] }),
      createBatchStream(ds, { ...base, normalize: { mean: 0.5, std: 0.5 } }),
      createBatchStream(ds, { ...base, augment: randomShift(2) }),
      createBatchStream(ds, { ...base, augment: randomShift(1) }),
      createBatchStream(ds, { ...base, unlabelled: true }),
      createBatchStream(
        syntheticDataset({ seed: 4, trainCount: 50, testCount: 20, imageShape: [6, 5, 1], numClasses: 4 }),
        base,
      ),
    ];
    const fps = new Set([fp, ...variants.map((v) => v.fingerprint)]);
    expect(fps.size).toBe(variants.length + 1);
    // The data fingerprint ignores order only.
    expect(createBatchStream(ds, { ...base, seed: 2 }).dataFingerprint).toBe(
      createBatchStream(ds, base).dataFingerprint,
    );
    expect(variants[5]?.dataFingerprint).not.toBe(createBatchStream(ds, base).dataFingerprint);
  });

  it('leaks no tensor when an augmentation throws mid-epoch', () => {
    let calls = 0;
    const boom = {
      name: 'boom',
      apply(src: Uint8Array, dst: Uint8Array) {
        if (++calls > 20) throw new Error('boom');
        dst.set(src);
      },
    };
    const before = tf.memory().numTensors;
    expect(() => collect(createBatchStream(ds, { batchSize: 16, augment: boom }).epoch(0))).toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('accepts a view and rejects bad options with the house error', () => {
    const view = subset(ds, { classes: [0], split: 'test' });
    const s = createBatchStream(view, { batchSize: 4 });
    expect(s.size).toBe(view.positions.length);
    expect(() => createBatchStream(ds, { batchSize: 0 })).toThrow(
      "createBatchStream: argument 'batchSize' must be an integer >= 1, got 0",
    );
    expect(() => createBatchStream(ds, { batchSize: 4, normalize: { mean: [0.1, 0.2], std: 1 } })).toThrow(
      /createBatchStream: argument 'normalize.mean' must be a finite number or an array of 1 finite numbers/,
    );
    expect(() => createBatchStream(ds, { batchSize: 4, normalize: { mean: 0, std: 0 } })).toThrow(
      InvalidArgumentError,
    );
    expect(() => createBatchStream(ds, { batchSize: 4, classFilter: [7] })).toThrow(
      /subset: argument 'classes'/,
    );
    expect(() => createBatchStream(ds, { batchSize: 4, augment: {} as never })).toThrow(/argument 'augment'/);
    expect(() => s.epoch(-1)).toThrow("BatchStream.epoch: argument 'e' must be an integer >= 0, got -1");
  });
});
