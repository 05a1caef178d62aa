import type { FeatureDataset, FeatureSplit } from '@distilljs/core';
import { InvalidArgumentError, invalidArgument } from '@distilljs/core';
import { Tensor } from '@tensorflow/tfjs-core';
import { checkDatasetBytes } from './memory-limit.js';
import { applyStandardization, fitStandardization } from './standardization.js';
import { holdOut } from './stratified-split.js';

/** Features as a user holds them: rows of numbers, one flat Float32Array, or a tensor `[n, ...shape]`. */
export type FeatureInput = Float32Array | readonly (readonly number[])[] | Tensor;
/** Labels as a user holds them: class ids `0..k-1` (`-1`: unlabelled). */
export type LabelInput = readonly number[] | Int32Array | Uint8Array | Tensor;

/** Options of {@link datasetFromArrays}. */
export interface FromArraysOptions {
  /** `[n, d]` rows, a flat Float32Array (with `exampleShape`), or a tensor of shape `[n, ...shape]`. */
  readonly features: FeatureInput;
  /** One class id per example; leave out for an unlabelled transfer set. */
  readonly labels?: LabelInput;
  /** Shape of one example; needed for a flat Float32Array (default `[length / n]`). */
  readonly exampleShape?: readonly number[];
  /** Class names (default `'0'`, `'1'`, ...); their count is the class count. */
  readonly classNames?: readonly string[];
  /** Number of classes (default: `classNames.length`, else the largest label + 1). */
  readonly numClasses?: number;
  /** Share held out as a stratified validation split (the dataset's `test`), default 0.2; 0 for none. */
  readonly validationFraction?: number;
  /** Seed of the validation split (default 0). */
  readonly seed?: number;
  /** Standardise each feature with the training part's mean and std (default false). */
  readonly standardize?: boolean;
  /** Dataset name (default `arrays`). */
  readonly name?: string;
  /** Most bytes the features may take (default 4 GiB). */
  readonly maxBytes?: number;
}

const FN = 'datasetFromArrays';
const FEATURE_FORMS =
  'number[][] rows, a Float32Array with exampleShape, or a float tensor of shape [n, ...exampleShape]';

function tensorValues(t: Tensor, arg: string): Float32Array {
  if (t.isDisposed) invalidArgument(FN, arg, 'a tensor that is not disposed', 'a disposed tensor');
  return Float32Array.from(t.dataSync() as ArrayLike<number>);
}

function readFeatures(
  features: FeatureInput,
  shape: readonly number[] | undefined,
  count: number | undefined,
): { values: Float32Array; shape: number[] } {
  if (features instanceof Tensor) {
    if (features.rank < 2) invalidArgument(FN, 'features', `${FEATURE_FORMS}`, features);
    return { values: tensorValues(features, 'features'), shape: [...features.shape.slice(1)] };
  }
  if (features instanceof Float32Array) {
    const n = count ?? (shape ? features.length / shape.reduce((a, b) => a * b, 1) : undefined);
    if (n === undefined)
      invalidArgument(
        FN,
        'exampleShape',
        'the shape of one example when features is a flat Float32Array without labels',
        shape,
      );
    if (!shape && features.length % n !== 0) {
      invalidArgument(
        FN,
        'features',
        `a multiple of the ${n} labels in length (or give exampleShape)`,
        features,
      );
    }
    const s = shape ? [...shape] : [features.length / n];
    const size = s.reduce((a, b) => a * b, 1);
    if (!s.every((d) => Number.isInteger(d) && d > 0) || size * n !== features.length) {
      invalidArgument(FN, 'features', `${n} examples of [${s.join(', ')}] (${n * size} values)`, features);
    }
    return { values: features, shape: s };
  }
  if (!Array.isArray(features) || features.length === 0 || !Array.isArray(features[0])) {
    invalidArgument(FN, 'features', FEATURE_FORMS, features);
  }
  const d = (features[0] as readonly number[]).length;
  const values = new Float32Array(features.length * d);
  features.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== d) {
      invalidArgument(FN, `features[${i}]`, `a row of ${d} numbers like features[0]`, row);
    }
    values.set(row as number[], i * d);
  });
  return { values, shape: [d] };
}

