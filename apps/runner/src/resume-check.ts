import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from './exit-code.js';
import type { Experiment } from './experiment-schema.js';
import { writeFileAtomic } from './run-dir.js';
import type { RunOverride, RunRecord } from './run-record.js';

/** The copy of a run's configuration as it started, beside run.json (its sha256 is in run.json). */
export const RUN_CONFIG_FILE = 'run-config.json';

type Path = readonly (string | number)[];

/** The sha256 of a configuration's JSON. */
export function configDigest(config: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(config ?? null))
    .digest('hex');
}

/** Records the configuration a run starts with: its sha256 in the record, a copy in run-config.json. */
export function freezeConfig(runDir: string, record: RunRecord): void {
  record.configSha256 = configDigest(record.config);
  writeFileAtomic(join(runDir, RUN_CONFIG_FILE), `${JSON.stringify(record.config, null, 2)}\n`);
}

function leafDiffs(a: unknown, b: unknown, path: Path = []): { path: Path; from: unknown; to: unknown }[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const objects = a !== null && b !== null && typeof a === 'object' && typeof b === 'object';
  if (!objects || Array.isArray(a) !== Array.isArray(b)) return [{ path, from: a, to: b }];
  const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
  return [...keys].flatMap((k) =>
    leafDiffs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], [
      ...path,
      Array.isArray(a) ? Number(k) : k,
    ]),
  );
}

function showPath(path: Path): string {
  return path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');
}

const show = (v: unknown) => (v === undefined ? '(not set)' : JSON.stringify(v));

/**
 * Refuses a run record whose configuration was edited after the run started (its sha256 no longer
 * matches), naming each edited field with the value the run started with; `override` accepts the edit
 * and records it.
 */
export function checkRecordedConfig(
  runDir: string,
  record: RunRecord,
  shown: string,
  override: boolean,
): void {
  if (record.configSha256 === undefined || configDigest(record.config) === record.configSha256) return;
  const file = join(runDir, RUN_CONFIG_FILE);
  let original: unknown;
  if (existsSync(file)) {
    const copy = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    if (configDigest(copy) === record.configSha256) original = copy;
  }
  const diffs = original === undefined ? [] : leafDiffs(original, record.config);
  const fields = diffs.map(
    (d) => `config.${showPath(d.path)} is ${show(d.to)}, the run started with ${show(d.from)}`,
  );
  if (!override) {
    throw new UsageError(
      `--resume ${shown}: ${join(runDir, 'run.json')} was edited after the run started (${fields.length ? fields.join('; ') : 'its config no longer matches the sha256 recorded with it'}); restore it, or add --override to continue with the edited settings (recorded in run.json)`,
    );
  }
  const at = new Date().toISOString();
  record.overrides = [
    ...(record.overrides ?? []),
    ...(diffs.length
      ? diffs.map((d) => ({ at, flag: `run.json config.${showPath(d.path)}`, from: d.from, to: d.to }))
      : [{ at, flag: 'run.json config', from: record.configSha256, to: configDigest(record.config) }]),
  ];
  freezeConfig(runDir, record);
}

/** Where each flag of `distill train` / `distill distill` lands in the experiment it builds. */
function flagPaths(kind: string, fresh: Experiment): Record<string, Path> {
  const stage: Path = kind === 'train' ? ['teacher'] : ['students', 0];
  const training: Record<string, Path> = {};
  for (const k of ['epochs', 'batchSize', 'optimizer', 'lr', 'schedule', 'augment'])
    training[k] = [...stage, k];
  const teacherRef = fresh.teacher && 'path' in fresh.teacher ? 'path' : 'model';
  return {
    dataset: ['dataset', 'name'],
    dataDir: ['dataset', 'dir'],
    trainSize: ['dataset', 'trainSize'],
    testSize: ['dataset', 'testSize'],
    seed: ['seeds', 0],
    ...training,
    clipGradNorm: [...stage, 'clipNorm'],
    model: ['teacher', 'model'],
    teacher: ['teacher', teacherRef],
    teacherEpochs: ['teacher', 'epochs'],
    student: ['students', 0, 'model'],
    temperature: ['students', 0, 'temperature'],
    alpha: ['students', 0, 'alpha'],
    loss: ['students', 0, 'loss'],
    excludeClass: ['students', 0, 'excludeClasses'],
  };
}

