import { setTimeout as sleep } from 'node:timers/promises';
import type { BackendRequest, Teacher } from '@distilljs/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InterruptedError, RunFailedError, UsageError } from './exit-code.js';
import {
  loadExperimentData,
  resolveTeacherLocation,
  studentStageSpec,
  teacherStageSpec,
  validationSplitRecord,
} from './experiment-runner.js';
import type { Experiment } from './experiment-schema.js';
import { type Io, println } from './io.js';
import type { JobUnit } from './job-units.js';
import { assembleLogits, runLogitsUnit } from './logits-units.js';
import { claimRoot, readUnitState, type UnitConfig, unitDir } from './output-root.js';
import type { StageResult } from './run-record.js';
import { type Session, withSession } from './session.js';
import { runStage } from './stage.js';
import { loadAnyTeacher } from './teacher-loader.js';
import * as toolkit from './toolkit.js';

/** What {@link runJobUnit} needs. */
export interface JobUnitRun {
  readonly file: string;
  readonly exp: Experiment;
  readonly unit: JobUnit;
  readonly units: readonly JobUnit[];
  readonly root: string;
  readonly io: Io;
  readonly quiet: boolean;
  readonly backend: BackendRequest;
  /** How long to wait for the unit this one needs (seconds). */
  readonly waitSeconds: number;
  /** Seconds between looks at the needed unit's record. */
  readonly pollSeconds?: number;
}

/** What became of a unit: trained now (fresh or resumed), or found finished earlier. */
export interface JobUnitOutcome {
  readonly unit: string;
  readonly runDir: string;
  readonly status: 'complete' | 'done-earlier';
  /** The trained model's figures (teacher and student units). */
  readonly stage?: StageResult | undefined;
}

/** Waits until the unit `id` is complete; fails at once when it failed, or after `seconds`. */
export async function waitForUnit(run: JobUnitRun, id: string): Promise<void> {
  const start = Date.now();
  let told = false;
  for (;;) {
    const state = readUnitState(run.root, id);
    if (state.status === 'complete') return;
    if (state.status === 'failed') {
      throw new RunFailedError(
        `unit ${run.unit.id} needs unit ${id}, which failed (${state.record.error ?? 'no message'}); run it again with --job ${id}`,
      );
    }
    if ((Date.now() - start) / 1000 >= run.waitSeconds) {
      throw new RunFailedError(
        `unit ${run.unit.id} waited ${run.waitSeconds}s for unit ${id} (${state.status}) in ${unitDir(run.root, id)}; run it with --job ${id}`,
      );
    }
    if (!told && !run.quiet) {
      run.io.stderr.write(`waiting for unit ${id} (${state.status}) in ${unitDir(run.root, id)}\n`);
      told = true;
    }
    await sleep((run.pollSeconds ?? 2) * 1000);
  }
}

async function loadUnitTeacher(
  run: JobUnitRun,
  dataset: Parameters<typeof toolkit.loadTeacherFrom>[1],
): Promise<tfl.LayersModel | Teacher | undefined> {
  const { unit, exp } = run;
  if (unit.kind !== 'student' || (unit.student?.spec.loss ?? 'kd') === 'ce') return undefined;
  const shard = run.units.find((u) => u.id === unit.needs[0])?.shard;
  if (shard)
    return (await loadAnyTeacher(assembleLogits(run.root, shard.teacher, shard.count), dataset)).teacher;
  if (unit.needs[0]) return toolkit.loadModelFrom(resolveTeacherLocation(unitDir(run.root, unit.needs[0])));
  if (exp.teacher && 'path' in exp.teacher) {
    const loaded = await loadAnyTeacher(exp.teacher.path, dataset, exp.teacher);
    for (const note of loaded.notes) if (!run.quiet) run.io.stderr.write(`teacher: ${note}\n`);
    return loaded.model ?? loaded.teacher;
  }
  return undefined;
}

