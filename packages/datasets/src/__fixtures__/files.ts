// Helpers for tests: small files in the real formats, written by the tests themselves.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Rng } from '@distilljs/core';
import { encodeIdx } from '../idx.js';

export function tempDir(prefix = 'distilljs-datasets-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function randomBytes(n: number, seed: number, max = 256): Uint8Array {
  const r = new Rng(seed);
  return Uint8Array.from({ length: n }, () => r.int(max));
}

export function gzip(bytes: Uint8Array): Uint8Array {
  const out = gzipSync(bytes);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** A small MNIST-style dataset as the four IDX files' bytes (raw). */
export function makeIdxFiles(trainCount: number, testCount: number, seed: number, h = 28, w = 28) {
  const trainImages = randomBytes(trainCount * h * w, seed);
  const trainLabels = randomBytes(trainCount, seed + 1, 10);
  const testImages = randomBytes(testCount * h * w, seed + 2);
  const testLabels = randomBytes(testCount, seed + 3, 10);
  return {
    trainImages,
    trainLabels,
    testImages,
    testLabels,
    files: {
      'train-images-idx3-ubyte': encodeIdx([trainCount, h, w], trainImages),
      'train-labels-idx1-ubyte': encodeIdx([trainCount], trainLabels),
      't10k-images-idx3-ubyte': encodeIdx([testCount, h, w], testImages),
      't10k-labels-idx1-ubyte': encodeIdx([testCount], testLabels),
    } as Record<string, Uint8Array>,
  };
}