function readLabels(labels: LabelInput | undefined, count: number): Int32Array {
  if (labels === undefined) return new Int32Array(count).fill(-1);
  let out: Int32Array;
  if (labels instanceof Tensor) {
    if (labels.rank !== 1) invalidArgument(FN, 'labels', 'a 1-D tensor of class ids', labels);
    out = Int32Array.from(labels.dataSync() as ArrayLike<number>);
  } else if (labels instanceof Int32Array || labels instanceof Uint8Array || Array.isArray(labels)) {
    const bad = Array.from(labels as ArrayLike<number>).findIndex((y) => !Number.isInteger(y) || y < -1);
    if (bad >= 0)
      invalidArgument(
        FN,
        `labels[${bad}]`,
        'a class id (an integer >= 0, or -1 for unlabelled)',
        (labels as ArrayLike<number>)[bad],
      );
    out = Int32Array.from(labels as ArrayLike<number>);
  } else {
    return invalidArgument(FN, 'labels', 'number[], an Int32Array or a 1-D int tensor of class ids', labels);
  }
  if (out.length !== count) {
    throw new InvalidArgumentError(
      `${FN}: 'labels' has ${out.length} entries but 'features' has ${count} examples; give one label per example`,
      { where: `${FN}(labels)` },
    );
  }
  return out;
}

function labelCount(labels: LabelInput | undefined): number | undefined {
  if (labels === undefined) return undefined;
  if (labels instanceof Tensor) return labels.shape[0];
  return (labels as ArrayLike<number>).length;
}

/**
 * Turns arrays held in code into a {@link FeatureDataset} with a seeded, stratified validation split
 * (`train` and `test`, the held-out part), ready for `createBatchStream`. Wrong types and shapes are
 * refused with the expected form; non-finite values are refused naming the example.
 */
export function datasetFromArrays(options: FromArraysOptions): FeatureDataset {
  if (!options || typeof options !== 'object') invalidArgument(FN, 'options', 'an options object', options);
  const { values, shape } = readFeatures(options.features, options.exampleShape, labelCount(options.labels));
  const size = shape.reduce((a, b) => a * b, 1);
  const count = values.length / size;
  checkDatasetBytes(`${FN}: ${count} examples of [${shape.join(', ')}]`, values.length * 4, options.maxBytes);
  const bad = values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    invalidArgument(
      FN,
      `features (example ${Math.floor(bad / size)}, value ${bad % size})`,
      'finite numbers',
      values[bad],
    );
  }
  const labels = readLabels(options.labels, count);
  const maxLabel = labels.reduce((a, b) => Math.max(a, b), -1);
  const numClasses = options.numClasses ?? options.classNames?.length ?? maxLabel + 1;
  if (maxLabel >= numClasses) {
    invalidArgument(FN, 'labels', `class ids in 0..${numClasses - 1} (numClasses ${numClasses})`, maxLabel);
  }
  const classNames = options.classNames ?? Array.from({ length: numClasses }, (_, k) => String(k));
  const all: FeatureSplit = { features: values, labels, count };
  let dataset: FeatureDataset = {
    name: options.name ?? 'arrays',
    featureShape: shape,
    numClasses,
    classNames,
    train: all,
    test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
  };
  const fraction = options.validationFraction ?? 0.2;
  if (fraction > 0) dataset = holdOut(dataset, { fraction, seed: options.seed ?? 0, label: 'validation' });
  return options.standardize ? standardizeDataset(dataset) : dataset;
}

/** Standardises both splits with statistics of `train` only (recorded in `standardization`). */
export function standardizeDataset(dataset: FeatureDataset): FeatureDataset {
  const d = dataset.featureShape.reduce((a, b) => a * b, 1);
  const stats = fitStandardization(dataset.train, d, dataset.featureNames);
  const apply = (s: FeatureSplit): FeatureSplit => ({
    ...s,
    features: applyStandardization(s.features, stats),
  });
  return { ...dataset, train: apply(dataset.train), test: apply(dataset.test), standardization: stats };
}