async function trainUnit(run: JobUnitRun, session: Session): Promise<StageResult> {
  const { exp, unit } = run;
  const { dataset, validation, test, own } = await loadExperimentData(exp);
  session.record.validationSplit = validationSplitRecord(dataset);
  const ctx = {
    runDir: session.runDir,
    io: run.io,
    quiet: session.quiet,
    interrupts: session.interrupts,
    record: session.record,
    dataset,
    validation,
    test: exp.evaluateTest === false ? undefined : test,
    own,
  };
  let teacher: tfl.LayersModel | Teacher | undefined;
  try {
    teacher = await loadUnitTeacher(run, dataset);
    const spec =
      unit.kind === 'teacher'
        ? teacherStageSpec(exp, unit.seed)!
        : studentStageSpec(exp, unit.student!, unit.seed, teacher, unit.teacherSeed ?? unit.seed);
    const { result, model } = await runStage(ctx, spec);
    model.dispose();
    return result;
  } finally {
    await teacher?.dispose();
  }
}

/**
 * Runs one unit of an experiment into its own run directory `<root>/jobs/<id>`: nothing when it finished
 * earlier, a resume from its newest checkpoint when it was stopped or killed, a fresh run otherwise. A unit
 * that needs a teacher waits until the teacher's unit is complete.
 */
export async function runJobUnit(run: JobUnitRun): Promise<JobUnitOutcome> {
  const root = claimRoot(run.root, run.file, run.exp, run.units);
  const dir = unitDir(run.root, run.unit.id);
  const state = readUnitState(run.root, run.unit.id);
  if (state.status !== 'missing' && (state.record.config as UnitConfig).experimentId !== root.experimentId) {
    throw new UsageError(
      `${dir} holds unit ${run.unit.id} of another experiment; give each experiment its own --out`,
    );
  }
  if (state.status === 'complete') {
    const stage = state.record.stages.find((s) => s.id === run.unit.id);
    if (stage || run.unit.kind === 'logits')
      return { unit: run.unit.id, runDir: dir, status: 'done-earlier', stage };
  }
  for (const id of run.unit.needs) await waitForUnit(run, id);
  const config: UnitConfig = { experiment: run.exp, experimentId: root.experimentId, unit: run.unit.id };
  if (run.unit.kind === 'logits') {
    await runLogitsUnit(run, config);
    return { unit: run.unit.id, runDir: dir, status: 'complete' };
  }
  const resume = state.status !== 'missing' ? dir : undefined;
  const stage = await withSession(
    {
      kind: 'run-job',
      io: run.io,
      backend: run.backend,
      out: resume ? undefined : dir,
      resume,
      quiet: run.quiet,
      config,
    },
    (session) =>
      trainUnit(run, session).catch((error: unknown) => {
        if (!(error instanceof InterruptedError)) throw error;
        throw new InterruptedError(
          `${error.message.replace(/ Continue with: --resume .*$/, '')} Run the unit again to continue it: --job ${run.unit.id}`,
          dir,
        );
      }),
  );
  return { unit: run.unit.id, runDir: dir, status: 'complete', stage };
}

/** One line about a unit's outcome, for the terminal. */
export function printUnitOutcome(io: Io, outcome: JobUnitOutcome, json: boolean): void {
  const { stage } = outcome;
  if (json) {
    println(io.stdout, JSON.stringify(outcome));
    return;
  }
  const what = outcome.status === 'done-earlier' ? 'already complete, nothing to do' : 'complete';
  const figures = !stage
    ? ''
    : stage.test
      ? `; test errors ${stage.test.errors} / ${stage.test.count} (${(stage.test.accuracy * 100).toFixed(2)}%)`
      : `; validation errors ${stage.validation?.errors} / ${stage.validation?.count} (test split not read)`;
  println(io.stdout, `unit ${outcome.unit}: ${what}${figures}`);
  println(io.stdout, `run directory: ${outcome.runDir}`);
}
