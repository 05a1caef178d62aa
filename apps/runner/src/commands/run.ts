import { existsSync, readFileSync } from 'node:fs';
import type { BackendRequest } from '@distilljs/core';
import { UsageError } from '../exit-code.js';
import { checkExperimentNames } from '../experiment-runner.js';
import { type Experiment, parseExperiment, validateExperiment } from '../experiment-schema.js';
import { withExperimentRun } from '../experiment-session.js';
import type { Io } from '../io.js';
import { refuseOtherExperiment } from '../resume-check.js';
import { pairedLines, printRunOutcome, resultsTable, splitsLine, writeRunOutputs } from '../run-outputs.js';
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
      const table = resultsTable(result.rows, undefined, session.record.testEvaluations);
      const title = config.name ?? file;
      const files = writeRunOutputs(session.runDir, {
        title: `distill run: ${title}`,
        subtitle: [
          splitsLine(result.dataset),
          `backend ${session.backend.backend}; seeds ${(config.seeds ?? [1]).join(', ')}`,
          new Date().toISOString(),
        ],
        table,
        stages: result.stages,
        softTargets: result.softTargets,
      });
      printRunOutcome(
        io,
        Boolean(opts.json),
        { runDir: session.runDir, report: files.report },
        {
          rows: result.rows,
          paired: result.paired,
          testEvaluations: session.record.testEvaluations?.length ?? 0,
        },
        [
          `\n${title}: ${result.dataset.name}, mean ± std over ${(config.seeds ?? [1]).length} seed(s)`,
          table.text,
          ...pairedLines(result.paired),
        ],
      );
    },
    backend,
    reconcile,
  );
}
