import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ImageDataset, Teacher, TrainingCallbacks } from '@distilljs/core';
import { ConfigError, InvalidFileError, isFeatureDataset, isTeacher } from '@distilljs/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { Experiment, StudentSpec, TrainingSpec } from './experiment-schema.js';
import type { SoftTargetPicture } from './html-report.js';
import type { InterruptHandler } from './interrupt.js';
import type { Io } from './io.js';
import { pickLossOptions, trainingOnly } from './loss-options.js';
import type { OwnData } from './own-data.js';
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

/** Errors and accuracy of a row's models on one split, mean ± std over them. */
export interface SplitAggregate {
  /** Examples in the split. */
  readonly count: number;
  readonly errors: MeanStd;
  readonly accuracy: MeanStd;
}

/** One row of an experiment's results, aggregated over seeds. */
export interface AggregateRow {
  readonly name: string;
  readonly role: StageResult['role'];
  readonly model: string;
  readonly params: number;
  /** The models' own seeds, one per stage of the row. */
  readonly seeds: readonly number[];
  /** For distilled students: the teacher seed of each stage (same order as `seeds`). */
  readonly teacherSeeds?: readonly number[];
  /** The final models on the validation split. */
  readonly validation: SplitAggregate;
  /** The final models on the test split (each evaluated once); absent when the run read no test split. */
  readonly test?: SplitAggregate;
  readonly seconds: MeanStd;
  readonly settings: Readonly<Record<string, unknown>>;
}

/** Distilled minus baseline errors, paired by student seed (negative: distillation helped). */
export interface PairedDifference {
  readonly distilled: string;
  readonly baseline: string;
  readonly split: 'validation' | 'test';
  readonly pairs: readonly { teacherSeed?: number; seed: number; difference: number }[];
  readonly difference: MeanStd;
}

/** What {@link runExperiment} returns. */
export interface ExperimentResult {
  readonly dataset: toolkit.RunDataset;
  /** The teacher's soft targets for one test image (first seed), when the experiment has a teacher. */
  readonly softTargets?: SoftTargetPicture | undefined;
  readonly stages: readonly StageResult[];
  readonly rows: readonly AggregateRow[];
  readonly paired: readonly PairedDifference[];
}

