import { existsSync } from 'node:fs';
import type { ImageDataset } from '@distilljs/core';
import { NotInstalledError } from '@distilljs/core';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../__fixtures__/files.js';
import { createBatchStream } from '../batch-stream.js';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from './load-fashion-mnist.js';

const MISSING = `Fashion-MNIST is not installed in ${DEBIAN_FASHION_MNIST_DIR}: run \`apt-get install dataset-fashion-mnist\` (CI's .ci/run installs it)`;

let loaded: Promise<ImageDataset> | undefined;
function fashion(): Promise<ImageDataset> {
  expect(existsSync(DEBIAN_FASHION_MNIST_DIR), MISSING).toBe(true);
  loaded ??= loadFashionMnist();
  return loaded;
}

function perClass(labels: Uint8Array): number[] {
  const out = new Array(10).fill(0);
  for (const y of labels) out[y]++;
  return out;
}

describe("loadFashionMnist (Debian's dataset-fashion-mnist)", () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('gives 60,000 / 10,000 images of 28x28x1 with exactly 6,000 / 1,000 per class', async () => {
    const ds = await fashion();
    expect(ds.name).toBe('fashion-mnist');
    expect(ds.imageShape).toEqual([28, 28, 1]);
    expect(ds.classNames[9]).toBe('Ankle boot');
    expect(ds.train.count).toBe(60_000);
    expect(ds.test.count).toBe(10_000);
    expect(ds.train.images.length).toBe(60_000 * 784);
    expect(ds.test.images.length).toBe(10_000 * 784);
    expect(perClass(ds.train.labels)).toEqual(new Array(10).fill(6_000));
    expect(perClass(ds.test.labels)).toEqual(new Array(10).fill(1_000));
    // Real images, not zeros: mean pixel of the training set is about 72.9 (0.286 x 255).
    let sum = 0;
    for (let i = 0; i < ds.train.images.length; i += 97) sum += ds.train.images[i] as number;
    expect(sum / Math.ceil(ds.train.images.length / 97)).toBeGreaterThan(65);
    expect(sum / Math.ceil(ds.train.images.length / 97)).toBeLessThan(80);
  });

  it('one epoch in batches of 128 keeps tf.memory().numTensors flat and RSS bounded', async () => {
    const ds = await fashion();
    const stream = createBatchStream(ds, { batchSize: 128, shuffle: true, seed: 1 });
    expect(stream.batchesPerEpoch).toBe(469);
    const before = tf.memory().numTensors;
    global.gc?.();
    const rssStart = process.memoryUsage().rss;
    let rssMax = rssStart;
    let seen = 0;
    let batches = 0;
    for (const batch of stream.epoch(0)) {
      const mean = tf.tidy(() => tf.mean(batch.xs).dataSync()[0] as number);
      expect(mean).toBeGreaterThanOrEqual(0);
      expect(mean).toBeLessThanOrEqual(1);
      seen += batch.labels.length;
      batch.xs.dispose();
      expect(tf.memory().numTensors).toBe(before);
      batches++;
      if (batches % 16 === 0) rssMax = Math.max(rssMax, process.memoryUsage().rss);
    }
    rssMax = Math.max(rssMax, process.memoryUsage().rss);
    expect(seen).toBe(60_000);
    expect(tf.memory().numTensors).toBe(before);
    const growthMiB = (rssMax - rssStart) / 2 ** 20;
    console.log(
      `fashion-mnist epoch (469 batches of 128): RSS ${(rssStart / 2 ** 20).toFixed(0)} MiB at start, peak ${(rssMax / 2 ** 20).toFixed(0)} MiB (+${growthMiB.toFixed(0)} MiB); numTensors ${before} -> ${tf.memory().numTensors}`,
    );
    // The whole split as float32 would be 188 MB; batching from bytes must stay far below that.
    expect(growthMiB).toBeLessThan(100);
  });

  it('names the install command when the Debian directory is absent', async () => {
    if (existsSync(DEBIAN_FASHION_MNIST_DIR)) {
      // Point the default at a directory that does not exist by asking for it explicitly.
      await expect(loadFashionMnist({ dir: `${tempDir()}/nope` })).rejects.toThrow(
        /loadFashionMnist: argument 'dir' must be an existing directory/,
      );
    } else {
      await expect(loadFashionMnist({ source: 'dir' })).rejects.toThrow(NotInstalledError);
    }
  });
});
