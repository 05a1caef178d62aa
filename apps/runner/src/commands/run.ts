import { existsSync, readFileSync } from 'node:fs';
import type { BackendRequest } from '@distilljs/core';
import { UsageError } from '../exit-code.js';
import { reportExperiment } from '../experiment-report.js';
import { checkExperimentNames } from '../experiment-runner.js';
import { type Experiment, parseExperiment, validateExperiment } from '../experiment-schema.js';
import { withExperimentRun } from '../experiment-session.js';
import type { Io } from '../io.js';
import { refuseOtherExperiment } from '../resume-check.js';
import { splitsLine } from '../run-outputs.js';
import { runJobsCommand } from './run-jobs.js';

/** Reads and validates an experiment file (exit 2 for a missing, unreadable or invalid file). */
export function readExperimentFile(file: string): Experiment {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `experiment file ${file}: no such file`
        : `experiment file ${file}: cannot read it (${code})`,
      { where: file },
    );
  }
  const exp = parseExperiment(text, file);
  checkExperimentNames(exp, file);
  return exp;
}

/** `distill run FILE`: runs an experiment file and prints mean ± std over seeds. */
export async function runCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const file = args[0]!;
  if (opts.listJobs || opts.job !== undefined || opts.jobIndex !== undefined) {
    return runJobsCommand(opts, io, file);
  }
  const fromFile = (): Experiment => {
    const read = readExperimentFile(file);
    if (typeof opts.seeds !== 'string') return read;
    const seeds = opts.seeds.split(',').map((s) => Number(s.trim()));
    return validateExperiment({ ...read, seeds }, '--seeds');
  };
  const exp = opts.resume === undefined ? fromFile() : undefined;
  // with --resume, the run's recorded experiment wins; FILE (when still there) must be that experiment
  const reconcile = (recorded: Experiment) => {
    if (existsSync(file)) refuseOtherExperiment(recorded, fromFile(), file, String(opts.resume));
    return recorded;
  };
  const asked = (opts.backend as BackendRequest | undefined) ?? 'auto';
  const backend = asked !== 'auto' ? asked : (exp?.backend ?? 'auto');
  await withExperimentRun(
    'run',
    opts,
    io,
    exp,
    async (session, config, result) => {
      reportExperiment(io, Boolean(opts.json), {
        command: 'run',
        title: config.name ?? file,
        runDir: session.runDir,
        datasetName: result.dataset.name,
        splits: splitsLine(result.dataset),
        backend: session.backend.backend,
        seeds: config.seeds ?? [1],
        rows: result.rows,
        paired: result.paired,
        testEvaluations: session.record.testEvaluations ?? [],
        stages: result.stages,
        softTargets: result.softTargets,
      });
    },
    backend,
    reconcile,
  );
}
