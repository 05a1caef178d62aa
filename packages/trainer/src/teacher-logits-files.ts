import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertInteger,
  type BatchStream,
  ConfigError,
  InvalidFileError,
  invalidArgument,
  type Teacher,
} from '@distilljs/core';
import { decodeNpy, encodeNpy } from './npy.js';
import {
  checkFinite,
  logitsTeacher,
  reconstructTopK,
  type SplitIdentity,
  shardRange,
  splitIdentity,
  TEACHER_LOGITS_FORMAT,
  TEACHER_LOGITS_MANIFEST,
  type TeacherLogitsManifest,
  type TeacherLogitsShard,
  teacherLogitsManifestSchema,
  topKRows,
} from './teacher-logits.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Options of {@link writeTeacherLogits}. */
export interface WriteTeacherLogitsOptions {
  /** Any teacher; run in evaluation mode over the shard's examples. */
  readonly teacher: Teacher;
  /** A stream over the whole dataset split (any order, not augmented), e.g. createBatchStream(ds, { split }). */
  readonly data: BatchStream;
  /** The directory to write into (created; other shards already there are kept). */
  readonly dir: string;
  /** Write shard `index` of `count` (default the whole split as shard 0 of 1). */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Keep only the k largest logits per example (docs/teacher-logits.md states the reconstruction). */
  readonly topK?: number;
  /**
   * With `topK`: the distillation temperatures to store a fill logit for (default [1]); at each, the k
   * probabilities are exact and the rest's mass is spread evenly (docs/teacher-logits.md).
   */
  readonly topKTemperatures?: readonly number[];
  /** Storage type of the logits (default float32). */
  readonly dtype?: 'float32' | 'float16';
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Reads and validates a manifest; `undefined` when the directory has none yet. */
async function readManifest(dir: string): Promise<TeacherLogitsManifest | undefined> {
  const path = join(dir, TEACHER_LOGITS_MANIFEST);
  if (!existsSync(path)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new InvalidFileError(`${path}: not valid JSON: ${(cause as Error).message}`, {
      where: path,
      cause,
    });
  }
  const parsed = teacherLogitsManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InvalidFileError(
      `${path}: ${issue.path.join('.') || 'manifest'}: ${issue.message} (see docs/teacher-logits.md)`,
      { where: `${path}:${issue.path.join('.')}` },
    );
  }
  return parsed.data;
}

/** Teacher outputs for the examples `start..end-1` of the split, in position order. */
async function shardRows(
  teacher: Teacher,
  data: BatchStream,
  start: number,
  end: number,
): Promise<Float32Array> {
  const c = teacher.numClasses;
  const rows = new Float32Array((end - start) * c);
  const seen = new Uint8Array(end - start);
  for await (const batch of data.epoch(0)) {
    try {
      if (!batch.indices.some((p) => p >= start && p < end)) continue;
      const out = await teacher.logits(batch);
      const values = (await out.data()) as Float32Array;
      out.dispose();
      batch.indices.forEach((p, i) => {
        if (p < start || p >= end) return;
        rows.set(values.subarray(i * c, (i + 1) * c), (p - start) * c);
        seen[p - start] = 1;
      });
    } finally {
      batch.xs.dispose();
    }
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) {
    throw new ConfigError(
      `writeTeacherLogits: the data stream never gave example ${start + missing}; pass a stream over the whole split (no class filter, no validation hold-out)`,
      { where: 'writeTeacherLogits(data)' },
    );
  }
  return rows;
}

function agree(path: string, existing: TeacherLogitsManifest, fresh: TeacherLogitsManifest): void {
  const pairs: [string, unknown, unknown][] = [
    ['count', existing.count, fresh.count],
    ['numClasses', existing.numClasses, fresh.numClasses],
    ['dtype', existing.dtype, fresh.dtype],
    ['topK', existing.topK, fresh.topK],
    ['topKTemperatures', String(existing.topKTemperatures ?? [1]), String(fresh.topKTemperatures ?? [1])],
    ['dataset', JSON.stringify(existing.dataset), JSON.stringify(fresh.dataset)],
    ['teacher', existing.teacher?.fingerprint, fresh.teacher?.fingerprint],
  ];
  for (const [field, a, b] of pairs) {
    if (a !== b) {
      throw new ConfigError(
        `${path}: the directory holds shards with ${field} ${String(a)}, but this shard has ${String(b)}; write every shard with the same teacher, dataset, --dtype and --top-k, or into another --out`,
        { where: `${path}:${field}` },
      );
    }
  }
}

