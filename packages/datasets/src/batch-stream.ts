import type { Batch, BatchStream } from '@distilljs/core';
import { assertInteger, assertPositive, invalidArgument, Rng } from '@distilljs/core';
import { tensor, tensor4d } from '@tensorflow/tfjs-core';
import type { Augmentation } from './augment.js';
import type { DatasetView, SplitName, ViewSource } from './dataset-view.js';
import { datasetView, isFeatureSplit, subset, transferSet } from './dataset-view.js';
import { hashString, memoHash, mixSeed } from './hash.js';

/** Per-channel normalisation applied after scaling bytes to [0, 1]: `(x - mean) / std`. */
export interface Normalization {
  readonly mean: number | readonly number[];
  readonly std: number | readonly number[];
}

/** Options of {@link createBatchStream}. */
export interface BatchStreamOptions {
  /** Examples per batch. */
  readonly batchSize: number;
  /** Which split, when the source is a dataset (default `train`). */
  readonly split?: SplitName;
  /** Reshuffle the examples every epoch (default false). The order of epoch `e` depends only on `seed` and `e`. */
  readonly shuffle?: boolean;
  /** Seed of shuffling and augmentation (default 0). */
  readonly seed?: number;
  /** Random augmentation(s), applied in order to each example's bytes. */
  readonly augment?: Augmentation | readonly Augmentation[];
  /** Keep only these classes. */
  readonly classFilter?: readonly number[];
  /** Drop these classes. */
  readonly excludeClasses?: readonly number[];
  /** Keep only the first `take` examples (after the class filters, before shuffling). */
  readonly take?: number;
  /** Per-channel `(x - mean) / std` after scaling to [0, 1]. */
  readonly normalize?: Normalization;
  /** Drop the last, smaller batch of each epoch (default false). */
  readonly drop?: boolean;
  /** Report every label as -1 (an unlabelled transfer set). */
  readonly unlabelled?: boolean;
}

/** A {@link BatchStream} over a dataset view, with what it was built from. */
export interface DatasetBatchStream extends BatchStream {
  /** The examples the stream draws from. */
  readonly view: DatasetView;
  /** Identifies the examples and their preprocessing (not their order): equal for streams whose per-index inputs are equal. */
  readonly dataFingerprint: string;
  /** The human-readable description the fingerprints hash. */
  readonly description: string;
  epoch(e: number): Iterable<Batch>;
}

function channelValues(fn: string, arg: string, v: number | readonly number[], c: number): number[] {
  const arr = typeof v === 'number' ? Array.from({ length: c }, () => v) : Array.from(v ?? []);
  if (arr.length !== c || !arr.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    invalidArgument(fn, arg, `a finite number or an array of ${c} finite numbers (one per channel)`, v);
  }
  return arr;
}

/**
 * Batches a dataset split (or a {@link DatasetView}) into float32 tensors on demand, implementing the core
 * {@link BatchStream} contract:
 * - pixels stay uint8 in memory; each batch's `xs` (`[b, h, w, c]`, values in [0, 1] or normalised) is
 *   built from bytes when the batch is reached, so a whole split never becomes one float tensor. The
 *   consumer disposes `xs`;
 * - `epoch(e)` is a pure function of `seed` and `e` (order and augmentation), so a resumed run sees the
 *   same batches;
 * - `indices` are positions in the source split, stable across epochs and selections;
 * - `fingerprint` changes with the data, the selection, the order, the preprocessing and the augmentation.
 */
