import type { BackendRequest } from '@distilljs/core';
import { UsageError } from '../exit-code.js';
import type { Experiment } from '../experiment-schema.js';
import { printUnitOutcome, runJobUnit } from '../experiment-unit.js';
import { type Io, println } from '../io.js';
import { type JobUnit, listJobUnits, pickJobUnit } from '../job-units.js';
import { outputRoot } from '../output-root.js';
import { renderTable } from '../results-table.js';
import { readExperimentFile } from './run.js';

/** Default wait for a needed unit: a day (a Slurm dependency or Kubernetes ordering usually makes it zero). */
const DEFAULT_WAIT_SECONDS = 86_400;

/** A student unit that learns from a teacher (with `studentSeeds`, its teacher seed is part of its id). */
const distils = (u: JobUnit) => u.kind === 'student' && (u.student?.spec.loss ?? 'kd') !== 'ce';

function printUnits(io: Io, exp: Experiment, units: readonly JobUnit[], root: string, json: boolean): void {
  if (json) {
    println(
      io.stdout,
      JSON.stringify({
        root,
        units: units.map((u) => ({
          index: u.index,
          id: u.id,
          kind: u.kind,
          seed: u.seed,
          ...(exp.studentSeeds && distils(u) ? { teacherSeed: u.teacherSeed } : {}),
          needs: u.needs,
        })),
      }),
    );
    return;
  }
  const rows = units.map((u) => [String(u.index), u.id, u.kind, String(u.seed), u.needs.join(', ')]);
  println(io.stdout, renderTable(['index', 'id', 'kind', 'seed', 'needs'], rows));
  println(io.stdout, `${units.length} units; output root: ${root}`);
}

/**
 * `distill run FILE --list-jobs | --job ID | --job-index I`: lists an experiment's units of work, or runs
 * exactly one of them into its own run directory under the output root (`--out`, default `runs/<file>`).
 */
export async function runJobsCommand(opts: Record<string, unknown>, io: Io, file: string): Promise<void> {
  if (opts.resume !== undefined) {
    throw new UsageError(
      '--resume is for one-process runs; a unit resumes by itself when run again with --job',
    );
  }
  if (opts.seeds !== undefined) {
    throw new UsageError(
      '--seeds changes the experiment; with --job, --job-index or --list-jobs, edit the file instead',
    );
  }
  const exp = readExperimentFile(file);
  const units = listJobUnits(exp);
  const root = outputRoot(file, opts.out as string | undefined);
  if (opts.listJobs) {
    if (opts.job !== undefined || opts.jobIndex !== undefined) {
      throw new UsageError('--list-jobs lists the units; give it without --job or --job-index');
    }
    printUnits(io, exp, units, root, Boolean(opts.json));
    return;
  }
  const unit = pickJobUnit(
    units,
    { job: opts.job as string | undefined, jobIndex: opts.jobIndex as number | undefined },
    file,
  );
  const asked = (opts.backend as BackendRequest | undefined) ?? 'auto';
  const outcome = await runJobUnit({
    file,
    exp,
    unit,
    units,
    root,
    io,
    quiet: Boolean(opts.quiet),
    backend: asked !== 'auto' ? asked : (exp.backend ?? 'auto'),
    waitSeconds: (opts.wait as number | undefined) ?? DEFAULT_WAIT_SECONDS,
  });
  printUnitOutcome(io, outcome, Boolean(opts.json));
}