/**
 * Node: runs a teacher over one shard of a dataset split and writes its logits as .npy files plus the
 * manifest (docs/teacher-logits.md), atomically. Shards of the same teacher and split written into the same
 * directory (in any order, one at a time) add up to one set. Returns the manifest written.
 */
export async function writeTeacherLogits(options: WriteTeacherLogitsOptions): Promise<TeacherLogitsManifest> {
  const fn = 'writeTeacherLogits';
  const { teacher, data, dir } = options;
  const shard = options.shard ?? { index: 0, count: 1 };
  assertInteger(fn, 'shard.count', shard.count, 1);
  assertInteger(fn, 'shard.index', shard.index, 0);
  if (shard.index >= shard.count)
    invalidArgument(fn, 'shard.index', `an integer below ${shard.count}`, shard.index);
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float16')
    invalidArgument(fn, 'dtype', "'float32' or 'float16'", dtype);
  const c = teacher.numClasses;
  const k = options.topK;
  if (k !== undefined && (!Number.isInteger(k) || k < 1 || k >= c)) {
    invalidArgument(fn, 'topK', `an integer from 1 to ${c - 1} (the teacher has ${c} classes)`, k);
  }
  const temps = options.topKTemperatures ?? [1];
  if (
    !Array.isArray(temps) ||
    temps.length === 0 ||
    !temps.every((t) => Number.isFinite(t) && t > 0) ||
    new Set(temps).size !== temps.length
  ) {
    invalidArgument(fn, 'topKTemperatures', 'distinct temperatures > 0, e.g. [1, 4]', temps);
  }
  if (options.topKTemperatures !== undefined && k === undefined) {
    invalidArgument(
      fn,
      'topKTemperatures',
      'only with topK (full logits are exact at every temperature)',
      temps,
    );
  }
  if (data.augmented) invalidArgument(fn, 'data', 'a stream without augmentation', 'an augmented stream');
  const dataset: SplitIdentity = await splitIdentity(data, fn);
  const manifestPath = join(dir, TEACHER_LOGITS_MANIFEST);
  const existing = await readManifest(dir);
  const { start, end } = shardRange(dataset.count, shard.index, shard.count);
  const fresh: TeacherLogitsManifest = {
    format: TEACHER_LOGITS_FORMAT,
    version: 1,
    count: dataset.count,
    numClasses: c,
    dtype,
    topK: k ?? null,
    ...(k !== undefined ? { topKTemperatures: [...temps] } : {}),
    dataset: { name: dataset.name, split: dataset.split, count: dataset.count, sha256: dataset.sha256 },
    teacher: { kind: teacher.kind, name: teacher.name, fingerprint: await teacher.fingerprint() },
    shards: [],
  };
  if (existing) agree(manifestPath, existing, fresh);
  const others = (existing?.shards ?? []).filter((s) => s.start !== start || s.end !== end);
  const overlap = others.find((s) => s.start < end && start < s.end);
  if (overlap) {
    throw new ConfigError(
      `${manifestPath}: shard ${shard.index}/${shard.count} (examples ${start}..${end - 1}) overlaps ${overlap.logits.file} (examples ${overlap.start}..${overlap.end - 1}); use the same --shard count for every shard`,
      { where: manifestPath },
    );
  }
  const rows = await shardRows(teacher, data, start, end);
  checkFinite(rows, c, `teacher ${teacher.name}`, start);
  const tag = `${String(shard.index).padStart(5, '0')}-of-${String(shard.count).padStart(5, '0')}`;
  const n = end - start;
  const files: { entry: TeacherLogitsShard['logits']; bytes: Uint8Array }[] = [];
  const add = (file: string, bytes: Uint8Array) => {
    files.push({ entry: { file, bytes: bytes.length, sha256: sha256(bytes) }, bytes });
  };
  if (k === undefined) {
    add(`logits-${tag}.npy`, encodeNpy(rows, [n, c], dtype));
  } else {
    const top = topKRows(rows, c, k, temps);
    add(`topk-values-${tag}.npy`, encodeNpy(top.values, [n, k + temps.length], dtype));
    add(`topk-indices-${tag}.npy`, encodeNpy(top.indices, [n, k], 'int32'));
  }
  for (const f of files) await writeFileAtomic(join(dir, f.entry.file), f.bytes);
  const entry: TeacherLogitsShard = {
    start,
    end,
    logits: files[0]!.entry,
    ...(files[1] ? { indices: files[1].entry } : {}),
  };
  const manifest = { ...fresh, shards: [...others, entry].sort((a, b) => a.start - b.start) };
  await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

async function readShardFile(dir: string, entry: TeacherLogitsShard['logits']): Promise<Uint8Array> {
  const path = join(dir, entry.file);
  if (!existsSync(path)) {
    throw new InvalidFileError(
      `${path}: missing; the manifest lists it (write it with distill logits --shard)`,
      {
        where: path,
      },
    );
  }
  const bytes = new Uint8Array(await readFile(path));
  if (bytes.length !== entry.bytes) {
    throw new InvalidFileError(
      `${path}: ${bytes.length} bytes, but the manifest says ${entry.bytes}; the file is truncated or was rewritten`,
      { where: path },
    );
  }
  const sum = sha256(bytes);
  if (sum !== entry.sha256) {
    throw new InvalidFileError(
      `${path}: sha256 ${sum} differs from the manifest's ${entry.sha256}; the file is corrupt or was rewritten`,
      { where: path },
    );
  }
  return bytes;
}

function expectShape(path: string, shape: readonly number[], want: readonly number[], what: string): void {
  if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
    throw new InvalidFileError(
      `${path}: shape (${shape.join(', ')}), but the manifest needs (${want.join(', ')}) (${what})`,
      { where: path },
    );
  }
}

