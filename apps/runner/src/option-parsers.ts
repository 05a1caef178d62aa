import { existsSync, statSync } from 'node:fs';
import { BACKEND_REQUESTS, type BackendRequest, isBackendRequest } from '@distilljs/core';
import { InvalidArgumentError } from 'commander';
import {
  DATASET_NAMES,
  type DataKind,
  type DatasetName,
  LOSS_NAMES,
  type LossName,
  OPTIMIZER_NAMES,
} from './experiment-schema.js';

/** Commander parser: an integer > 0. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n <= 0) {
    throw new InvalidArgumentError(`expected an integer > 0, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Commander parser: an integer >= 0. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n)) {
    throw new InvalidArgumentError(`expected an integer >= 0, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Commander parser: any integer (seeds). */
export function integer(value: string): number {
  const n = Number(value);
  if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`expected an integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Commander parser: a finite number > 0. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a number > 0, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Commander parser: a finite number >= 0 (a loss weight). */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new InvalidArgumentError(`expected a number >= 0, got ${JSON.stringify(value)}`);
  }
  return n;
}

/** Commander parser: comma-separated numbers > 0 (e.g. temperatures `2,3,4`). */
export function numberList(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  const out = parts.map(Number);
  if (parts.some((p) => p === '') || out.some((n) => !Number.isFinite(n) || n <= 0)) {
    throw new InvalidArgumentError(
      `expected comma-separated numbers > 0 such as 2,3,4, got ${JSON.stringify(value)}`,
    );
  }
  return out;
}

/** Commander parser: a number in [0, 1]. */
export function unitNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InvalidArgumentError(`expected a number in [0, 1], got ${JSON.stringify(value)}`);
  }
  return n;
}

function oneOf<T extends string>(valid: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(valid as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${valid.join(', ')}, got ${JSON.stringify(value)}`);
    }
    return value as T;
  };
}

/** Commander parser: a backend request. */
export function backendRequest(value: string): BackendRequest {
  if (!isBackendRequest(value)) {
    throw new InvalidArgumentError(
      `expected one of ${BACKEND_REQUESTS.join(', ')}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Commander parser: a dataset name. */
export const datasetName: (value: string) => DatasetName = oneOf(DATASET_NAMES);
/** A `--dataset` value: a dataset name, or your own data with its path(s). */
export interface DatasetArg {
  readonly name: DatasetName | DataKind;
  readonly path?: string;
  readonly labelsPath?: string;
}

const TABLE_FILE = /\.(csv|tsv|tab)(\.gz)?$/i;

/**
 * Commander parser of `--dataset`: a name (mnist-embedded, fashion-mnist, ...), `folder:DIR`,
 * `csv:FILE`, `npy:FEATURES,LABELS`, or a plain path whose kind is obvious (a directory is an image
 * folder; a .csv/.tsv file, gzipped or not, is a table).
 */
export function datasetArg(value: string): DatasetArg {
  if ((DATASET_NAMES as readonly string[]).includes(value)) return { name: value as DatasetName };
  const m = /^(folder|csv|npy):(.+)$/.exec(value);
  if (m) {
    const kind = m[1] as DataKind;
    if (kind !== 'npy') return { name: kind, path: m[2] as string };
    const [features, labels, ...rest] = (m[2] as string).split(',');
    if (!features || !labels || rest.length)
      throw new InvalidArgumentError(
        `npy: expected npy:FEATURES.npy,LABELS.npy, got ${JSON.stringify(value)}`,
      );
    return { name: 'npy', path: features, labelsPath: labels };
  }
  if (existsSync(value)) {
    if (statSync(value).isDirectory()) return { name: 'folder', path: value };
    if (TABLE_FILE.test(value)) return { name: 'csv', path: value };
  }
  const where = existsSync(value) ? '' : ' (no such file or directory)';
  throw new InvalidArgumentError(
    `expected one of ${DATASET_NAMES.join(', ')}, or folder:DIR, csv:FILE, npy:FEATURES,LABELS, an image folder or a .csv/.tsv file, got ${JSON.stringify(value)}${where}`,
  );
}

/** Commander parser: an optimiser name. */
export const optimizerName: (value: string) => (typeof OPTIMIZER_NAMES)[number] = oneOf(OPTIMIZER_NAMES);
/** Commander parser: a loss name. */
export const lossName: (value: string) => LossName = oneOf(LOSS_NAMES);

/** Commander parser: `shift:2`, `crop:4,flip` -> augmentation settings. */
export function augmentSpec(value: string): { shift?: number; crop?: number; flip?: boolean } {
  const out: { shift?: number; crop?: number; flip?: boolean } = {};
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key, arg] = part.split(':');
    if (key === 'flip' && arg === undefined) out.flip = true;
    else if ((key === 'shift' || key === 'crop') && arg !== undefined && /^\d+$/.test(arg))
      out[key] = Number(arg);
    else {
      throw new InvalidArgumentError(
        `expected a comma-separated list of shift:PX, crop:PAD and flip (e.g. "crop:4,flip"), got ${JSON.stringify(value)}`,
      );
    }
  }
  return out;
}

/** Commander parser: `--shard i/n` with 0 <= i < n. */
export function shardSpec(value: string): { index: number; count: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) {
    throw new InvalidArgumentError(`expected i/n with 0 <= i < n (e.g. 0/2), got ${JSON.stringify(value)}`);
  }
  return { index, count };
}

/**
 * Commander parser: `--teacher-normalize MEAN,STD` (one pair for every channel) or `M1,...,Mc,S1,...,Sc`
 * (c means, then c standard deviations).
 */
export function normalizeSpec(value: string): { mean: number[]; std: number[] } {
  const parts = value.split(',').map((s) => Number(s.trim()));
  const half = parts.length / 2;
  if (
    parts.length < 2 ||
    parts.length % 2 !== 0 ||
    !parts.every(Number.isFinite) ||
    parts.slice(half).some((s) => s <= 0)
  ) {
    throw new InvalidArgumentError(
      `expected MEAN,STD or M1,..,Mc,S1,..,Sc (c means then c standard deviations > 0), got ${JSON.stringify(value)}`,
    );
  }
  return { mean: parts.slice(0, half), std: parts.slice(half) };
}
