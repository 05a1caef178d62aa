import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendSelection } from '@distilljs/core';
import { InvalidFileError } from '@distilljs/core';
import { writeFileAtomic } from './run-dir.js';
import { processAlive, type RunProcess } from './run-lock.js';
import { RUNNER_VERSION } from './version.js';

/** Figures of one trained model on one split (validation or test). */
export interface TestFigures {
  readonly count: number;
  readonly errors: number;
  readonly accuracy: number;
  readonly nll: number;
  readonly ece: number;
  readonly perClassAccuracy?: readonly (number | null)[];
}

/** One trained (or loaded) model of a run. */
export interface StageResult {
  /** Directory-safe id, unique in the run: `teacher-s1`, `distilled-t20-s2`. */
  readonly id: string;
  /** Row name in tables: `teacher`, `baseline`, `distilled (T=20)`. */
  readonly name: string;
  readonly role: 'teacher' | 'baseline' | 'distilled';
  readonly seed: number;
  readonly model: string;
  readonly params: number;
  readonly epochs: number;
  readonly steps: number;
  /** Training wall time in seconds (over every session of a resumed run). */
  readonly seconds: number;
  readonly settings: Readonly<Record<string, unknown>>;
  /** The teacher's seed, for a distilled student (its own seed is `seed`). */
  readonly teacherSeed?: number;
  /** The final model on the validation split (carved from the training split; what choices use). */
  readonly validation?: TestFigures;
  /** The best epoch on the validation split (by validation loss); the model kept is the final one. */
  readonly bestOnValidation?: { readonly epoch: number; readonly monitor: string; readonly value: number };
  /** The final model on the test split, evaluated once at the end; absent when the run reads no test split. */
  readonly test?: TestFigures;
  /** Per-epoch logs (loss, softLoss, hardLoss, acc; val_* are on the validation split, never on test). */
  readonly history: readonly { epoch: number; logs: Record<string, number> }[];
  readonly notes: readonly string[];
  /** Where the trained model was saved, relative to the run directory. */
  readonly modelDir?: string;
}

/** One look at the test split (run.json counts them). */
export interface TestEvaluation {
  /** Stage id (`teacher-s1`), or what was scored (`bias search`). */
  readonly stage: string;
  /** Which weights: the final model, or the best-on-validation checkpoint. */
  readonly model: 'final' | 'best-on-validation';
  /** What this look was for, when more than scoring the model. */
  readonly purpose?: string;
  readonly at: string;
}

/** Records a look at the test split in the run record. */
export function recordTestLook(record: RunRecord, look: Omit<TestEvaluation, 'at'>): void {
  record.testEvaluations = [...(record.testEvaluations ?? []), { ...look, at: new Date().toISOString() }];
}

/** The JSON record of a run: what was asked, where it ran, what each stage gave. */
export interface RunRecord {
  readonly format: 'distilljs-run';
  readonly version: 1;
  readonly runner: string;
  readonly command: readonly string[];
  readonly kind: string;
  status: 'running' | 'interrupted' | 'complete' | 'failed' | 'diverged';
  readonly createdAt: string;
  updatedAt: string;
  /** The process writing the run (while `running`); a run whose process is gone reads as `interrupted`. */
  process?: RunProcess;
  /** Written every few seconds while the run is in progress. */
  heartbeatAt?: string;
  /** sha256 of `config` as the run started (a copy is in run-config.json); an edit is refused on resume. */
  configSha256?: string;
  /** Notes about the run's data and settings (e.g. a batch larger than the training set). */
  notes?: string[];
  /** Flags that contradicted the resumed run and were accepted with `--override`. */
  overrides?: RunOverride[];
  backend?: BackendSelection;
  readonly node: string;
  readonly platform: string;
  /** The resolved configuration (experiment), enough to resume. */
  config: unknown;
  stages: StageResult[];
  /** How the validation split was carved from the training split. */
  validationSplit?: unknown;
  /** Every evaluation on the test split, in order: which model, and when. */
  testEvaluations?: TestEvaluation[];
  /** Command-specific results (tables, sweeps, bias search). */
  summary?: unknown;
  error?: string;
}

/** A flag value that replaced the run's recorded one, accepted with `--override`. */
export interface RunOverride {
  readonly at: string;
  readonly flag: string;
  readonly from: unknown;
  readonly to: unknown;
}

/**
 * The status a run really has: a record that says `running` but whose process is gone (kill -9, a
 * double Ctrl-C, a power loss) is `interrupted`.
 */
export function effectiveStatus(record: RunRecord): RunRecord['status'] {
  if (record.status !== 'running' || !record.process) return record.status;
  return processAlive(record.process, record.heartbeatAt) ? 'running' : 'interrupted';
}

/** File name of the run record inside a run directory. */
export const RUN_RECORD_FILE = 'run.json';

/** A new record for a run that is about to start. */
export function newRunRecord(kind: string, config: unknown, command: readonly string[]): RunRecord {
  const now = new Date().toISOString();
  return {
    format: 'distilljs-run',
    version: 1,
    runner: RUNNER_VERSION,
    command: [...command],
    kind,
    status: 'running',
    createdAt: now,
    updatedAt: now,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    config,
    stages: [],
  };
}

/** Writes `run.json` atomically. */
export function saveRunRecord(runDir: string, record: RunRecord): void {
  record.updatedAt = new Date().toISOString();
  writeFileAtomic(join(runDir, RUN_RECORD_FILE), `${JSON.stringify(record, null, 2)}\n`);
}

/** Reads `run.json` of a run directory (for `--resume`, `eval` and a run-directory teacher). */
export function loadRunRecord(runDir: string): RunRecord {
  const file = join(runDir, RUN_RECORD_FILE);
  if (!existsSync(file))
    throw new InvalidFileError(`${file}: no run record (not a distill run directory)`, { where: file });
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InvalidFileError(`${file}: not valid JSON: ${(error as Error).message}`, {
      where: file,
      cause: error,
    });
  }
  const r = data as Partial<RunRecord>;
  if (r?.format !== 'distilljs-run' || r.version !== 1 || !Array.isArray(r.stages)) {
    throw new InvalidFileError(`${file}: not a distilljs run record of version 1`, { where: file });
  }
  return r as RunRecord;
}
