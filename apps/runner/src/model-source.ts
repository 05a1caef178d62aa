import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from './exit-code.js';
import { loadRunRecord } from './run-record.js';
import type { DatasetSpec } from './toolkit.js';

/** A saved model a command works on: its model.json, and the dataset of the run it came from, if any. */
export interface ModelSource {
  readonly modelJson: string;
  /** How to name it in messages (`RUN (distilled-student-s1)` or the path given). */
  readonly label: string;
  /** The run's dataset settings, when the reference is a run directory. */
  readonly dataset?: DatasetSpec;
}

/**
 * Resolves `ref` (a run directory, a model directory or a model.json path) to one model. In a run
 * directory `stage` picks a stage by id (`distilled-student-s1`), name or role; by default the last
 * distilled student, else the last model of the run.
 */
export function resolveModelSource(ref: string, what: string, stage?: string): ModelSource {
  const abs = resolve(ref);
  if (!existsSync(abs)) throw new UsageError(`${what} ${ref}: no such file or directory`);
  if (!statSync(abs).isDirectory()) {
    if (!abs.endsWith('.json'))
      throw new UsageError(`${what} ${ref}: expected a model.json file or a directory`);
    return { modelJson: abs, label: ref };
  }
  if (existsSync(join(abs, 'model.json'))) return { modelJson: join(abs, 'model.json'), label: ref };
  if (!existsSync(join(abs, 'run.json'))) {
    throw new UsageError(
      `${what} ${ref}: holds neither model.json nor run.json; pass a model directory or a run directory`,
    );
  }
  const record = loadRunRecord(abs);
  const saved = record.stages.filter((s) => s.modelDir && existsSync(join(abs, s.modelDir, 'model.json')));
  if (saved.length === 0) throw new UsageError(`${what} ${ref}: the run directory holds no finished model`);
  const ids = saved.map((s) => s.id ?? s.name);
  const chosen = stage
    ? saved.find((s) => s.id === stage || s.name === stage || s.role === stage)
    : ([...saved].reverse().find((s) => s.role === 'distilled') ?? saved[saved.length - 1]);
  if (!chosen) throw new UsageError(`--model ${stage}: no such model in ${ref}; it holds ${ids.join(', ')}`);
  const dataset = (record.config as { dataset?: DatasetSpec } | undefined)?.dataset;
  return {
    modelJson: join(abs, chosen.modelDir as string, 'model.json'),
    label: `${ref} (${chosen.id ?? chosen.name})`,
    ...(dataset ? { dataset } : {}),
  };
}
