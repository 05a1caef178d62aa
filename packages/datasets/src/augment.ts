import type { ImageShape, Rng } from '@distilljs/core';
import { assertInRange, assertInteger } from '@distilljs/core';

/**
 * A seeded random image transformation on HWC bytes. `apply` reads one image from `src`, writes the
 * transformed image to `dst` (same shape, a different buffer) and draws its randomness from `rng` only,
 * so a stream's augmentation is reproducible from its seed.
 */
export interface Augmentation {
  /** e.g. `randomShift(2)`; part of a batch stream's fingerprint. */
  readonly name: string;
  apply(src: Uint8Array, dst: Uint8Array, shape: ImageShape, rng: Rng): void;
}

function shift(src: Uint8Array, dst: Uint8Array, shape: ImageShape, dy: number, dx: number): void {
  const [h, w, c] = shape;
  dst.fill(0);
  const y0 = Math.max(0, dy);
  const y1 = Math.min(h, h + dy);
  const x0 = Math.max(0, dx);
  const x1 = Math.min(w, w + dx);
  if (x1 <= x0) return;
  for (let y = y0; y < y1; y++) {
    const from = ((y - dy) * w + (x0 - dx)) * c;
    dst.set(src.subarray(from, from + (x1 - x0) * c), (y * w + x0) * c);
  }
}

/**
 * Translates each image by a uniformly random whole number of pixels in `[-maxPixels, maxPixels]` along
 * each axis, filling the uncovered border with 0. Hinton et al. jitter MNIST by up to 2 pixels.
 */
export function randomShift(maxPixels: number): Augmentation {
  assertInteger('randomShift', 'maxPixels', maxPixels, 0);
  const n = 2 * maxPixels + 1;
  return {
    name: `randomShift(${maxPixels})`,
    apply(src, dst, shape, rng) {
      const dy = rng.int(n) - maxPixels;
      const dx = rng.int(n) - maxPixels;
      shift(src, dst, shape, dy, dx);
    },
  };
}

/**
 * Pads each image with `padding` zero pixels on every side and takes a random crop of the original size
 * (torchvision's `RandomCrop(32, padding=4)`, the CIFAR recipe). Equivalent to a random shift in
 * `[-padding, padding]` with zero fill.
 */
export function randomCropWithPadding(padding: number): Augmentation {
  assertInteger('randomCropWithPadding', 'padding', padding, 0);
  const n = 2 * padding + 1;
  return {
    name: `randomCropWithPadding(${padding})`,
    apply(src, dst, shape, rng) {
      const top = rng.int(n);
      const left = rng.int(n);
      shift(src, dst, shape, padding - top, padding - left);
    },
  };
}

/** Mirrors each image left-right with probability `probability` (default 0.5). */
export function horizontalFlip(probability = 0.5): Augmentation {
  assertInRange('horizontalFlip', 'probability', probability, 0, 1);
  return {
    name: `horizontalFlip(${probability})`,
    apply(src, dst, shape, rng) {
      const flip = rng.next() < probability;
      if (!flip) {
        dst.set(src);
        return;
      }
      const [h, w, c] = shape;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const to = (y * w + x) * c;
          const from = (y * w + (w - 1 - x)) * c;
          for (let k = 0; k < c; k++) dst[to + k] = src[from + k] as number;
        }
      }
    },
  };
}
