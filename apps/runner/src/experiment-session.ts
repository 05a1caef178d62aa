import type { BackendRequest } from '@distilljs/core';
import { type ExperimentResult, runExperiment } from './experiment-runner.js';
import type { Experiment } from './experiment-schema.js';
import type { Io } from './io.js';
import type { RunRecord } from './run-record.js';
import { type Session, withSession } from './session.js';
import * as toolkit from './toolkit.js';

/**
 * Runs an experiment as one `distill` command: opens the run (fresh or `--resume`, from the command's
 * `out`, `resume`, `quiet` and `backend` options), trains every stage, then hands the result to `report`.
 * `config` is ignored when resuming: the run directory's recorded configuration wins.
 */
export async function withExperimentRun<T>(
  kind: string,
  opts: Record<string, unknown>,
  io: Io,
  config: Experiment | undefined,
  report: (session: Session, config: Experiment, result: ExperimentResult) => Promise<T> | T,
  backend: BackendRequest = (opts.backend as BackendRequest | undefined) ?? 'auto',
  reconcile?: (recorded: Experiment, record: RunRecord, runDir: string) => Experiment,
): Promise<T> {
  // a fresh run loads its data first: bad data fail before any run directory is created
  const preloaded = config ? await toolkit.loadDatasetWithExtras({ ...config.dataset }) : undefined;
  return withSession(
    {
      kind,
      io,
      backend,
      out: opts.out as string | undefined,
      resume: opts.resume as string | undefined,
      quiet: opts.quiet as boolean | undefined,
      config: config as Experiment,
      ...(reconcile ? { reconcile } : {}),
      override: opts.override as boolean | undefined,
    },
    async (session, exp) => {
      const result = await runExperiment(exp, {
        runDir: session.runDir,
        io,
        quiet: session.quiet,
        interrupts: session.interrupts,
        record: session.record,
        ...(preloaded ? { preloaded } : {}),
      });
      return report(session, exp, result);
    },
  );
}
