import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { copyWasmBinaries, encodeIdx, packData, packEmbeddedMnist } from './pack-data.js';

const tmp = mkdtempSync(join(tmpdir(), 'playground-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('encodeIdx', () => {
  it('writes the big-endian IDX header before the bytes', () => {
    const out = encodeIdx(new Uint8Array([1, 2, 3, 4, 5, 6]), [3, 2]);
    expect([...out]).toEqual([0, 0, 8, 2, 0, 0, 0, 3, 0, 0, 0, 2, 1, 2, 3, 4, 5, 6]);
  });
  it('refuses data that does not match the dims', () => {
    expect(() => encodeIdx(new Uint8Array(5), [2, 3])).toThrow(/5 bytes but dims \[2, 3\] need 6/);
  });
});

describe('packEmbeddedMnist', () => {
  it('splits each class 80/20, scales to bytes and keeps image/label pairs together', () => {
    // class c, example i: every pixel = (c * 10 + i) / 255
    const digits = Array.from({ length: 3 }, (_, c) =>
      Array.from({ length: 10 * 784 }, (_, k) => (c * 10 + Math.floor(k / 784)) / 255),
    );
    const { train, test } = packEmbeddedMnist(digits);
    expect(train.labels.length).toBe(24);
    expect(test.labels.length).toBe(6);
    for (const split of [train, test]) {
      split.labels.forEach((y, n) => {
        const v = split.images[n * 784]!;
        expect(Math.floor(v / 10)).toBe(y);
        expect(split.images[n * 784 + 783]).toBe(v);
      });
    }
    // test holds examples 8 and 9 of each class
    expect([...test.images.filter((_, k) => k % 784 === 0)].map((v) => v % 10).sort()).toEqual([
      8, 8, 8, 9, 9, 9,
    ]);
    // shuffled: not sorted by class
    expect([...train.labels]).not.toEqual([...train.labels].sort());
  });
});

describe('packData', () => {
  it('packs the embedded MNIST digits into gzipped IDX files of the expected size', () => {
    const manifest = packData(tmp, { fashionDir: join(tmp, 'no-fashion-here') });
    expect(manifest.datasets.map((d) => d.id)).toEqual(['mnist']);
    const mnist = manifest.datasets[0]!;
    expect(mnist.trainCount + mnist.testCount).toBe(10_000);
    const images = new Uint8Array(gunzipSync(readFileSync(join(tmp, mnist.files.trainImages))));
    expect(images.length).toBe(16 + mnist.trainCount * 784);
    expect(new DataView(images.buffer).getUint32(4, false)).toBe(mnist.trainCount);
    const labels = new Uint8Array(gunzipSync(readFileSync(join(tmp, mnist.files.testLabels))));
    const counts = new Array(10).fill(0);
    for (const y of labels.subarray(8)) counts[y] += 1;
    expect(Math.min(...counts)).toBeGreaterThan(150);
    const gz = Object.values(mnist.files).reduce((a, f) => a + statSync(join(tmp, f)).size, 0);
    expect(gz).toBeLessThan(3_000_000);
    expect(JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8'))).toEqual(manifest);
  });

  it('copies the wasm binaries', () => {
    expect(copyWasmBinaries(join(tmp, 'wasm')).sort()).toEqual([
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.wasm',
      'tfjs-backend-wasm.wasm',
    ]);
  });
});