async function loadShard(
  dir: string,
  m: TeacherLogitsManifest,
  s: TeacherLogitsShard,
): Promise<Float32Array[]> {
  const n = s.end - s.start;
  const c = m.numClasses;
  const path = join(dir, s.logits.file);
  const values = decodeNpy(await readShardFile(dir, s.logits), path);
  if (values.dtype !== m.dtype) {
    throw new InvalidFileError(`${path}: dtype ${values.dtype}, but the manifest says ${m.dtype}`, {
      where: path,
    });
  }
  const rows = values.data as Float32Array;
  if (m.topK === null) {
    expectShape(path, values.shape, [n, c], `examples ${s.start}..${s.end - 1} by ${c} classes`);
    checkFinite(rows, c, path, s.start);
    return [rows];
  }
  const k = m.topK;
  const temps = m.topKTemperatures ?? [1];
  const what = `the ${k} largest logits and the fill logit of each temperature in topKTemperatures [${temps}]`;
  expectShape(path, values.shape, [n, k + temps.length], what);
  checkFinite(rows, k + temps.length, path, s.start);
  if (!s.indices) {
    throw new InvalidFileError(
      `${join(dir, TEACHER_LOGITS_MANIFEST)}: shard ${s.logits.file} has no 'indices' file (topK ${k})`,
      {
        where: join(dir, TEACHER_LOGITS_MANIFEST),
      },
    );
  }
  const ipath = join(dir, s.indices.file);
  const idx = decodeNpy(await readShardFile(dir, s.indices), ipath);
  if (idx.dtype !== 'int32')
    throw new InvalidFileError(`${ipath}: dtype ${idx.dtype}; top-k indices are int32`, { where: ipath });
  expectShape(ipath, idx.shape, [n, k], `the classes of the ${k} largest logits`);
  const bad = (idx.data as Int32Array).findIndex((v) => v < 0 || v >= c);
  if (bad >= 0) {
    throw new InvalidFileError(
      `${ipath}: class ${idx.data[bad]} at example ${s.start + Math.floor(bad / k)} is outside 0..${c - 1}`,
      { where: ipath },
    );
  }
  return temps.map((_, i) => reconstructTopK(rows, idx.data as Int32Array, c, k, i, temps.length));
}

