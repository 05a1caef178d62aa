import type {
  Dataset,
  DatasetSplit,
  ExampleShape,
  FeatureSplit,
  ImageDataset,
  ImageShape,
} from '@distilljs/core';
import { assertInteger, exampleShape, invalidArgument, isFeatureDataset, Rng } from '@distilljs/core';

/**
 * A selection of examples from one split of a dataset, without copying any pixels: the split's bytes plus
 * the positions (in the split) of the selected examples, in order. Batches built from a view report these
 * positions as `indices`, so they stay stable keys into the source split whatever the selection.
 */
export interface DatasetView {
  /** e.g. `fashion-mnist/train`. */
  readonly name: string;
  /** Shape of one example (`[h, w, c]` for images). */
  readonly exampleShape: ExampleShape;
  /** `[h, w, c]` of uint8 images; absent for float features. */
  readonly imageShape?: ImageShape;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** The whole source split: image bytes, or float features. */
  readonly split: DatasetSplit | FeatureSplit;
  /** Positions in `split` of the selected examples, in order. */
  readonly positions: Int32Array;
  /** When true, batches carry label `-1` (a transfer set: soft targets only). */
  readonly unlabelled: boolean;
  /** What was selected, in order (`classes=0,1`, `take=100`, `unlabelled`); part of the fingerprint. */
  readonly steps: readonly string[];
}

/** Which split of a dataset. */
export type SplitName = 'train' | 'test';

/** Anything a view can be made from: a dataset (images or features, with a split name) or a view. */
export type ViewSource = Dataset | DatasetView;

/** True when the examples of a split are float features rather than image bytes. */
export function isFeatureSplit(split: DatasetSplit | FeatureSplit): split is FeatureSplit {
  return (split as FeatureSplit).features instanceof Float32Array;
}

/** True when `source` is a {@link DatasetView} rather than an {@link ImageDataset}. */
export function isDatasetView(source: ViewSource): source is DatasetView {
  return (source as DatasetView).positions instanceof Int32Array && 'split' in source;
}

/** A view of all examples of one split of a dataset (or the view itself when given a view). */
export function datasetView(source: ViewSource, split: SplitName = 'train'): DatasetView {
  if (source && isDatasetView(source)) return source;
  if (
    !source ||
    typeof source !== 'object' ||
    !('train' in source) ||
    !('imageShape' in source || 'featureShape' in source)
  ) {
    invalidArgument('datasetView', 'source', 'an ImageDataset, a FeatureDataset or a DatasetView', source);
  }
  if (split !== 'train' && split !== 'test')
    invalidArgument('datasetView', 'split', "'train' or 'test'", split);
  const s = source[split];
  const shape = exampleShape(source);
  const size = shape.reduce((a, b) => a * b, 1);
  const features = isFeatureDataset(source);
  const data = features ? (s as FeatureSplit).features : (s as DatasetSplit).images;
  if (!features && !(data instanceof Uint8Array)) {
    invalidArgument(
      'datasetView',
      `source.${split}.images`,
      'a Uint8Array of pixel bytes 0..255 (for float features build a FeatureDataset with datasetFromArrays({ features, labels }))',
      data,
    );
  }
  if (features && !(data instanceof Float32Array)) {
    invalidArgument('datasetView', `source.${split}.features`, 'a Float32Array', data);
  }
  if (data?.length !== s.count * size || s.labels.length !== s.count) {
    invalidArgument(
      'datasetView',
      `source.${split}`,
      `${s.count} ${features ? 'examples' : 'images'} of [${shape.join(', ')}] and ${s.count} labels`,
      `${data?.length} ${features ? 'feature values' : 'image bytes'} and ${s.labels.length} labels`,
    );
  }
  const positions = new Int32Array(s.count);
  for (let i = 0; i < s.count; i++) positions[i] = i;
  return {
    name: `${source.name}/${split}`,
    exampleShape: shape,
    ...(features ? {} : { imageShape: (source as ImageDataset).imageShape }),
    numClasses: source.numClasses,
    classNames: source.classNames,
    split: s,
    positions,
    unlabelled: !features && (source as ImageDataset).unlabelled === true,
    steps: [],
  };
}

