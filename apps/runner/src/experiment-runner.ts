import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImageDataset, Teacher, TrainingCallbacks } from '@distilljs/core';
import { InvalidFileError, isTeacher } from '@distilljs/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Experiment, StudentSpec, TrainingSpec } from './experiment-schema.js';
import type { SoftTargetPicture } from './html-report.js';
import type { InterruptHandler } from './interrupt.js';
import type { Io } from './io.js';
import { pickLossOptions, trainingOnly } from './loss-options.js';
import { loadRunRecord, type RunRecord, type StageResult, saveRunRecord } from './run-record.js';
import { softTargetPicture } from './soft-target-picture.js';
import { type RunContext, runStage, type StageSpec } from './stage.js';
import { type MeanStd, meanStd } from './stats.js';
import { loadAnyTeacher } from './teacher-loader.js';
import * as toolkit from './toolkit.js';

/** Default number of epochs when neither the stage nor `defaults` says. */
export const DEFAULT_EPOCHS = 10;
/** Default batch size. */
export const DEFAULT_BATCH_SIZE = 128;

/** One row of an experiment's results, aggregated over seeds. */
export interface AggregateRow {
  readonly name: string;
  readonly role: StageResult['role'];
  readonly model: string;
  readonly params: number;
  readonly seeds: readonly number[];
  readonly errors: MeanStd;
  readonly accuracy: MeanStd;
  readonly seconds: MeanStd;
  readonly testCount: number;
  readonly settings: Readonly<Record<string, unknown>>;
}

/** What {@link runExperiment} returns. */
export interface ExperimentResult {
  readonly dataset: ImageDataset;
  /** The teacher's soft targets for one test image (first seed), when the experiment has a teacher. */
  readonly softTargets?: SoftTargetPicture | undefined;
  readonly stages: readonly StageResult[];
  readonly rows: readonly AggregateRow[];
}

/** Options of {@link runExperiment}. */
export interface ExperimentRunOptions {
  readonly runDir: string;
  readonly io: Io;
  readonly quiet: boolean;
  readonly interrupts: InterruptHandler;
  readonly record: RunRecord;
  readonly callbacks?: readonly TrainingCallbacks[];
  /** Called once per seed with the trained (or loaded) teacher, e.g. to draw its soft targets. */
  readonly onTeacher?: (teacher: tfl.LayersModel, seed: number, ctx: RunContext) => Promise<void>;
}

/** A student after the sweep is expanded: one concrete temperature and alpha. */
export interface ExpandedStudent {
  readonly spec: StudentSpec;
  readonly name: string;
  readonly id: string;
  readonly temperature: number;
  readonly alpha: number;
}

function slug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60);
}

/** Expands the students over the sweep (distilling students only; a `ce` baseline is run once). */
export function expandStudents(exp: Experiment): ExpandedStudent[] {
  const out: ExpandedStudent[] = [];
  for (const spec of exp.students) {
    const distils = (spec.loss ?? 'kd') !== 'ce';
    const temps = distils ? (exp.sweep?.temperature ?? [spec.temperature ?? 20]) : [1];
    const alphas = distils ? (exp.sweep?.alpha ?? [spec.alpha ?? 0.9]) : [0];
    for (const t of temps) {
      for (const a of alphas) {
        const swept =
          distils && ((exp.sweep?.temperature?.length ?? 0) > 1 || (exp.sweep?.alpha?.length ?? 0) > 1);
        const parts = [exp.sweep?.temperature ? `T=${t}` : '', exp.sweep?.alpha ? `alpha=${a}` : ''].filter(
          Boolean,
        );
        const name = swept && parts.length ? `${spec.name} (${parts.join(', ')})` : spec.name;
        out.push({ spec, name, id: slug(name), temperature: t, alpha: a });
      }
    }
  }
  return out;
}