/**
 * Node: loads a teacher-logits directory (docs/teacher-logits.md) as a {@link Teacher}, checking the
 * manifest, that the shards cover every example once, each shard's size, sha256, shape, dtype and that every
 * value is finite. Every error names the file.
 */
export async function loadTeacherLogits(dir: string): Promise<Teacher> {
  const manifestPath = join(dir, TEACHER_LOGITS_MANIFEST);
  const m = await readManifest(dir);
  if (!m) {
    throw new InvalidFileError(
      `${manifestPath}: missing; a teacher-logits directory has a manifest.json (docs/teacher-logits.md)`,
      {
        where: manifestPath,
      },
    );
  }
  if (m.dataset.count !== m.count) {
    throw new InvalidFileError(
      `${manifestPath}: count ${m.count} differs from dataset.count ${m.dataset.count}`,
      {
        where: manifestPath,
      },
    );
  }
  const shards = [...m.shards].sort((a, b) => a.start - b.start);
  let next = 0;
  for (const s of shards) {
    if (s.start !== next || s.end <= s.start || s.end > m.count) {
      const gap =
        s.start > next
          ? `examples ${next}..${s.start - 1} are in no shard`
          : `shard ${s.logits.file} (examples ${s.start}..${s.end - 1}) overlaps another or runs past ${m.count}`;
      throw new InvalidFileError(
        `${manifestPath}: ${gap}; write the missing shard with distill logits --shard i/n`,
        {
          where: manifestPath,
        },
      );
    }
    next = s.end;
  }
  if (next !== m.count) {
    throw new InvalidFileError(
      `${manifestPath}: examples ${next}..${m.count - 1} are in no shard (a shard is missing); write it with distill logits --shard i/n`,
      { where: manifestPath },
    );
  }
  const temps = m.topK === null ? [] : (m.topKTemperatures ?? [1]);
  const views = Array.from(
    { length: Math.max(1, temps.length) },
    () => new Float32Array(m.count * m.numClasses),
  );
  for (const s of shards) {
    const parts = await loadShard(dir, m, s);
    for (const [i, rows] of parts.entries()) views[i]!.set(rows, s.start * m.numClasses);
  }
  const fingerprint = createHash('sha256')
    .update(shards.map((s) => `${s.logits.sha256}:${s.indices?.sha256 ?? ''}`).join(','))
    .digest('hex');
  const view = (i: number): Teacher =>
    logitsTeacher({
      rows: views[i]!,
      numClasses: m.numClasses,
      dataset: m.dataset,
      name: dir,
      fingerprint: m.topK === null ? fingerprint : `${fingerprint}@T${temps[i]}`,
      notes:
        m.topK === null
          ? []
          : [
              `teacher logits keep the top ${m.topK} of ${m.numClasses} classes per example; the rest share the fill logit of T ${temps[i]} (the ${m.topK} probabilities are exact at T ${temps[i]})`,
            ],
      ...(m.topK === null ? {} : { atTemperature }),
    });
  const topK = m.topK;
  function atTemperature(temperature: number): Teacher {
    const i = temps.indexOf(temperature);
    if (i < 0) {
      throw new ConfigError(
        `${manifestPath}: these top-${topK} logits hold fill logits for T ${temps.join(', ')}, not for T ${temperature}; distil at one of those, or write the logits again with distill logits --top-k ${topK} --temperature ${[...temps, temperature].join(',')}`,
        { where: manifestPath },
      );
    }
    return view(i);
  }
  return view(0);
}