/** Options of {@link subset}; applied in this order: classes, excludeClasses, sample, take. */
export interface SubsetOptions {
  /** Keep only these classes. */
  readonly classes?: readonly number[];
  /** Drop these classes (e.g. leave digit 3 out of a transfer set). */
  readonly excludeClasses?: readonly number[];
  /** Keep a seeded random sample of this many examples (kept in source order). */
  readonly sample?: { readonly count: number; readonly seed: number };
  /** Keep the first `take` examples. */
  readonly take?: number;
  /** Which split, when `source` is a dataset (default `train`). */
  readonly split?: SplitName;
}

function classSet(fn: string, arg: string, classes: readonly number[], numClasses: number): Set<number> {
  if (!Array.isArray(classes) || !classes.every((k) => Number.isInteger(k) && k >= 0 && k < numClasses)) {
    invalidArgument(fn, arg, `an array of class ids in 0..${numClasses - 1}`, classes);
  }
  return new Set(classes);
}

/**
 * Selects examples of a dataset split or view by class, by seeded random sample and/or by count, without
 * copying pixels. Positions keep pointing into the source split.
 */
export function subset(source: ViewSource, options: SubsetOptions): DatasetView {
  const fn = 'subset';
  const view = datasetView(source, options?.split);
  let positions = view.positions;
  const steps = [...view.steps];
  const keepWhere = (pred: (label: number) => boolean): Int32Array => {
    const out: number[] = [];
    for (const p of positions) if (pred(view.split.labels[p] as number)) out.push(p);
    return Int32Array.from(out);
  };
  if (options.classes !== undefined) {
    const keep = classSet(fn, 'classes', options.classes, view.numClasses);
    positions = keepWhere((y) => keep.has(y));
    steps.push(`classes=${[...keep].sort((a, b) => a - b).join(',')}`);
  }
  if (options.excludeClasses !== undefined) {
    const drop = classSet(fn, 'excludeClasses', options.excludeClasses, view.numClasses);
    positions = keepWhere((y) => !drop.has(y));
    steps.push(`exclude=${[...drop].sort((a, b) => a - b).join(',')}`);
  }
  if (options.sample !== undefined) {
    const { count, seed } = options.sample;
    assertInteger(fn, 'sample.count', count, 0);
    if (count > positions.length) {
      invalidArgument(fn, 'sample.count', `at most the ${positions.length} examples available`, count);
    }
    const picked = new Rng(seed).permutation(positions.length).subarray(0, count).sort();
    const src = positions;
    positions = Int32Array.from(picked, (i) => src[i] as number);
    steps.push(`sample=${count}@${seed}`);
  }
  if (options.take !== undefined) {
    assertInteger(fn, 'take', options.take, 0);
    positions = positions.slice(0, options.take);
    steps.push(`take=${options.take}`);
  }
  return { ...view, positions, steps };
}

/** Options of {@link transferSet}. */
export interface TransferSetOptions extends SubsetOptions {}

/**
 * An unlabelled transfer set: the selected examples with every label reported as `-1`, so a trainer uses
 * only the teacher's soft targets on them (Hinton et al. train the student on a transfer set that may
 * leave out a whole class, e.g. `transferSet(mnist, { excludeClasses: [3] })`).
 */
export function transferSet(source: ViewSource, options: TransferSetOptions = {}): DatasetView {
  const view = subset(source, options);
  return { ...view, unlabelled: true, steps: [...view.steps, 'unlabelled'] };
}

/** Copies the examples of a view into a new, compact split (labels as stored in the source). */
export function materializeView(view: DatasetView & { split: DatasetSplit }): DatasetSplit;
export function materializeView(view: DatasetView & { split: FeatureSplit }): FeatureSplit;
export function materializeView(view: DatasetView): DatasetSplit | FeatureSplit;
export function materializeView(view: DatasetView): DatasetSplit | FeatureSplit {
  const size = view.exampleShape.reduce((a, b) => a * b, 1);
  const n = view.positions.length;
  const src = isFeatureSplit(view.split) ? view.split.features : view.split.images;
  const data = src instanceof Float32Array ? new Float32Array(n * size) : new Uint8Array(n * size);
  const labels = view.split.labels instanceof Int32Array ? new Int32Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = view.positions[i] as number;
    data.set(src.subarray(p * size, (p + 1) * size) as never, i * size);
    labels[i] = view.split.labels[p] as number;
  }
  return data instanceof Float32Array
    ? { features: data, labels: labels as Int32Array, count: n }
    : { images: data as Uint8Array, labels: labels as Uint8Array, count: n };
}