function merged(
  defaults: TrainingSpec | undefined,
  own: TrainingSpec,
): TrainingSpec & { epochs: number; batchSize: number } {
  const pick = <K extends keyof TrainingSpec>(k: K) => own[k] ?? defaults?.[k];
  return {
    epochs: pick('epochs') ?? DEFAULT_EPOCHS,
    batchSize: pick('batchSize') ?? DEFAULT_BATCH_SIZE,
    ...(pick('optimizer') ? { optimizer: pick('optimizer') } : {}),
    ...(pick('lr') ? { lr: pick('lr') } : {}),
    ...(pick('momentum') !== undefined ? { momentum: pick('momentum') } : {}),
    ...(pick('weightDecay') !== undefined ? { weightDecay: pick('weightDecay') } : {}),
    ...(pick('schedule') ? { schedule: pick('schedule') } : {}),
    ...(pick('warmupEpochs') !== undefined ? { warmupEpochs: pick('warmupEpochs') } : {}),
    ...(pick('clipNorm') ? { clipNorm: pick('clipNorm') } : {}),
    ...(pick('augment') ? { augment: pick('augment') } : {}),
  };
}

/** The stage of the teacher trained with `seed`, or undefined when the experiment trains no teacher. */
export function teacherStageSpec(exp: Experiment, seed: number): StageSpec | undefined {
  if (!(exp.teacher && 'model' in exp.teacher)) return undefined;
  const { model: _m, name, ...own } = exp.teacher;
  return {
    id: `teacher-s${seed}`,
    name: name ?? 'teacher',
    role: 'teacher',
    seed,
    model: exp.teacher.model,
    training: merged(exp.defaults, own),
  };
}

/** The stage of one (expanded) student with `seed`, distilled from `teacher` when its loss distils. */
export function studentStageSpec(
  exp: Experiment,
  st: ExpandedStudent,
  seed: number,
  teacher: tfl.LayersModel | Teacher | undefined,
): StageSpec {
  const { name: _n, model: _m, loss, temperature: _t, alpha: _a, excludeClasses, ...rest } = st.spec;
  const options = pickLossOptions(rest);
  const own = trainingOnly(rest);
  const distils = (loss ?? 'kd') !== 'ce';
  return {
    id: `${st.id}-s${seed}`,
    name: st.name,
    role: distils ? 'distilled' : 'baseline',
    seed,
    model: st.spec.model,
    training: merged(exp.defaults, own),
    excludeClasses,
    ...(distils && teacher
      ? {
          distill: {
            teacher,
            loss: (loss ?? 'kd') as Exclude<typeof loss, 'ce' | undefined>,
            temperature: st.temperature,
            alpha: st.alpha,
            ...(Object.keys(options).length ? { options } : {}),
          },
        }
      : {}),
  };
}

/** Checks the names in an experiment before anything is loaded or trained (exit 2 on a mistake). */
export function checkExperimentNames(exp: Experiment, file: string): void {
  if (exp.teacher && 'model' in exp.teacher)
    toolkit.checkModelName(exp.teacher.model, `${file}: teacher.model`);
  exp.students.forEach((s, i) => {
    toolkit.checkModelName(s.model, `${file}: students[${i}].model`);
  });
}

/**
 * Resolves a teacher reference that is a path: a run directory of ours (its teacher stage, or its only
 * model), a directory with model.json, a model.json file, or an http(s) URL.
 */
