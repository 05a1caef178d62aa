import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import { RunFailedError, UsageError } from './exit-code.js';
import type { Experiment } from './experiment-schema.js';
import type { JobUnit } from './job-units.js';
import { writeFileAtomic } from './run-dir.js';
import { loadRunRecord, type RunRecord } from './run-record.js';

/** File in an output root that names the experiment whose units it holds. */
export const ROOT_RECORD_FILE = 'experiment.json';

/** The folder of an output root that holds one run directory per unit. */
export const JOBS_DIR = 'jobs';

/** What `experiment.json` holds. */
export interface RootRecord {
  readonly format: 'distilljs-experiment-root';
  readonly version: 1;
  /** Hash of the experiment's settings: units of different experiments never mix. */
  readonly experimentId: string;
  readonly file: string;
  readonly experiment: Experiment;
  readonly units: readonly string[];
}

/** What a unit's run record keeps in `config`. */
export interface UnitConfig {
  readonly experiment: Experiment;
  readonly experimentId: string;
  readonly unit: string;
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = stable((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** A short hash of an experiment's settings (key order does not matter). */
export function experimentId(exp: Experiment): string {
  return createHash('sha256')
    .update(JSON.stringify(stable(exp)))
    .digest('hex')
    .slice(0, 16);
}

/** The output root of an experiment: `--out`, or `runs/<file name without extension>`. */
export function outputRoot(file: string, out: string | undefined): string {
  if (out !== undefined) return resolve(out);
  return resolve('runs', basename(file).replace(/\.(ya?ml|json)$/i, ''));
}

/** The run directory of one unit under an output root. */
export function unitDir(root: string, id: string): string {
  return join(root, JOBS_DIR, id);
}

/** Reads `experiment.json` of an output root (exit 2 when it is missing or not ours). */
export function readRootRecord(root: string, shown = root): RootRecord {
  const file = join(root, ROOT_RECORD_FILE);
  if (!existsSync(file)) {
    throw new UsageError(
      `${shown}: not an experiment output root (no ${ROOT_RECORD_FILE}); give the --out of \`distill run FILE --job ...\``,
      { where: shown },
    );
  }
  let data: Partial<RootRecord>;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidFileError(`${file}: not valid JSON: ${(error as Error).message}`, { where: file });
  }
  if (data?.format !== 'distilljs-experiment-root' || typeof data.experimentId !== 'string') {
    throw new InvalidFileError(`${file}: not a distilljs experiment root record`, { where: file });
  }
  return data as RootRecord;
}

/**
 * Makes sure `root` is this experiment's output root: creates it with its `experiment.json`, or checks that
 * the one there names the same experiment (exit 2 when another experiment's units live there).
 */
export function claimRoot(
  root: string,
  file: string,
  exp: Experiment,
  units: readonly JobUnit[],
): RootRecord {
  const id = experimentId(exp);
  if (existsSync(join(root, ROOT_RECORD_FILE))) {
    const there = readRootRecord(root);
    if (there.experimentId !== id) {
      throw new UsageError(
        `--out ${root} holds the units of another experiment (${there.file}, id ${there.experimentId}; ${file} is ${id}); give each experiment its own --out`,
        { where: root },
      );
    }
    return there;
  }
  try {
    mkdirSync(join(root, JOBS_DIR), { recursive: true });
  } catch (error) {
    throw new RunFailedError(`cannot create output root ${root}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const record: RootRecord = {
    format: 'distilljs-experiment-root',
    version: 1,
    experimentId: id,
    file: resolve(file),
    experiment: exp,
    units: units.map((u) => u.id),
  };
  writeFileAtomic(join(root, ROOT_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
  return record;
}

/** The state of one unit: no directory yet, or its run record. */
export type UnitState =
  | { readonly status: 'missing' }
  | { readonly status: RunRecord['status']; readonly record: RunRecord };

/**
 * Reads a unit's run record. A record that is not valid JSON or not ours is an error naming the file and
 * what to do (exit 2); a directory without a record is `missing`.
 */
export function readUnitState(root: string, id: string): UnitState {
  const dir = unitDir(root, id);
  if (!existsSync(join(dir, 'run.json'))) return { status: 'missing' };
  let record: RunRecord;
  try {
    record = loadRunRecord(dir);
  } catch (error) {
    throw new InvalidFileError(
      `${(error as Error).message}; the record of unit ${id} is damaged: delete ${dir} and run the unit again (--job ${id})`,
      { where: join(dir, 'run.json'), cause: error },
    );
  }
  const config = record.config as Partial<UnitConfig> | undefined;
  if (record.kind !== 'run-job' || typeof config?.experimentId !== 'string' || config.unit !== id) {
    throw new InvalidFileError(
      `${join(dir, 'run.json')}: not the record of unit ${id} (kind ${JSON.stringify(record.kind)}); delete ${dir} and run the unit again (--job ${id})`,
      { where: join(dir, 'run.json') },
    );
  }
  return { status: record.status, record };
}