export function createBatchStream(source: ViewSource, options: BatchStreamOptions): DatasetBatchStream {
  const fn = 'createBatchStream';
  if (!options || typeof options !== 'object') invalidArgument(fn, 'options', 'an options object', options);
  const { batchSize, shuffle = false, seed = 0, drop = false } = options;
  assertInteger(fn, 'batchSize', batchSize, 1);
  if (typeof seed !== 'number' || !Number.isFinite(seed))
    invalidArgument(fn, 'seed', 'a finite number', seed);
  let view = datasetView(source, options.split);
  if (
    options.classFilter !== undefined ||
    options.excludeClasses !== undefined ||
    options.take !== undefined
  ) {
    view = subset(view, {
      ...(options.classFilter !== undefined ? { classes: options.classFilter } : {}),
      ...(options.excludeClasses !== undefined ? { excludeClasses: options.excludeClasses } : {}),
      ...(options.take !== undefined ? { take: options.take } : {}),
    });
  }
  if (options.unlabelled && !view.unlabelled) view = transferSet(view);
  const augs: readonly Augmentation[] =
    options.augment === undefined
      ? []
      : Array.isArray(options.augment)
        ? options.augment
        : [options.augment as Augmentation];
  for (const a of augs) {
    if (!a || typeof a.apply !== 'function' || typeof a.name !== 'string') {
      invalidArgument(fn, 'augment', 'augmentations such as randomShift(2) or horizontalFlip()', a);
    }
  }
  const features = isFeatureSplit(view.split);
  if (features && (augs.length > 0 || options.normalize !== undefined)) {
    invalidArgument(
      fn,
      options.normalize !== undefined ? 'normalize' : 'augment',
      'absent for float features (image augmentation and pixel normalisation apply to uint8 images; standardise features when loading)',
      options.normalize ?? options.augment,
    );
  }
  const shape = view.exampleShape;
  const [h, w, c] = view.imageShape ?? [1, 1, 1];
  const size = shape.reduce((a, b) => a * b, 1);
  let lut: Float32Array[];
  let normDesc = 'none';
  if (options.normalize !== undefined) {
    const mean = channelValues(fn, 'normalize.mean', options.normalize.mean, c);
    const std = channelValues(fn, 'normalize.std', options.normalize.std, c);
    for (const [i, s] of std.entries()) assertPositive(fn, `normalize.std[${i}]`, s);
    lut = mean.map((m, ch) =>
      Float32Array.from({ length: 256 }, (_, v) => (v / 255 - m) / (std[ch] as number)),
    );
    normDesc = `mean=${mean.join(',')};std=${std.join(',')}`;
  } else {
    const scale = Float32Array.from({ length: 256 }, (_, v) => v / 255);
    lut = Array.from({ length: c }, () => scale);
  }

  const n = view.positions.length;
  const batchesPerEpoch = drop ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
  const epochSize = drop ? batchesPerEpoch * batchSize : n;
  const dataDesc = [
    'distilljs-batches/v1',
    `data=${view.name}:${memoHash(isFeatureSplit(view.split) ? view.split.features : view.split.images)}:${memoHash(view.split.labels)}`,
    `shape=${shape.join('x')}`,
    `positions=${hashString(Array.from(view.positions).join(','))}`,
    `select=${view.steps.join('|')}`,
    `labels=${view.unlabelled ? 'none' : 'source'}`,
    `scale=${features ? 'none' : '1/255'}`,
    `normalize=${normDesc}`,
    `augment=${augs.map((a) => a.name).join('+') || 'none'}`,
  ].join(';');
  const description = `${dataDesc};order=${shuffle ? `shuffle@${seed}` : 'source'}${augs.length ? `;augseed=${seed}` : ''};batch=${batchSize};drop=${drop}`;
  const slug = view.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const fingerprint = `${slug}-${hashString(description)}`;
  const dataFingerprint = `${slug}-${hashString(`${dataDesc}${augs.length ? `;augseed=${seed}` : ''}`)}`;
  const { labels } = view.split;
  const unlabelled = view.unlabelled;

  function* featureBatches(e: number): Generator<Batch> {
    const values = (view.split as { features: Float32Array }).features;
    const order = shuffle ? view.positions.slice() : view.positions;
    if (shuffle) new Rng(mixSeed(seed, e, 0x5f)).shuffle(order);
    for (let b = 0; b < batchesPerEpoch; b++) {
      const start = b * batchSize;
      const count = Math.min(batchSize, n - start);
      const xs = new Float32Array(count * size);
      const ys = new Int32Array(count);
      const idx = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const p = order[start + i] as number;
        idx[i] = p;
        ys[i] = unlabelled ? -1 : (labels[p] as number);
        xs.set(values.subarray(p * size, (p + 1) * size), i * size);
      }
      yield { xs: tensor(xs, [count, ...shape], 'float32'), labels: ys, indices: idx };
    }
  }

  function* batches(e: number): Generator<Batch> {
    if (features) {
      yield* featureBatches(e);
      return;
    }
    const images = (view.split as { images: Uint8Array }).images;
    const imageShape = view.imageShape as NonNullable<DatasetView['imageShape']>;
    const order = shuffle ? view.positions.slice() : view.positions;
    if (shuffle) new Rng(mixSeed(seed, e, 0x5f)).shuffle(order);
    const augRng = augs.length > 0 ? new Rng(mixSeed(seed, e, 0xa6)) : undefined;
    const bufA = new Uint8Array(size);
    const bufB = new Uint8Array(size);
    for (let b = 0; b < batchesPerEpoch; b++) {
      const start = b * batchSize;
      const count = Math.min(batchSize, n - start);
      const xs = new Float32Array(count * size);
      const ys = new Int32Array(count);
      const idx = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const p = order[start + i] as number;
        idx[i] = p;
        ys[i] = unlabelled ? -1 : (labels[p] as number);
        let img = images.subarray(p * size, (p + 1) * size);
        if (augRng) {
          let dst = bufA;
          for (const a of augs) {
            a.apply(img, dst, imageShape, augRng);
            img = dst;
            dst = dst === bufA ? bufB : bufA;
          }
        }
        const out = i * size;
        if (c === 1) {
          const l = lut[0] as Float32Array;
          for (let k = 0; k < size; k++) xs[out + k] = l[img[k] as number] as number;
        } else {
          for (let k = 0; k < size; k++)
            xs[out + k] = (lut[k % c] as Float32Array)[img[k] as number] as number;
        }
      }
      yield { xs: tensor4d(xs, [count, h, w, c], 'float32'), labels: ys, indices: idx };
    }
  }

  return {
    size: epochSize,
    batchSize,
    inputShape: [...shape],
    numClasses: view.numClasses,
    augmented: augs.length > 0,
    fingerprint,
    dataFingerprint,
    description,
    batchesPerEpoch,
    view,
    epoch(e: number): Iterable<Batch> {
      assertInteger('BatchStream.epoch', 'e', e, 0);
      return batches(e);
    },
  };
}
