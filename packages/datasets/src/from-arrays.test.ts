import '@tensorflow/tfjs-backend-cpu';
import type { ImageDataset } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBatchStream } from './batch-stream.js';
import { datasetView } from './dataset-view.js';
import { datasetFromArrays } from './from-arrays.js';

const rows = Array.from({ length: 50 }, (_, i) => [i, i % 7, (i * 3) % 11]);
const labels = Array.from({ length: 50 }, (_, i) => i % 5);

describe('datasetFromArrays', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('turns number[][] rows and number[] labels into a dataset with a seeded stratified validation split', () => {
    const a = datasetFromArrays({ features: rows, labels, seed: 1 });
    expect(a.featureShape).toEqual([3]);
    expect(a.numClasses).toBe(5);
    expect(a.train.count).toBe(40);
    expect(a.test.count).toBe(10);
    // two of each class held out
    expect(Array.from(a.test.labels).sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    const b = datasetFromArrays({ features: rows, labels, seed: 1 });
    const c = datasetFromArrays({ features: rows, labels, seed: 2 });
    expect(Array.from(b.test.features)).toEqual(Array.from(a.test.features));
    expect(Array.from(c.test.features)).not.toEqual(Array.from(a.test.features));
    // every row kept once, with its label
    const all = [...a.train.features, ...a.test.features];
    expect(all.filter((_, k) => k % 3 === 0).sort((x, y) => x - y)).toEqual(rows.map((r) => r[0]));
  });

  it('takes a Float32Array with an example shape, or tensors, and gives the same dataset', () => {
    const flat = Float32Array.from(rows.flat());
    const fromFlat = datasetFromArrays({
      features: flat,
      labels: Int32Array.from(labels),
      exampleShape: [3],
    });
    const x = tf.tensor2d(rows);
    const y = tf.tensor1d(labels, 'int32');
    const fromTensors = datasetFromArrays({ features: x, labels: y });
    x.dispose();
    y.dispose();
    expect(Array.from(fromTensors.train.features)).toEqual(Array.from(fromFlat.train.features));
    expect(Array.from(fromTensors.train.labels)).toEqual(Array.from(fromFlat.train.labels));
    const images = datasetFromArrays({
      features: new Float32Array(50 * 12),
      labels,
      exampleShape: [2, 2, 3],
    });
    expect(images.featureShape).toEqual([2, 2, 3]);
  });

  it('batches float features of any shape into [b, ...shape] tensors with their labels, without leaking', () => {
    const ds = datasetFromArrays({ features: rows, labels, validationFraction: 0 });
    const stream = createBatchStream(ds, { batchSize: 16, shuffle: true, seed: 3 });
    expect(stream.inputShape).toEqual([3]);
    const before = tf.memory().numTensors;
    let seen = 0;
    for (const batch of stream.epoch(0)) {
      expect(batch.xs.shape).toEqual([batch.labels.length, 3]);
      const xs = batch.xs.arraySync() as number[][];
      xs.forEach((row, i) => {
        const p = batch.indices[i]!;
        expect(row).toEqual(rows[p]);
        expect(batch.labels[i]).toBe(labels[p]);
      });
      seen += batch.labels.length;
      batch.xs.dispose();
    }
    expect(seen).toBe(50);
    expect(tf.memory().numTensors).toBe(before);
    // standardised: training part has mean 0
    const st = datasetFromArrays({ features: rows, labels, standardize: true });
    const col0 = Array.from(st.train.features).filter((_, k) => k % 3 === 0);
    expect(Math.abs(col0.reduce((s, v) => s + v, 0) / col0.length)).toBeLessThan(1e-6);
    // no labels: an unlabelled transfer set
    const t = createBatchStream(datasetFromArrays({ features: rows, numClasses: 5 }), { batchSize: 64 });
    const [only] = [...t.epoch(0)];
    expect(Array.from(only!.labels).every((yy) => yy === -1)).toBe(true);
    only!.xs.dispose();
  });

  it('refuses wrong types and shapes with the expected form', () => {
    expect(() => datasetFromArrays({ features: [[1, 2], [3]], labels: [0, 1] })).toThrow(
      "datasetFromArrays: argument 'features[1]' must be a row of 2 numbers like features[0], got an array of length 1",
    );
    expect(() => datasetFromArrays({ features: rows, labels: labels.slice(1) })).toThrow(
      "'labels' has 49 entries but 'features' has 50 examples",
    );
    expect(() => datasetFromArrays({ features: new Float32Array(10), labels: [0, 1, 0] })).toThrow(
      "argument 'features' must be a multiple of the 3 labels in length (or give exampleShape), got a Float32Array of length 10",
    );
    expect(() => datasetFromArrays({ features: 'abc' as never, labels })).toThrow(
      "argument 'features' must be number[][] rows, a Float32Array with exampleShape, or a float tensor",
    );
    expect(() => datasetFromArrays({ features: [[1], [Number.NaN]], labels: [0, 1] })).toThrow(
      "argument 'features (example 1, value 0)' must be finite numbers, got NaN",
    );
    expect(() => datasetFromArrays({ features: rows, labels: labels.map((y) => y + 0.5) })).toThrow(
      "argument 'labels[0]' must be a class id",
    );
  });

  it('refuses a Float32Array passed as the images of an image dataset (it used to become NaN batches)', () => {
    const bad = {
      name: 'floats',
      imageShape: [2, 2, 1],
      numClasses: 2,
      classNames: ['a', 'b'],
      train: { images: new Float32Array(8), labels: new Uint8Array(2), count: 2 },
      test: { images: new Float32Array(0), labels: new Uint8Array(0), count: 0 },
    } as unknown as ImageDataset;
    expect(() => datasetView(bad)).toThrow(
      "datasetView: argument 'source.train.images' must be a Uint8Array of pixel bytes 0..255 (for float features build a FeatureDataset with datasetFromArrays({ features, labels })), got a Float32Array of length 8",
    );
    expect(() => createBatchStream(bad, { batchSize: 2 })).toThrow('must be a Uint8Array of pixel bytes');
  });
});
