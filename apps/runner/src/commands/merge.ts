import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidFileError } from '@distilljs/core';
import { UsageError } from '../exit-code.js';
import { reportExperiment } from '../experiment-report.js';
import { aggregate, pairedDifferences } from '../experiment-runner.js';
import { validateExperiment } from '../experiment-schema.js';
import type { Io } from '../io.js';
import { type JobUnit, listJobUnits, oneProcessOrder } from '../job-units.js';
import {
  experimentId,
  JOBS_DIR,
  type RootRecord,
  readRootRecord,
  readUnitState,
  type UnitConfig,
  type UnitState,
} from '../output-root.js';
import { freezeConfig } from '../resume-check.js';
import { splitsLine } from '../run-outputs.js';
import { newRunRecord, type RunRecord, type StageResult, saveRunRecord } from '../run-record.js';

/** Every unit directory under the root must belong to the root's experiment and be one of its units. */
function checkUnitDirs(root: string, shown: string, rootRecord: RootRecord, units: readonly JobUnit[]): void {
  const jobs = join(root, JOBS_DIR);
  if (!existsSync(jobs)) return;
  for (const name of readdirSync(jobs).sort()) {
    if (!existsSync(join(jobs, name, 'run.json'))) continue;
    const state = readUnitState(root, name);
    const config = (state as { record: { config: UnitConfig } }).record.config;
    if (config.experimentId !== rootRecord.experimentId || !units.some((u) => u.id === name)) {
      throw new UsageError(
        `merge ${shown}: ${join(jobs, name)} is a unit of another experiment (id ${config.experimentId}, not ${rootRecord.experimentId} of ${rootRecord.file}); merge one experiment's output root at a time`,
        { where: join(jobs, name) },
      );
    }
  }
}

function describeState(id: string, state: UnitState): string {
  if (state.status === 'missing') return `${id} (missing)`;
  if (state.status === 'failed') return `${id} (failed: ${state.record.error ?? 'no message'})`;
  if (state.status === 'running') return `${id} (running, or killed)`;
  return `${id} (${state.status})`;
}

async function collectStates(
  root: string,
  units: readonly JobUnit[],
  waitSeconds: number,
): Promise<Map<string, UnitState>> {
  const start = Date.now();
  for (;;) {
    const states = new Map(units.map((u) => [u.id, readUnitState(root, u.id)] as const));
    const open = [...states.values()].filter((s) => s.status !== 'complete');
    const anyFailed = open.some((s) => s.status === 'failed');
    if (open.length === 0 || anyFailed || (Date.now() - start) / 1000 >= waitSeconds) return states;
    await sleep(2000);
  }
}

/** A complete unit's record and its stage (a complete record without its stage is damaged). */
function unitStage(root: string, unit: JobUnit, state: UnitState): { record: RunRecord; stage: StageResult } {
  const record = (state as { record: RunRecord }).record;
  const stage = record.stages.find((s) => s.id === unit.id);
  if (!stage) {
    const file = join(root, JOBS_DIR, unit.id, 'run.json');
    throw new InvalidFileError(
      `${file}: complete, but holds no result for unit ${unit.id}; delete ${join(root, JOBS_DIR, unit.id)} and run the unit again (--job ${unit.id})`,
      { where: file },
    );
  }
  return { record, stage };
}

function linkModels(root: string, stages: readonly StageResult[]): void {
  mkdirSync(join(root, 'models'), { recursive: true });
  for (const s of stages) {
    if (!s.modelDir) continue;
    const link = join(root, s.modelDir);
    rmSync(link, { force: true, recursive: false });
    symlinkSync(join('..', JOBS_DIR, s.id, s.modelDir), link, 'dir');
  }
}

/**
 * `distill merge ROOT`: builds an experiment's results from the run records of its units under ROOT — the
 * same run record, table, metrics.csv and report.html as a one-process `distill run`. Refuses (exit 2),
 * naming them, when units are missing, failed or unfinished, or when ROOT mixes two experiments.
 */
export async function mergeCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const shown = args[0]!;
  const root = resolve(shown);
  const rootRecord = readRootRecord(root, shown);
  const exp = validateExperiment(rootRecord.experiment, join(shown, 'experiment.json'));
  if (experimentId(exp) !== rootRecord.experimentId) {
    throw new UsageError(
      `${join(shown, 'experiment.json')}: the experiment does not match its id; it was edited by hand`,
    );
  }
  const units = listJobUnits(exp);
  checkUnitDirs(root, shown, rootRecord, units);
  const states = await collectStates(root, units, (opts.wait as number | undefined) ?? 0);
  const open = units.filter((u) => states.get(u.id)!.status !== 'complete');
  if (open.length > 0) {
    throw new UsageError(
      `merge ${shown}: ${open.length} of ${units.length} units are not complete: ${open.map((u) => describeState(u.id, states.get(u.id)!)).join(', ')}; run each with \`distill run ${rootRecord.file} --out ${shown} --job ID\`, then merge again`,
      { where: shown },
    );
  }
  const ordered = oneProcessOrder(exp, units).map((u) => unitStage(root, u, states.get(u.id)!));
  const stages = ordered.map((o) => o.stage);
  const rows = aggregate(stages);
  const paired = pairedDifferences(stages);
  const record = newRunRecord('run', exp, process.argv.slice(2));
  if (ordered[0]?.record.backend) record.backend = ordered[0].record.backend;
  record.stages = stages;
  const first = ordered[0]?.record;
  if (first?.validationSplit) record.validationSplit = first.validationSplit;
  const looks = ordered.flatMap((o) => o.record.testEvaluations ?? []);
  if (looks.length > 0) record.testEvaluations = looks;
  record.summary = { rows, paired, testEvaluations: looks.length };
  record.status = 'complete';
  freezeConfig(root, record);
  saveRunRecord(root, record);
  linkModels(root, stages);
  reportExperiment(io, Boolean(opts.json), {
    command: 'merge',
    title: exp.name ?? rootRecord.file,
    runDir: root,
    datasetName: exp.dataset.name,
    splits: splitsOfRecord(exp.dataset.name, record.validationSplit, stages),
    backend: record.backend?.backend ?? 'unknown',
    seeds: exp.seeds ?? [1],
    rows,
    paired,
    testEvaluations: looks,
    stages,
    origin: `merged from ${units.length} units`,
  });
}

/** The splits line of a merged run, from what the units' records keep of the dataset. */
function splitsOfRecord(name: string, split: unknown, stages: readonly StageResult[]): string {
  const v = split as { from?: number; count?: number; seed?: number } | undefined;
  const test = stages.find((s) => s.test)?.test;
  if (v?.from === undefined || v.count === undefined || v.seed === undefined || !test)
    return `dataset ${name}`;
  return splitsLine({
    name,
    train: { count: v.from - v.count },
    validation: { count: v.count },
    test: { count: test.count },
    validationSplit: { seed: v.seed },
  });
}