function get(root: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (v, p) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined),
    root,
  );
}

function set(root: unknown, path: Path, value: unknown): void {
  const parent = get(root, path.slice(0, -1));
  if (parent && typeof parent === 'object')
    (parent as Record<string, unknown>)[path[path.length - 1]!] = value;
}

function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Compares the flags given with `--resume` against the run's recorded configuration. A flag whose value
 * differs is refused (exit 2) with the run's value and the flag's, unless `override`: then the flag's value
 * replaces the run's and the change is returned, to be recorded in run.json.
 */
export function reconcileResumeFlags(
  kind: string,
  given: readonly string[],
  fresh: Experiment,
  recorded: Experiment,
  options: { shown: string; override: boolean },
): { config: Experiment; overrides: RunOverride[] } {
  const paths = flagPaths(kind, fresh);
  const conflicts = given
    .filter((k) => paths[k] !== undefined)
    .map((k) => ({ key: k, path: paths[k]!, from: get(recorded, paths[k]!), to: get(fresh, paths[k]!) }))
    .filter((c) => JSON.stringify(c.from) !== JSON.stringify(c.to));
  if (conflicts.length === 0) return { config: recorded, overrides: [] };
  const lines = conflicts.map(
    (c) => `${flagName(c.key)} ${show(c.to)} but the run has ${showPath(c.path)} ${show(c.from)}`,
  );
  if (!options.override) {
    throw new UsageError(
      `--resume ${options.shown}: ${lines.join('; ')}; leave ${conflicts.length > 1 ? 'these flags' : 'the flag'} out to continue as recorded, or add --override to replace the run's value (recorded in run.json)`,
    );
  }
  const config = structuredClone(recorded);
  const at = new Date().toISOString();
  for (const c of conflicts) set(config, c.path, c.to);
  return {
    config,
    overrides: conflicts.map((c) => ({ at, flag: `${flagName(c.key)}`, from: c.from, to: c.to })),
  };
}

/** Where a flag of a resumable command lands in the configuration it builds. */
export type FlagPaths = Readonly<Record<string, Path>>;

/**
 * For the commands whose flags build a whole experiment (`demo`, `run`, `reproduce`): the check that the
 * flags given with `--resume` describe the run being resumed. A flag whose value differs from the run's
 * recorded one is refused (exit 2), naming both values: a resumed run keeps its recorded settings, and a
 * flag that silently lost would make the run look like something it is not.
 */
export function refuseResumeContradictions<C>(
  given: readonly string[],
  paths: FlagPaths,
  fresh: C,
  shown: string,
  values: Readonly<Record<string, unknown>> = {},
): (recorded: C) => C {
  return (recorded) => {
    const conflicts = given
      .filter((k) => paths[k] !== undefined)
      .map((k) => ({ key: k, path: paths[k]!, from: get(recorded, paths[k]!), to: get(fresh, paths[k]!) }))
      .filter((c) => JSON.stringify(c.from) !== JSON.stringify(c.to));
    if (conflicts.length === 0) return recorded;
    const lines = conflicts.map(
      (c) =>
        `${values[c.key] === false ? flagName(`no-${c.key}`) : flagName(c.key)} gives ${showPath(c.path)} ${show(c.to)} but the run has ${show(c.from)}`,
    );
    throw new UsageError(
      `--resume ${shown}: ${lines.join('; ')}; leave ${conflicts.length > 1 ? 'these flags' : 'the flag'} out to continue the run as recorded, or start a new run`,
    );
  };
}

/**
 * `distill run FILE --resume DIR`: refuses a FILE whose experiment is not the one the run started with
 * (after `--seeds`), naming each differing field.
 */
export function refuseOtherExperiment(
  recorded: unknown,
  fromFile: unknown,
  file: string,
  shown: string,
): void {
  const diffs = leafDiffs(recorded, fromFile);
  if (diffs.length === 0) return;
  const fields = diffs
    .slice(0, 5)
    .map(
      (d) =>
        `${showPath(d.path) || '(the whole experiment)'} is ${show(d.to)} in ${file}, the run has ${show(d.from)}`,
    );
  const more = diffs.length > 5 ? ` and ${diffs.length - 5} more` : '';
  throw new UsageError(
    `--resume ${shown}: ${file} is not the experiment this run started with (${fields.join('; ')}${more}); resume with the file as it was, or start a new run`,
    { where: file },
  );
}
