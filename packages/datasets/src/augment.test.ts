import type { ImageShape } from '@distilljs/core';
import { InvalidArgumentError, Rng } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { randomBytes } from './__fixtures__/files.js';
import { horizontalFlip, randomCropWithPadding, randomShift } from './augment.js';

function at(img: Uint8Array, shape: ImageShape, y: number, x: number, c = 0): number {
  return img[(y * shape[1] + x) * shape[2] + c] as number;
}

/** Finds the (dy, dx) with |dy|,|dx| <= max that maps src onto dst with zero fill, or undefined. */
function findShift(
  src: Uint8Array,
  dst: Uint8Array,
  shape: ImageShape,
  max: number,
): [number, number] | undefined {
  const [h, w, c] = shape;
  for (let dy = -max; dy <= max; dy++) {
    for (let dx = -max; dx <= max; dx++) {
      let ok = true;
      for (let y = 0; y < h && ok; y++) {
        for (let x = 0; x < w && ok; x++) {
          for (let k = 0; k < c && ok; k++) {
            const sy = y - dy;
            const sx = x - dx;
            const want = sy >= 0 && sy < h && sx >= 0 && sx < w ? at(src, shape, sy, sx, k) : 0;
            ok = at(dst, shape, y, x, k) === want;
          }
        }
      }
      if (ok) return [dy, dx];
    }
  }
  return undefined;
}

describe('augmentations', () => {
  it('randomShift(2) translates by at most 2 px with zero fill, covering all 25 shifts', () => {
    const shape: ImageShape = [8, 7, 1];
    const src = randomBytes(56, 1, 255).map((v) => v + 1); // no zeros, so a shift is identifiable
    const aug = randomShift(2);
    expect(aug.name).toBe('randomShift(2)');
    const rng = new Rng(3);
    const seen = new Set<string>();
    for (let t = 0; t < 400; t++) {
      const dst = new Uint8Array(56);
      aug.apply(src, dst, shape, rng);
      const s = findShift(src, dst, shape, 2);
      expect(s).toBeDefined();
      seen.add(String(s));
    }
    expect(seen.size).toBe(25);
  });

  it('is reproducible from the generator state', () => {
    const shape: ImageShape = [5, 5, 3];
    const src = randomBytes(75, 2);
    const run = (seed: number) => {
      const r = new Rng(seed);
      return Array.from({ length: 10 }, () => {
        const d = new Uint8Array(75);
        randomCropWithPadding(4).apply(src, d, shape, r);
        return Array.from(d);
      });
    };
    expect(run(9)).toEqual(run(9));
    expect(run(9)).not.toEqual(run(10));
  });

  it('randomCropWithPadding(4) equals a pad-4 then crop, i.e. a shift in [-4, 4]', () => {
    const shape: ImageShape = [6, 6, 3];
    const src = randomBytes(108, 4, 255).map((v) => v + 1);
    const rng = new Rng(1);
    let full = 0;
    for (let t = 0; t < 200; t++) {
      const dst = new Uint8Array(108);
      randomCropWithPadding(4).apply(src, dst, shape, rng);
      const s = findShift(src, dst, shape, 4);
      expect(s).toBeDefined();
      if (s && Math.abs(s[0]) === 4) full++;
    }
    expect(full).toBeGreaterThan(0);
  });

  it('horizontalFlip mirrors rows about half the time and keeps channels together', () => {
    const shape: ImageShape = [2, 3, 3];
    const src = Uint8Array.from({ length: 18 }, (_, i) => i);
    const rng = new Rng(2);
    let flips = 0;
    for (let t = 0; t < 200; t++) {
      const dst = new Uint8Array(18);
      horizontalFlip().apply(src, dst, shape, rng);
      if (dst[0] === src[0]) {
        expect(dst).toEqual(src);
      } else {
        flips++;
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 3; x++)
            for (let c = 0; c < 3; c++) expect(at(dst, shape, y, x, c)).toBe(at(src, shape, y, 2 - x, c));
      }
    }
    expect(flips).toBeGreaterThan(70);
    expect(flips).toBeLessThan(130);
  });

  it('rejects bad arguments', () => {
    expect(() => randomShift(-1)).toThrow(InvalidArgumentError);
    expect(() => randomCropWithPadding(1.5)).toThrow(
      "randomCropWithPadding: argument 'padding' must be an integer >= 0, got 1.5",
    );
    expect(() => horizontalFlip(2)).toThrow(
      /horizontalFlip: argument 'probability' must be a number in \[0, 1\]/,
    );
  });
});
