import {
  type Batch,
  type BatchStream,
  ConfigError,
  InvalidArgumentError,
  InvalidFileError,
  type Teacher,
} from '@distilljs/core';
import { sha256Hex } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';

/** The `format` field of a teacher-logits manifest (docs/teacher-logits.md). */
export const TEACHER_LOGITS_FORMAT = 'distilljs-teacher-logits';
/** The manifest's file name inside a teacher-logits directory. */
export const TEACHER_LOGITS_MANIFEST = 'manifest.json';

const fileEntry = z.strictObject({
  file: z.string().regex(/^[^/\\]+\.npy$/, 'a .npy file name inside the directory'),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
});

const shardEntry = z.strictObject({
  start: z.number().int().nonnegative(),
  end: z.number().int().positive(),
  logits: fileEntry,
  indices: fileEntry.optional(),
});

/** The manifest of a teacher-logits directory (docs/teacher-logits.md). */
export const teacherLogitsManifestSchema = z.strictObject({
  format: z.literal(TEACHER_LOGITS_FORMAT),
  version: z.literal(1),
  count: z.number().int().positive(),
  numClasses: z.number().int().min(2),
  dtype: z.enum(['float32', 'float16']),
  topK: z.number().int().positive().nullable(),
  /** With top-k: the temperatures the fill logits were computed for, one column each (default [1]). */
  topKTemperatures: z.array(z.number().positive()).min(1).optional(),
  dataset: z.strictObject({
    name: z.string(),
    split: z.string(),
    count: z.number().int().positive(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
  }),
  teacher: z.strictObject({ kind: z.string(), name: z.string(), fingerprint: z.string() }).optional(),
  shards: z.array(shardEntry),
});

export type TeacherLogitsManifest = z.infer<typeof teacherLogitsManifestSchema>;
export type TeacherLogitsShard = TeacherLogitsManifest['shards'][number];

/** Which dataset split a stream draws from: what a teacher-logits manifest records and checks. */
export interface SplitIdentity {
  readonly name: string;
  readonly split: string;
  readonly count: number;
  /** sha256 of the split's uint8 pixels (HWC, example after example, in split order). */
  readonly sha256: string;
}

interface ViewLike {
  readonly name: string;
  readonly split: { readonly images: Uint8Array; readonly count: number };
}

const identities = new WeakMap<Uint8Array, string>();

/**
 * The split a stream of @distilljs/datasets draws from (`stream.view`), identified by sha256 of its pixels.
 * Throws when the stream does not say (a hand-made BatchStream): logits files are keyed by split positions.
 */
export async function splitIdentity(data: BatchStream, fn = 'splitIdentity'): Promise<SplitIdentity> {
  const view = (data as { view?: ViewLike }).view;
  if (!view?.split?.images || typeof view.name !== 'string') {
    throw new InvalidArgumentError(
      `${fn}: the data stream does not say which dataset split it reads (no 'view'); teacher logits files need a stream of @distilljs/datasets (createBatchStream)`,
      { where: `${fn}(data)` },
    );
  }
  let sha = identities.get(view.split.images);
  if (sha === undefined) {
    sha = await sha256Hex([view.split.images]);
    identities.set(view.split.images, sha);
  }
  const cut = view.name.lastIndexOf('/');
  return {
    name: cut < 0 ? view.name : view.name.slice(0, cut),
    split: cut < 0 ? 'train' : view.name.slice(cut + 1),
    count: view.split.count,
    sha256: sha,
  };
}

/**
 * Keeps the `k` largest logits of each row: `values` `[n, k + t]` (the k largest in descending order, then
 * one fill logit per temperature `T` of `temperatures`, `r_T = T * (logsumexp(rest / T) - ln(C - k))`, over
 * the C - k others) and `indices` `[n, k]` (their classes). Rebuilt with the fill of `T`, the logits give the
 * k probabilities of the softmax at temperature `T` exactly and spread the rest's mass evenly.
 */
export function topKRows(
  rows: Float32Array,
  numClasses: number,
  k: number,
  temperatures: readonly number[] = [1],
): { values: Float32Array; indices: Int32Array } {
  const n = rows.length / numClasses;
  const t = temperatures.length;
  const values = new Float32Array(n * (k + t));
  const indices = new Int32Array(n * k);
  const order = Array.from({ length: numClasses }, (_, i) => i);
  for (let r = 0; r < n; r++) {
    const row = rows.subarray(r * numClasses, (r + 1) * numClasses);
    order.sort((a, b) => row[b]! - row[a]! || a - b);
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = order[j]!;
      values[r * (k + t) + j] = row[order[j]!]!;
    }
    if (k === numClasses) continue;
    let max = Number.NEGATIVE_INFINITY;
    for (let j = k; j < numClasses; j++) max = Math.max(max, row[order[j]!]!);
    temperatures.forEach((temp, i) => {
      let sum = 0;
      for (let j = k; j < numClasses; j++) sum += Math.exp((row[order[j]!]! - max) / temp);
      values[r * (k + t) + k + i] = max + temp * (Math.log(sum) - Math.log(numClasses - k));
    });
  }
  return { values, indices };
}

