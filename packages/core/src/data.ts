import type { Tensor } from '@tensorflow/tfjs-core';

/** Height, width, channels (NHWC, as tfjs layers expect). */
export type ImageShape = readonly [height: number, width: number, channels: number];

/** Shape of one example without the batch dimension: `[h, w, c]` for images, any shape (e.g. `[64]`) for features. */
export type ExampleShape = readonly number[];

/** One split of an image dataset, kept as bytes: `count` images of `imageShape`, row-major, channel-last. */
export interface DatasetSplit {
  /** `count * h * w * c` pixel bytes, image after image, each channel-last (HWC). */
  readonly images: Uint8Array;
  /** `count` class ids in `0..numClasses-1`. */
  readonly labels: Uint8Array;
  readonly count: number;
}

/** One split of a float dataset: `count` examples of `featureShape`, row-major, example after example. */
export interface FeatureSplit {
  /** `count * prod(featureShape)` float32 values. */
  readonly features: Float32Array;
  /** `count` class ids in `0..numClasses-1`; `-1` marks an unlabelled example. */
  readonly labels: Int32Array;
  readonly count: number;
}

/**
 * Per-feature standardisation `(x - mean) / std`, its statistics taken from the training part only; saved
 * with a model so that prediction applies the same.
 */
export interface Standardization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** A dataset of float features of any shape (table rows, embeddings, arrays from Python). */
export interface FeatureDataset {
  readonly name: string;
  readonly featureShape: ExampleShape;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly train: FeatureSplit;
  readonly test: FeatureSplit;
  /** The standardisation already applied to both splits (statistics of `train`), if any. */
  readonly standardization?: Standardization;
  /** Names of the feature columns (tables), one per feature. */
  readonly featureNames?: readonly string[];
}

/** Any dataset: uint8 images or float features. */
export type Dataset = ImageDataset | FeatureDataset;

/** True when `d` holds float features rather than uint8 images. */
export function isFeatureDataset(d: Dataset): d is FeatureDataset {
  return Array.isArray((d as FeatureDataset).featureShape);
}

/** Shape of one example of a dataset (`imageShape` or `featureShape`). */
export function exampleShape(d: Dataset): ExampleShape {
  return isFeatureDataset(d) ? d.featureShape : d.imageShape;
}

/** The one shape of dataset every loader returns. */
export interface ImageDataset {
  /** e.g. `mnist-embedded`, `fashion-mnist`, `cifar10`, `synthetic`. */
  readonly name: string;
  readonly imageShape: ImageShape;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly train: DatasetSplit;
  readonly test: DatasetSplit;
  /** True for a transfer set whose images carry no labels (a folder without class folders); `labels` are then 0. */
  readonly unlabelled?: boolean;
}

/** A batch of model inputs. The consumer owns `xs` and must dispose it. */
export interface Batch {
  /** float32 inputs of shape `[b, ...inputShape]`. */
  readonly xs: Tensor;
  /** Class ids, one per example; `-1` marks an unlabelled example (soft targets only). */
  readonly labels: Int32Array;
  /** Positions of these examples in the source (stable across epochs); keys of the teacher-output cache. */
  readonly indices: Int32Array;
}

/**
 * A source of batches for training or evaluation. `epoch(e)` is a pure function of the stream's seed
 * and `e`, so a resumed run sees exactly the batches an uninterrupted one would.
 */
export interface BatchStream {
  /** Number of examples in one epoch. */
  readonly size: number;
  readonly batchSize: number;
  /** Shape of one input example (e.g. `[28, 28, 1]` or `[784]`). */
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  /** True when batches are randomly augmented, so teacher outputs cannot be cached. */
  readonly augmented: boolean;
  /** Identifies data + order + preprocessing; part of the teacher-output cache key. */
  readonly fingerprint: string;
  /** Number of batches in one epoch. */
  readonly batchesPerEpoch: number;
  /** The batches of epoch `e` (0-based). */
  epoch(e: number): Iterable<Batch> | AsyncIterable<Batch>;
}