/** Options of {@link runExperiment}. */
export interface ExperimentRunOptions {
  readonly runDir: string;
  readonly io: Io;
  readonly quiet: boolean;
  readonly interrupts: InterruptHandler;
  readonly record: RunRecord;
  readonly callbacks?: readonly TrainingCallbacks[];
  /** The dataset, already loaded (so that bad data fail before a run directory exists). */
  readonly preloaded?: Awaited<ReturnType<typeof toolkit.loadDatasetWithExtras>>;
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
    ...(pick('earlyStopping') ? { earlyStopping: pick('earlyStopping') } : {}),
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

/**
 * The stage id of one (expanded) student with `seed`: `distilled-s2`; with `studentSeeds`, a distilled
 * student is one per (teacher seed, student seed): `distilled-t1-s2`. Also the id of its unit of work.
 */
export function studentStageId(
  exp: Experiment,
  st: ExpandedStudent,
  seed: number,
  teacherSeed?: number,
): string {
  const distils = (st.spec.loss ?? 'kd') !== 'ce';
  const perTeacher = distils && exp.studentSeeds !== undefined && teacherSeed !== undefined;
  return perTeacher ? `${st.id}-t${teacherSeed}-s${seed}` : `${st.id}-s${seed}`;
}

/**
 * The stage of one (expanded) student with `seed`, distilled from `teacher` (trained with `teacherSeed`
 * in this run, when given) when its loss distils.
 */
export function studentStageSpec(
  exp: Experiment,
  st: ExpandedStudent,
  seed: number,
  teacher: tfl.LayersModel | Teacher | undefined,
  teacherSeed?: number,
): StageSpec {
  const { name: _n, model: _m, loss, temperature: _t, alpha: _a, excludeClasses, ...rest } = st.spec;
  const options = pickLossOptions(rest);
  const own = trainingOnly(rest);
  const distils = (loss ?? 'kd') !== 'ce';
  return {
    id: studentStageId(exp, st, seed, teacherSeed),
    name: st.name,
    role: distils ? 'distilled' : 'baseline',
    seed,
    // a teacher trained in this run has a seed; a loaded one is named by its path in the settings
    ...(distils && teacher && teacherSeed !== undefined && exp.teacher && 'model' in exp.teacher
      ? { teacherSeed }
      : {}),
    ...(distils && exp.teacher && 'path' in exp.teacher ? { teacherPath: exp.teacher.path } : {}),
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

function splitAggregate(group: readonly StageResult[], split: 'validation' | 'test') {
  const figures = group.map((s) => s[split]);
  if (figures.some((f) => f === undefined)) return undefined;
  return {
    count: figures[0]!.count,
    errors: meanStd(figures.map((f) => f!.errors)),
    accuracy: meanStd(figures.map((f) => f!.accuracy)),
  };
}

/** Aggregates finished stages by name over seeds, in first-seen order. */
export function aggregate(stages: readonly StageResult[]): AggregateRow[] {
  const names: string[] = [];
  for (const s of stages) if (!names.includes(s.name)) names.push(s.name);
  return names.map((name) => {
    const group = stages.filter((s) => s.name === name);
    const first = group[0]!;
    const validation = splitAggregate(group, 'validation');
    const test = splitAggregate(group, 'test');
    const teacherSeeds = group.map((s) => s.teacherSeed);
    return {
      name,
      role: first.role,
      model: first.model,
      params: first.params,
      seeds: group.map((s) => s.seed),
      ...(teacherSeeds.every((t) => t !== undefined) ? { teacherSeeds: teacherSeeds as number[] } : {}),
      validation: validation ?? { count: 0, errors: meanStd([]), accuracy: meanStd([]) },
      ...(test ? { test } : {}),
      seconds: meanStd(group.map((s) => s.seconds)),
      settings: first.settings,
    };
  });
}

/**
 * For every distilled row, its errors minus those of the baseline (loss `ce`) of the same architecture
 * with the same student seed, on each split both were scored on.
 */
export function pairedDifferences(stages: readonly StageResult[]): PairedDifference[] {
  const out: PairedDifference[] = [];
  const names = [...new Set(stages.filter((s) => s.role === 'distilled').map((s) => s.name))];
  for (const name of names) {
    const group = stages.filter((s) => s.name === name);
    const base = stages.find((s) => s.role === 'baseline' && s.model === group[0]!.model);
    if (!base) continue;
    for (const split of ['validation', 'test'] as const) {
      const pairs = group.flatMap((d) => {
        const b = stages.find((s) => s.name === base.name && s.seed === d.seed);
        const dv = d[split];
        const bv = b?.[split];
        if (!dv || !bv) return [];
        return [
          {
            ...(d.teacherSeed !== undefined ? { teacherSeed: d.teacherSeed } : {}),
            seed: d.seed,
            difference: dv.errors - bv.errors,
          },
        ];
      });
      if (pairs.length === 0) continue;
      out.push({
        distilled: name,
        baseline: base.name,
        split,
        pairs,
        difference: meanStd(pairs.map((p) => p.difference)),
      });
    }
  }
  return out;
}

/** What run.json records of the validation split: the dataset, and how the split was carved. */
export function validationSplitRecord(dataset: toolkit.RunDataset) {
  return { dataset: dataset.name, ...dataset.validationSplit };
}

/**
 * A teacher loaded from a run directory must have been trained without this run's validation split:
 * the same dataset, training cut and validation split. A model file alone cannot be checked (noted).
 */
export function checkTeacherSplit(ref: string, dataset: toolkit.RunDataset): string | undefined {
  const abs = resolve(ref);
  if (/^https?:\/\//.test(ref) || !existsSync(join(abs, 'run.json'))) {
    return `teacher ${ref} is not a run directory of distill, so it cannot be checked that it never trained on this run's validation split`;
  }
  const record = loadRunRecord(abs);
  const theirSplit = record.validationSplit as { dataset?: unknown } | undefined;
  if (theirSplit && theirSplit.dataset !== dataset.name) {
    return `teacher ${ref} was trained on another dataset (${String(theirSplit.dataset)}), so it cannot be checked that it never saw this run's validation or test examples`;
  }
  const theirs = JSON.stringify(record.validationSplit ?? null);
  const ours = JSON.stringify(validationSplitRecord(dataset));
  if (theirs !== ours) {
    throw new ConfigError(
      `teacher ${ref}: it was trained with another validation split (${theirs}) than this run's (${ours}), so it may have trained on this run's validation examples; use the same dataset, trainSize, validationSize and validationSeed as the teacher's run`,
      { where: 'teacher.path' },
    );
  }
  return undefined;
}

/** The student seeds of one teacher seed. */
export function studentSeedsOf(exp: Experiment, teacherSeed: number): readonly number[] {
  return exp.studentSeeds ?? [teacherSeed];
}

/** The experiment's dataset split three ways, with its validation and test splits as streams. */
export async function loadExperimentData(
  exp: Experiment,
  preloaded?: ExperimentRunOptions['preloaded'],
): Promise<{
  dataset: toolkit.RunDataset;
  validation: RunContext['validation'];
  test: NonNullable<RunContext['test']>;
  own?: OwnData | undefined;
}> {
  const { dataset, own } = preloaded ?? (await toolkit.loadDatasetWithExtras({ ...exp.dataset }));
  const batchSize = Math.max(exp.defaults?.batchSize ?? DEFAULT_BATCH_SIZE, 256);
  const stream = (split: 'validation' | 'test') =>
    toolkit.makeStream(dataset, { split, batchSize, seed: 0, shuffle: false });
  return { dataset, validation: stream('validation'), test: stream('test'), own };
}

/**
 * Runs an experiment: for each seed, the teacher (trained, or loaded from `teacher.path`), then every
 * student (expanded over the sweep, and over `studentSeeds` when given), each trained with per-epoch
 * metrics on the validation split and then evaluated once on the test split (unless `evaluateTest` is
 * false).
 */
export async function runExperiment(
  exp: Experiment,
  options: ExperimentRunOptions,
): Promise<ExperimentResult> {
  const { dataset, validation, test, own } = await loadExperimentData(exp, options.preloaded);
  options.record.validationSplit = validationSplitRecord(dataset);
  if (own?.badFiles.length && !options.quiet) {
    options.io.stderr.write(
      `data: skipped ${own.badFiles.length} unreadable image file(s) (--skip-bad-files)\n`,
    );
  }
  const ctx: RunContext = {
    runDir: options.runDir,
    io: options.io,
    quiet: options.quiet,
    interrupts: options.interrupts,
    record: options.record,
    dataset,
    validation,
    test: exp.evaluateTest === false ? undefined : test,
    own,
    ...(options.callbacks ? { callbacks: options.callbacks } : {}),
  };
  const students = expandStudents(exp);
  const seeds = exp.seeds ?? [1];
  let loadedTeacher: tfl.LayersModel | Teacher | undefined;
  if (exp.teacher && 'path' in exp.teacher) {
    const note = checkTeacherSplit(exp.teacher.path, dataset);
    if (note && !options.quiet) options.io.stderr.write(`teacher: ${note}\n`);
    const loaded = await loadAnyTeacher(exp.teacher.path, dataset, exp.teacher);
    loadedTeacher = loaded.model ?? loaded.teacher;
    for (const n of loaded.teacher.notes) if (!options.quiet) options.io.stderr.write(`teacher: ${n}\n`);
    for (const n of loaded.notes) if (!options.quiet) options.io.stderr.write(`teacher: ${n}\n`);
  }
  const stages: StageResult[] = [];
  let softTargets: SoftTargetPicture | undefined;
  for (const teacherSeed of seeds) {
    let teacher = loadedTeacher;
    const teacherSpec = teacherStageSpec(exp, teacherSeed);
    if (teacherSpec) {
      const { result, model } = await runStage(ctx, teacherSpec);
      stages.push(result);
      teacher = model;
    }
    if (
      teacher &&
      softTargets === undefined &&
      !isFeatureDataset(dataset) &&
      !(isTeacher(teacher) && teacher.inputLayout === 'none')
    ) {
      const hot = students.find((st) => (st.spec.loss ?? 'kd') !== 'ce')?.temperature ?? 20;
      softTargets = await softTargetPicture(
        teacher,
        dataset as toolkit.RunDataset<ImageDataset>,
        validation,
        {
          temperatures: hot > 1 ? [1, hot] : [1, 20],
        },
      );
    }
    if (teacher && !isTeacher(teacher) && options.onTeacher)
      await options.onTeacher(teacher, teacherSeed, ctx);
    for (const seed of studentSeedsOf(exp, teacherSeed)) {
      for (const st of students) {
        const stage = studentStageSpec(exp, st, seed, teacher, teacherSeed);
        if (stages.some((s) => s.id === stage.id)) continue; // a baseline shared by every teacher seed
        const { result, model } = await runStage(ctx, stage);
        stages.push(result);
        model.dispose();
      }
    }
    if (teacher && teacher !== loadedTeacher) teacher.dispose();
  }
  await loadedTeacher?.dispose();
  const rows = aggregate(stages);
  const paired = pairedDifferences(stages);
  options.record.summary = { rows, paired, testEvaluations: options.record.testEvaluations?.length ?? 0 };
  saveRunRecord(options.runDir, options.record);
  return { dataset, stages, rows, paired, softTargets };
}