/**
 * Full `[n, C]` logits from top-k storage (`values` `[n, k + t]`): the k stored logits in place, the fill
 * logit of column `k + fill` (the fill of the temperature it was computed for) everywhere else.
 */
export function reconstructTopK(
  values: Float32Array,
  indices: Int32Array,
  numClasses: number,
  k: number,
  fill = 0,
  fills = 1,
): Float32Array {
  const n = indices.length / k;
  const w = k + fills;
  const out = new Float32Array(n * numClasses);
  for (let r = 0; r < n; r++) {
    out.fill(values[r * w + k + fill]!, r * numClasses, (r + 1) * numClasses);
    for (let j = 0; j < k; j++) out[r * numClasses + indices[r * k + j]!] = values[r * w + j]!;
  }
  return out;
}

/** Options of {@link logitsTeacher}. */
export interface LogitsTeacherOptions {
  /** `count * numClasses` logits, row `i` for example `i` of the split. */
  readonly rows: Float32Array;
  readonly numClasses: number;
  /** The split the rows belong to. */
  readonly dataset: SplitIdentity;
  /** For messages: the directory or manifest path. */
  readonly name: string;
  /** Identifies the rows (e.g. sha256 of the shard files). */
  readonly fingerprint: string;
  readonly notes?: readonly string[];
  /** The same logits as read at a distillation temperature (top-k files: the fill of that temperature). */
  readonly atTemperature?: (temperature: number) => Teacher;
}

/**
 * Precomputed teacher logits as a {@link Teacher}: `logits(batch)` looks the rows up by `batch.indices`
 * (positions in the dataset split); `checkData` refuses a stream over another dataset or split.
 */
export function logitsTeacher(options: LogitsTeacherOptions): Teacher {
  const { rows, numClasses, dataset, name } = options;
  const count = rows.length / numClasses;
  return {
    kind: 'logits-files',
    name,
    inputShape: null,
    inputLayout: 'none',
    numClasses,
    notes: [
      `teacher: precomputed logits of ${count} examples of ${dataset.name}/${dataset.split} from ${name}`,
      ...(options.notes ?? []),
    ],
    async logits(batch: Batch) {
      const out = new Float32Array(batch.indices.length * numClasses);
      for (let i = 0; i < batch.indices.length; i++) {
        const p = batch.indices[i]!;
        if (!(p >= 0 && p < count)) {
          throw new InvalidArgumentError(
            `${name}: holds logits of examples 0..${count - 1}, but the data asks for example ${p}`,
            { where: name },
          );
        }
        out.set(rows.subarray(p * numClasses, (p + 1) * numClasses), i * numClasses);
      }
      return tf.tensor2d(out, [batch.indices.length, numClasses]);
    },
    fingerprint: async () => options.fingerprint,
    ...(options.atTemperature ? { atTemperature: options.atTemperature } : {}),
    async checkData(data: BatchStream) {
      const got = await splitIdentity(data, 'distill');
      const where = `${dataset.name}/${dataset.split}, ${dataset.count} examples, sha256 ${dataset.sha256.slice(0, 12)}`;
      const have = `${got.name}/${got.split}, ${got.count} examples, sha256 ${got.sha256.slice(0, 12)}`;
      if (got.sha256 !== dataset.sha256 || got.count !== dataset.count || got.split !== dataset.split) {
        throw new ConfigError(
          `${name}: the logits are of ${where}, but the data is ${have}; write logits for this dataset split (distill logits --dataset ... --split ${got.split})`,
          { where: name },
        );
      }
    },
    dispose() {},
  };
}

/** Throws when a value is NaN or infinite, naming the file, row and column. */
export function checkFinite(values: Float32Array, width: number, file: string, firstRow: number): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      const row = firstRow + Math.floor(i / width);
      throw new InvalidFileError(
        `${file}: ${values[i]} at example ${row}, column ${i % width}; teacher logits must be finite numbers`,
        { where: `${file}@${row}` },
      );
    }
  }
}

/** The shard `index` of `count`: examples `floor(index * n / count)` up to `floor((index + 1) * n / count)`. */
export function shardRange(n: number, index: number, count: number): { start: number; end: number } {
  return { start: Math.floor((index * n) / count), end: Math.floor(((index + 1) * n) / count) };
}
