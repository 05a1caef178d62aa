import type { DatasetSplit, ImageDataset, ImageShape } from '@distilljs/core';
import { assertInteger, invalidArgument, Rng } from '@distilljs/core';

/** Options of {@link syntheticDataset}. */
export interface SyntheticDatasetOptions {
  /** Seed of everything: prototypes, noise, label order. */
  readonly seed: number;
  /** Number of classes (default 10). */
  readonly numClasses?: number;
  /** `[height, width, channels]` (default `[28, 28, 1]`). */
  readonly imageShape?: ImageShape;
  /** Training examples (default 1000). */
  readonly trainCount?: number;
  /** Test examples (default 200). */
  readonly testCount?: number;
  /** Standard deviation of the per-pixel Gaussian noise, as a fraction of 255 (default 0.25). */
  readonly noise?: number;
  /** Largest random shift of the prototype, in pixels, per example (default 1). */
  readonly maxShift?: number;
  /** Dataset name (default `synthetic`). */
  readonly name?: string;
}

/**
 * A seeded, learnable image dataset for fast tests and examples: each class has a random blocky prototype
 * (4x4-pixel blocks), and each example is its class prototype shifted by up to `maxShift` pixels plus
 * Gaussian noise, clipped to bytes. Classes are balanced (`count / numClasses` each, the remainder spread
 * over the first classes) and appear in a seeded random order. The same options always give the same bytes.
 */
export function syntheticDataset(options: SyntheticDatasetOptions): ImageDataset {
  const fn = 'syntheticDataset';
  const {
    seed,
    numClasses = 10,
    imageShape = [28, 28, 1],
    trainCount = 1000,
    testCount = 200,
    noise = 0.25,
    maxShift = 1,
    name = 'synthetic',
  } = options ?? ({} as SyntheticDatasetOptions);
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    invalidArgument(fn, 'seed', 'a finite number', seed);
  assertInteger(fn, 'numClasses', numClasses, 2);
  if (numClasses > 256) invalidArgument(fn, 'numClasses', 'an integer in [2, 256]', numClasses);
  if (
    !Array.isArray(imageShape) ||
    imageShape.length !== 3 ||
    !imageShape.every((d) => Number.isInteger(d) && d > 0)
  ) {
    invalidArgument(fn, 'imageShape', '[height, width, channels] of positive integers', imageShape);
  }
  assertInteger(fn, 'trainCount', trainCount, 0);
  assertInteger(fn, 'testCount', testCount, 0);
  if (typeof noise !== 'number' || !(noise >= 0)) invalidArgument(fn, 'noise', 'a number >= 0', noise);
  assertInteger(fn, 'maxShift', maxShift, 0);
  const [h, w, c] = imageShape;
  const size = h * w * c;
  const rng = new Rng(seed);
  const bh = Math.ceil(h / 4);
  const bw = Math.ceil(w / 4);
  const prototypes: Uint8Array[] = [];
  for (let k = 0; k < numClasses; k++) {
    const coarse = Float64Array.from({ length: bh * bw * c }, () =>
      rng.next() < 0.5 ? 0 : 0.6 + 0.4 * rng.next(),
    );
    const proto = new Uint8Array(size);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let ch = 0; ch < c; ch++) {
          proto[(y * w + x) * c + ch] = Math.round(
            255 * (coarse[((y >> 2) * bw + (x >> 2)) * c + ch] as number),
          );
        }
      }
    }
    prototypes.push(proto);
  }
  const make = (count: number, r: Rng): DatasetSplit => {
    const labels = new Uint8Array(count);
    for (let i = 0; i < count; i++) labels[i] = i % numClasses;
    r.shuffle(labels);
    const images = new Uint8Array(count * size);
    for (let i = 0; i < count; i++) {
      const proto = prototypes[labels[i] as number] as Uint8Array;
      const dy = r.int(2 * maxShift + 1) - maxShift;
      const dx = r.int(2 * maxShift + 1) - maxShift;
      const out = i * size;
      for (let y = 0; y < h; y++) {
        const sy = Math.min(h - 1, Math.max(0, y - dy));
        for (let x = 0; x < w; x++) {
          const sx = Math.min(w - 1, Math.max(0, x - dx));
          for (let ch = 0; ch < c; ch++) {
            const v = (proto[(sy * w + sx) * c + ch] as number) + 255 * noise * r.normal();
            images[out + (y * w + x) * c + ch] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
          }
        }
      }
    }
    return { images, labels, count };
  };
  const train = make(trainCount, rng.fork());
  const test = make(testCount, rng.fork());
  return {
    name,
    imageShape: [h, w, c],
    numClasses,
    classNames: Array.from({ length: numClasses }, (_, k) => `class ${k}`),
    train,
    test,
  };
}
