import { statSync } from 'node:fs';
import type { FeatureDataset, FeatureSplit } from '@distilljs/core';
import { InvalidArgumentError, InvalidFileError } from '@distilljs/core';
import { standardizeDataset } from '../from-arrays.js';
import { maybeGunzip } from '../gzip.js';
import { checkDatasetBytes } from '../memory-limit.js';
import { parseNpy } from '../npy.js';
import { holdOut } from '../stratified-split.js';
import { parseTable, type TableOptions } from '../table.js';
import { nodeGunzip } from './node-gunzip.js';
import { readBytes } from './read-bytes.js';

/** What {@link loadTable} and {@link loadNpy} do after reading. */
export interface FeatureLoadOptions {
  /** Share of the rows held out, stratified and seeded, as the validation split (the dataset's `test`); default 0.2, 0 for none. */
  readonly validationFraction?: number;
  /** Seed of the validation split (default 0). */
  readonly seed?: number;
  /** What the held-out part is called in the dataset's name (default `validation`; the runner says `test`). */
  readonly heldOutLabel?: string;
  /** Standardise every feature with the training part's mean and std (default true). */
  readonly standardize?: boolean;
  /** Most bytes the data may take in memory (default 4 GiB). */
  readonly maxBytes?: number;
}

/** Options of {@link loadTable}. */
export interface LoadTableOptions extends TableOptions, FeatureLoadOptions {}

function finish(dataset: FeatureDataset, options: FeatureLoadOptions, file: string): FeatureDataset {
  const fraction = options.validationFraction ?? 0.2;
  const split =
    fraction > 0
      ? holdOut(dataset, { fraction, seed: options.seed ?? 0, label: options.heldOutLabel ?? 'validation' })
      : dataset;
  if (options.standardize === false) return split;
  try {
    return standardizeDataset(split);
  } catch (cause) {
    if (!(cause instanceof InvalidArgumentError)) throw cause;
    throw new InvalidFileError(`${file}: ${cause.message}`, { where: `${file}:${cause.where}`, cause });
  }
}

function checkFile(file: string, what: string, maxBytes: number | undefined, factor: number): void {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new InvalidFileError(`${file}: cannot read the ${what} (no such file)`, { where: file });
  }
  checkDatasetBytes(`${file} (${what})`, size * factor, maxBytes);
}

/**
 * Loads a CSV or TSV table (gzip-compressed or not; `.tsv`/`.tab` files are tab-separated unless
 * `delimiter` says otherwise): numeric features, the label column by name, a seeded stratified validation split,
 * standardisation fitted on the training rows only (kept in `standardization`, to save with a model).
 */
export async function loadTable(file: string, options: LoadTableOptions = {}): Promise<FeatureDataset> {
  checkFile(file, 'table', options.maxBytes, 3);
  const bytes = await maybeGunzip(await readBytes(file), file, nodeGunzip);
  const text = new TextDecoder().decode(bytes);
  const delimiter = options.delimiter ?? (/\.(tsv|tab)(\.gz)?$/i.test(file) ? '\t' : ',');
  return finish(parseTable(text, file, { ...options, delimiter }), options, file);
}

/** Options of {@link loadNpy}. */
export interface LoadNpyOptions extends FeatureLoadOptions {
  /** Class names in label order (default `'0'`, `'1'`, ...). */
  readonly classNames?: readonly string[];
}

/**
 * Loads NumPy arrays saved with `numpy.save`: features `[n, ...shape]` (any real dtype) and integer labels
 * `[n]`, with a seeded stratified validation split and standardisation fitted on the training part.
 */
export async function loadNpy(
  featuresFile: string,
  labelsFile: string,
  options: LoadNpyOptions = {},
): Promise<FeatureDataset> {
  checkFile(featuresFile, 'features', options.maxBytes, 1);
  const x = parseNpy(await readBytes(featuresFile), featuresFile);
  const y = parseNpy(await readBytes(labelsFile), labelsFile);
  if (x.shape.length < 2)
    throw new InvalidFileError(
      `${featuresFile}: features have shape (${x.shape.join(', ')}); expected (examples, features...)`,
      { where: featuresFile },
    );
  if (y.shape.length !== 1)
    throw new InvalidFileError(
      `${labelsFile}: labels have shape (${y.shape.join(', ')}); expected one class id per example, shape (n,)`,
      { where: labelsFile },
    );
  const n = x.shape[0] as number;
  if (y.shape[0] !== n) {
    throw new InvalidFileError(
      `${labelsFile}: holds ${y.shape[0]} labels but ${featuresFile} holds ${n} examples; both files need the same length`,
      { where: labelsFile },
    );
  }
  const bad = y.data.findIndex((v) => !Number.isInteger(v) || v < 0);
  if (bad >= 0)
    throw new InvalidFileError(
      `${labelsFile}: label ${y.data[bad]} of example ${bad} is not a class id (an integer >= 0)`,
      { where: `${labelsFile}[${bad}]` },
    );
  const numClasses = options.classNames?.length ?? y.data.reduce((a, b) => Math.max(a, b), -1) + 1;
  const train: FeatureSplit = {
    features: Float32Array.from(x.data),
    labels: Int32Array.from(y.data),
    count: n,
  };
  return finish(
    {
      name: featuresFile.split(/[\\/]/).pop() ?? featuresFile,
      featureShape: x.shape.slice(1),
      numClasses,
      classNames: options.classNames ?? Array.from({ length: numClasses }, (_, k) => String(k)),
      train,
      test: { features: new Float32Array(0), labels: new Int32Array(0), count: 0 },
    },
    options,
    featuresFile,
  );
}
