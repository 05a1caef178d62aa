import type { Dataset, DatasetSplit, FeatureSplit } from '@distilljs/core';
import { assertInRange, isFeatureDataset, Rng } from '@distilljs/core';
import { materializeView } from './dataset-view.js';

/** Positions of a split divided into a kept part and a held-out part. */
export interface SplitPositions {
  /** Positions kept for training, ascending. */
  readonly train: Int32Array;
  /** Positions held out (validation or test), ascending. */
  readonly heldOut: Int32Array;
}

/**
 * A seeded stratified split: within each class (and among unlabelled examples, label -1), a seeded random
 * `round(fraction * n)` examples are held out, so every class keeps its share in both parts. The same
 * labels, fraction and seed always give the same split.
 */
export function stratifiedSplit(
  labels: Uint8Array | Int32Array,
  fraction: number,
  seed: number,
): SplitPositions {
  assertInRange('stratifiedSplit', 'fraction', fraction, 0, 1);
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    const list = byClass.get(y) ?? [];
    if (list.length === 0) byClass.set(y, list);
    list.push(i);
  }
  const held: number[] = [];
  const rng = new Rng(seed);
  for (const y of [...byClass.keys()].sort((a, b) => a - b)) {
    const list = byClass.get(y) as number[];
    const k = Math.round(fraction * list.length);
    const perm = rng.permutation(list.length);
    for (let j = 0; j < k; j++) held.push(list[perm[j] as number] as number);
  }
  const heldOut = Int32Array.from(held).sort();
  const mark = new Uint8Array(labels.length);
  for (const p of heldOut) mark[p] = 1;
  const train = new Int32Array(labels.length - heldOut.length);
  let t = 0;
  for (let i = 0; i < labels.length; i++) if (!mark[i]) train[t++] = i;
  return { train, heldOut };
}

/** Options of {@link holdOut}. */
export interface HoldOutOptions {
  /** Share of the training split held out, in [0, 1). */
  readonly fraction: number;
  /** Seed of the stratified split. */
  readonly seed: number;
  /** Suffix of the dataset name, e.g. `validation` (default `held out`). */
  readonly label?: string;
}

/**
 * Splits a dataset's `train` split (stratified, seeded) into a new `train` and a `test` that is the
 * held-out part; the dataset's old `test` split is dropped. Use it for a validation split, or for a test
 * split of data that come without one (an image folder, a table).
 */
export function holdOut<D extends Dataset>(dataset: D, options: HoldOutOptions): D {
  assertInRange('holdOut', 'fraction', options.fraction, 0, 0.99);
  const labels =
    'unlabelled' in dataset && dataset.unlabelled
      ? new Uint8Array(dataset.train.count)
      : dataset.train.labels;
  const { train, heldOut } = stratifiedSplit(labels, options.fraction, options.seed);
  const shape = isFeatureDataset(dataset) ? dataset.featureShape : dataset.imageShape;
  const view = (positions: Int32Array) =>
    materializeView({
      name: dataset.name,
      exampleShape: shape,
      numClasses: dataset.numClasses,
      classNames: dataset.classNames,
      split: dataset.train as DatasetSplit | FeatureSplit,
      positions,
      unlabelled: false,
      steps: [],
    });
  return {
    ...dataset,
    name: `${dataset.name} (${options.label ?? 'held out'} ${Math.round(options.fraction * 100)}%, seed ${options.seed})`,
    train: view(train),
    test: view(heldOut),
  };
}
