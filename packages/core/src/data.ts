import type { Tensor } from '@tensorflow/tfjs-core';

/** Height, width, channels (NHWC, as tfjs layers expect). */
export type ImageShape = readonly [height: number, width: number, channels: number];

/** One split of an image dataset, kept as bytes: `count` images of `imageShape`, row-major, channel-last. */
export interface DatasetSplit {
  /** `count * h * w * c` pixel bytes, image after image, each channel-last (HWC). */
  readonly images: Uint8Array;
  /** `count` class ids in `0..numClasses-1`. */
  readonly labels: Uint8Array;
  readonly count: number;
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
