import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { embeddedMnistFromDigits, parseIdx } from '@distilljs/datasets';
import { afterAll, describe, expect, it } from 'vitest';
import { copyWasmBinaries, packData, readMnistDigits, takeSplit } from './pack-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'playground-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('takeSplit', () => {
  it('keeps the first n images with their labels', () => {
    const split = {
      images: Uint8Array.from([1, 1, 2, 2, 3, 3]),
      labels: Uint8Array.from([7, 8, 9]),
      count: 3,
    };
    expect(takeSplit(split, 2, 2)).toEqual({
      images: Uint8Array.from([1, 1, 2, 2]),
      labels: Uint8Array.from([7, 8]),
      count: 2,
    });
    expect(takeSplit(split, 10, 2).count).toBe(3);
  });
});

describe('packData', () => {
  it('packs the embedded MNIST digits into gzipped IDX files that decode to the datasets split', async () => {
    const manifest = await packData(tmp, { fashionDir: join(tmp, 'no-fashion-here') });
    expect(manifest.datasets.map((d) => d.id)).toEqual(['mnist']);
    const entry = manifest.datasets[0]!;
    const reference = embeddedMnistFromDigits(readMnistDigits());
    expect(entry.trainCount).toBe(reference.train.count);
    expect(entry.testCount).toBe(reference.test.count);
    expect(entry.trainCount + entry.testCount).toBe(10_000);

    const read = (f: { file: string; sha256: string }) => {
      const gz = readFileSync(join(tmp, 'mnist', f.file));
      expect(createHash('sha256').update(gz).digest('hex')).toBe(f.sha256);
      return parseIdx(new Uint8Array(gunzipSync(gz)));
    };
    const trainImages = read(entry.files.trainImages);
    expect(trainImages.dims).toEqual([reference.train.count, 28, 28]);
    expect(Buffer.from(trainImages.data).equals(Buffer.from(reference.train.images))).toBe(true);
    const testLabels = read(entry.files.testLabels);
    expect([...testLabels.data]).toEqual([...reference.test.labels]);

    // Compact: the 21 MB of JSON become well under 3 MB.
    const gz = Object.values(entry.files).reduce((a, f) => a + statSync(join(tmp, 'mnist', f.file)).size, 0);
    expect(gz).toBeLessThan(3_000_000);
    expect(JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8'))).toEqual(manifest);
    // A second call finds the manifest up to date and returns it unchanged.
    expect(await packData(tmp, { fashionDir: join(tmp, 'no-fashion-here') })).toEqual(manifest);
  });

  it('copies the wasm binaries', () => {
    expect(copyWasmBinaries(join(tmp, 'wasm')).sort()).toEqual([
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
      'tfjs-backend-wasm.wasm',
    ]);
  });
});
