import { ConfigError, Rng } from '@distilljs/core';

/** How a validation split was carved (what a run record keeps to re-create it). */
export interface ValidationSplitInfo {
  /** Training examples before the split (after any `trainSize` cut). */
  readonly from: number;
  readonly count: number;
  readonly seed: number;
  /** Validation examples per class. */
  readonly perClass: readonly number[];
}

/** Positions of the training split kept for training and those held out for validation, both ascending. */
export interface ValidationSplit {
  readonly train: Int32Array;
  readonly validation: Int32Array;
  readonly info: ValidationSplitInfo;
}

/**
 * Per-class counts summing to `total`, proportional to the class sizes (largest remainder), so every class
 * is represented as in the training split; a class with a single example stays in training.
 */
function allocate(sizes: readonly number[], total: number): number[] {
  const n = sizes.reduce((a, b) => a + b, 0);
  const exact = sizes.map((s) => (s * total) / n);
  const out = exact.map((e, k) => Math.min(Math.floor(e), Math.max(0, sizes[k]! - 1)));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((e, k) => ({ k, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.k - b.k);
  while (left > 0) {
    let moved = false;
    for (const { k } of order) {
      if (left > 0 && out[k]! < sizes[k]! - 1) {
        out[k]!++;
        left--;
        moved = true;
      }
    }
    if (!moved) break;
  }
  return out;
}

/**
 * Carves a validation split from a training split: seeded and stratified by class (each class gives the
 * same share of its examples, chosen at random with `seed`). `size` is a count of examples; the rest stay
 * for training. Give the teacher and the students of one experiment the same split, so that none of them
 * ever trains on it; choose settings on it and score the test split once, at the end.
 *
 * @example
 * ```ts
 * const { train, validation } = carveValidation(data.train.labels, data.numClasses, 1000, 0);
 * const all = datasetView(data, 'train');
 * const fitOn = { ...all, positions: train, steps: [...all.steps, 'train-part'] };
 * const chooseOn = { ...all, positions: validation, steps: [...all.steps, 'validation'] };
 * ```
 */
export function carveValidation(
  labels: Uint8Array | Int32Array,
  numClasses: number,
  size: number,
  seed: number,
  where = 'dataset.validationSize',
): ValidationSplit {
  const n = labels.length;
  if (!Number.isInteger(size) || size < 1 || size >= n) {
    throw new ConfigError(
      `${where}: ${size} would hold out ${size < 1 ? 'nothing' : `every one of the ${n} training examples`}; give a count from 1 to ${n - 1}`,
      { where },
    );
  }
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) byClass[labels[i]!]?.push(i);
  const counts = allocate(
    byClass.map((c) => c.length),
    size,
  );
  const rng = new Rng(seed);
  const held = new Uint8Array(n);
  byClass.forEach((positions, k) => {
    const order = rng.permutation(positions.length);
    for (let j = 0; j < counts[k]!; j++) held[positions[order[j]!]!] = 1;
  });
  const validation = new Int32Array(counts.reduce((a, b) => a + b, 0));
  const train = new Int32Array(n - validation.length);
  let v = 0;
  let t = 0;
  for (let i = 0; i < n; i++) {
    if (held[i]) validation[v++] = i;
    else train[t++] = i;
  }
  return { train, validation, info: { from: n, count: validation.length, seed, perClass: counts } };
}