export function resolveTeacherLocation(ref: string): string {
  if (/^https?:\/\//.test(ref)) return ref;
  const abs = resolve(ref);
  if (!existsSync(abs))
    throw new InvalidFileError(`teacher ${ref}: no such file or directory`, { where: ref });
  if (statSync(abs).isDirectory()) {
    if (existsSync(join(abs, 'model.json'))) return abs;
    if (existsSync(join(abs, 'run.json'))) {
      const record = loadRunRecord(abs);
      const stage =
        record.stages.find((s) => s.role === 'teacher') ??
        (record.stages.length === 1 ? record.stages[0] : undefined);
      if (!stage?.modelDir) {
        throw new InvalidFileError(`teacher ${ref}: the run directory holds no finished teacher model`, {
          where: ref,
        });
      }
      return join(abs, stage.modelDir);
    }
    throw new InvalidFileError(`teacher ${ref}: the directory holds neither model.json nor run.json`, {
      where: ref,
    });
  }
  return abs;
}

/** Aggregates finished stages by name over seeds, in first-seen order. */
export function aggregate(stages: readonly StageResult[]): AggregateRow[] {
  const names: string[] = [];
  for (const s of stages) if (!names.includes(s.name)) names.push(s.name);
  return names.map((name) => {
    const group = stages.filter((s) => s.name === name);
    const first = group[0]!;
    return {
      name,
      role: first.role,
      model: first.model,
      params: first.params,
      seeds: group.map((s) => s.seed),
      errors: meanStd(group.map((s) => s.test.errors)),
      accuracy: meanStd(group.map((s) => s.test.accuracy)),
      seconds: meanStd(group.map((s) => s.seconds)),
      testCount: first.test.count,
      settings: first.settings,
    };
  });
}

/** The experiment's dataset and its evaluation split as a stream (what every stage is evaluated on). */
export async function loadExperimentData(
  exp: Experiment,
): Promise<{ dataset: ImageDataset; test: RunContext['test'] }> {
  const dataset = await toolkit.loadDataset({ ...exp.dataset });
  const batchSize = exp.defaults?.batchSize ?? DEFAULT_BATCH_SIZE;
  const test = toolkit.makeStream(dataset, {
    split: 'test',
    batchSize: Math.max(batchSize, 256),
    seed: 0,
    shuffle: false,
  });
  return { dataset, test };
}

/**
 * Runs an experiment: for each seed, the teacher (trained, or loaded from `teacher.path`), then every
 * student (expanded over the sweep), each trained by the trainer and evaluated on the test split.
 */
export async function runExperiment(
  exp: Experiment,
  options: ExperimentRunOptions,
): Promise<ExperimentResult> {
  const { dataset, test } = await loadExperimentData(exp);
  const ctx: RunContext = {
    runDir: options.runDir,
    io: options.io,
    quiet: options.quiet,
    interrupts: options.interrupts,
    record: options.record,
    dataset,
    test,
    ...(options.callbacks ? { callbacks: options.callbacks } : {}),
  };
  const students = expandStudents(exp);
  const seeds = exp.seeds ?? [1];
  let loadedTeacher: tfl.LayersModel | Teacher | undefined;
  if (exp.teacher && 'path' in exp.teacher) {
    const loaded = await loadAnyTeacher(exp.teacher.path, dataset, exp.teacher);
    loadedTeacher = loaded.model ?? loaded.teacher;
    for (const note of loaded.teacher.notes)
      if (!options.quiet) options.io.stderr.write(`teacher: ${note}\n`);
    for (const note of loaded.notes) if (!options.quiet) options.io.stderr.write(`teacher: ${note}\n`);
  }
  const stages: StageResult[] = [];
  let softTargets: SoftTargetPicture | undefined;
  for (const seed of seeds) {
    let teacher = loadedTeacher;
    const teacherSpec = teacherStageSpec(exp, seed);
    if (teacherSpec) {
      const { result, model } = await runStage(ctx, teacherSpec);
      stages.push(result);
      teacher = model;
    }
    if (teacher && softTargets === undefined && !(isTeacher(teacher) && teacher.inputLayout === 'none')) {
      const hot = students.find((st) => (st.spec.loss ?? 'kd') !== 'ce')?.temperature ?? 20;
      softTargets = await softTargetPicture(teacher, dataset, test, hot > 1 ? [1, hot] : [1, 20]);
    }
    if (teacher && !isTeacher(teacher) && options.onTeacher) await options.onTeacher(teacher, seed, ctx);
    for (const st of students) {
      const { result, model } = await runStage(ctx, studentStageSpec(exp, st, seed, teacher));
      stages.push(result);
      model.dispose();
    }
    if (teacher && teacher !== loadedTeacher) teacher.dispose();
  }
  await loadedTeacher?.dispose();
  const rows = aggregate(stages);
  options.record.summary = { rows };
  saveRunRecord(options.runDir, options.record);
  return { dataset, stages, rows, softTargets };
}
