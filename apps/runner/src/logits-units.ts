import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import { writeTeacherLogits } from '@distilljs/trainer/node';
import { RunFailedError } from './exit-code.js';
import { loadExperimentData } from './experiment-runner.js';
import type { JobUnitRun } from './experiment-unit.js';
import { unitDir } from './output-root.js';
import { writeFileAtomic } from './run-dir.js';
import { newRunRecord, saveRunRecord } from './run-record.js';
import { loadAnyTeacher } from './teacher-loader.js';
import * as toolkit from './toolkit.js';

/**
 * The temperatures the experiment's students distil at (the sweep's, or each student's, default 20): top-k
 * logits files keep the k probabilities exact at each of them.
 */
function studentTemperatures(exp: JobUnitRun['exp']): number[] {
  const temps = exp.students
    .filter((s) => (s.loss ?? 'kd') !== 'ce')
    .flatMap((s) => exp.sweep?.temperature ?? [s.temperature ?? 20]);
  return temps.length ? [...new Set(temps)] : [1];
}

/** Where the students of a teacher (`teacher-s1`, or `teacher` for a path) read its logits. */
export function logitsDir(root: string, teacher: string): string {
  return join(root, 'logits', teacher, 'all');
}

function shardDir(root: string, teacher: string, index: number, count: number): string {
  return join(root, 'logits', teacher, `shard-${index}-of-${count}`);
}

/**
 * Runs a teacher-logits shard unit: what `distill logits --shard i/n` does (writeTeacherLogits), for the unit's
 * teacher on the experiment's training split,
 * into a directory of its own (shards run at once, each writes its own manifest), with a run record in
 * `<root>/jobs/<id>` that says whether it finished.
 */
export async function runLogitsUnit(run: JobUnitRun, config: unknown): Promise<void> {
  const { exp, unit } = run;
  const shard = unit.shard!;
  const dir = unitDir(run.root, unit.id);
  mkdirSync(dir, { recursive: true });
  const record = newRunRecord('run-job', config, process.argv.slice(2));
  saveRunRecord(dir, record);
  const teacher = exp.teacher && 'path' in exp.teacher ? exp.teacher.path : unitDir(run.root, shard.teacher);
  try {
    await toolkit.setupBackend(run.backend);
    const { dataset } = await loadExperimentData(exp);
    const loaded = await loadAnyTeacher(
      teacher,
      dataset,
      exp.teacher && 'path' in exp.teacher ? exp.teacher : {},
    );
    try {
      await writeTeacherLogits({
        teacher: loaded.teacher,
        data: toolkit.makeStream(dataset, { split: 'train', batchSize: 256, seed: 0, shuffle: false }),
        dir: shardDir(run.root, shard.teacher, shard.index, shard.count),
        shard: { index: shard.index, count: shard.count },
        dtype: exp.teacherLogits?.dtype ?? 'float32',
        ...(exp.teacherLogits?.topK
          ? { topK: exp.teacherLogits.topK, topKTemperatures: studentTemperatures(exp) }
          : {}),
      });
    } finally {
      await loaded.teacher.dispose();
    }
    record.summary = { logits: shardDir(run.root, shard.teacher, shard.index, shard.count), shard };
    record.status = 'complete';
  } catch (error) {
    record.status = 'failed';
    record.error = (error as Error).message;
    throw error;
  } finally {
    saveRunRecord(dir, record);
  }
}

type Manifest = {
  shards: { start: number; logits: { file: string }; indices?: { file: string } }[];
} & Record<string, unknown>;

function readShardManifest(dir: string): Manifest {
  const file = join(dir, 'manifest.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  } catch (error) {
    throw new InvalidFileError(`${file}: cannot read the shard's manifest (${(error as Error).message})`, {
      where: file,
    });
  }
}

/**
 * Gathers the shard directories of a teacher into one teacher-logits directory (their files and one manifest
 * listing every shard), once: built aside and renamed into place, so students starting together agree.
 */
export function assembleLogits(root: string, teacher: string, count: number): string {
  const target = logitsDir(root, teacher);
  if (existsSync(join(target, 'manifest.json'))) return target;
  const parts = Array.from({ length: count }, (_, i) => shardDir(root, teacher, i, count));
  const manifests = parts.map(readShardManifest);
  const { shards: _s, ...head } = manifests[0]!;
  const tmp = mkdtempSync(join(root, 'logits', teacher, '.all-'));
  manifests.forEach((m, i) => {
    const { shards, ...rest } = m;
    if (JSON.stringify(rest) !== JSON.stringify(head)) {
      throw new RunFailedError(
        `${parts[i]}: its manifest disagrees with ${parts[0]} (another teacher or dataset)`,
      );
    }
    for (const s of shards) {
      for (const f of [s.logits.file, s.indices?.file]) if (f) copyFileSync(join(parts[i]!, f), join(tmp, f));
    }
  });
  const shards = manifests.flatMap((m) => m.shards).sort((a, b) => a.start - b.start);
  writeFileAtomic(join(tmp, 'manifest.json'), `${JSON.stringify({ ...head, shards }, null, 2)}\n`);
  try {
    renameSync(tmp, target);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(join(target, 'manifest.json'))) throw error;
  }
  return target;
}
