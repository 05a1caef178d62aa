import { UsageError } from '../exit-code.js';
import { checkExperimentNames } from '../experiment-runner.js';
import {
  checkDatasetDir,
  type DatasetName,
  type Experiment,
  type ExperimentInput,
  validateExperiment,
} from '../experiment-schema.js';
import { withExperimentRun } from '../experiment-session.js';
import type { Io } from '../io.js';
import type { DatasetArg } from '../option-parsers.js';
import { freezeConfig, reconcileResumeFlags } from '../resume-check.js';
import { printRunOutcome, resultsTable, splitsLine, writeRunOutputs } from '../run-outputs.js';
import type { RunRecord } from '../run-record.js';

/** The dataset part of an experiment from the shared data flags. */
export function datasetFromFlags(opts: Record<string, unknown>): ExperimentInput['dataset'] {
  const arg = typeof opts.dataset === 'string' ? { name: opts.dataset } : (opts.dataset as DatasetArg);
  checkDatasetDir(arg.name as DatasetName, opts.dataDir as string | undefined, '--data-dir');
  return {
    ...(arg as { name: ExperimentInput['dataset']['name'] }),
    ...(opts.dataDir ? { dir: opts.dataDir as string } : {}),
    ...(opts.trainSize ? { trainSize: opts.trainSize as number } : {}),
    ...(opts.testSize ? { testSize: opts.testSize as number } : {}),
    ...(opts.validationSize ? { validationSize: opts.validationSize as number } : {}),
    ...(typeof opts.validationSeed === 'number' && opts.validationSeed !== 0
      ? { validationSeed: opts.validationSeed }
      : {}),
    ...ownDataFromFlags(opts),
  };
}

/** The own-data settings (image folder, table, NPY) from their flags, only those given. */
function ownDataFromFlags(opts: Record<string, unknown>): Partial<ExperimentInput['dataset']> {
  const given = new Set((opts.$given as string[] | undefined) ?? Object.keys(opts));
  const out: Record<string, unknown> = {};
  const copy = (flag: string, key = flag, map: (v: unknown) => unknown = (v) => v) => {
    if (given.has(flag) && opts[flag] !== undefined) out[key] = map(opts[flag]);
  };
  copy('labelColumn');
  copy('header');
  copy('skipLines');
  copy('standardize');
  copy('imageSize');
  copy('channels', 'channels', Number);
  copy('resize');
  copy('testFraction');
  copy('skipBadFiles');
  copy('unlabelled');
  return out;
}

/** The training settings from the shared training flags. */
export function trainingFromFlags(opts: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of ['epochs', 'batchSize', 'optimizer', 'lr', 'schedule', 'augment'] as const) {
    if (opts[key] !== undefined) out[key] = opts[key];
  }
  if (opts.clipGradNorm !== undefined) out.clipNorm = opts.clipGradNorm;
  return out;
}

/** Runs a one-off experiment built from flags, prints its table, writes its outputs. */
export async function runFlagExperiment(
  kind: string,
  opts: Record<string, unknown>,
  io: Io,
  build: () => Experiment,
  title: string,
): Promise<void> {
  if (opts.override && opts.resume === undefined) {
    throw new UsageError(
      "--override only applies with --resume (it lets flags replace a resumed run's settings)",
    );
  }
  const exp = opts.resume === undefined ? build() : undefined;
  if (exp) checkExperimentNames(exp, `distill ${kind}`);
  const reconcile = (recorded: Experiment, record: RunRecord, runDir: string) => {
    const { config, overrides } = reconcileResumeFlags(
      kind,
      (opts.$given as string[]) ?? [],
      build(),
      recorded,
      {
        shown: opts.resume as string,
        override: Boolean(opts.override),
      },
    );
    if (overrides.length > 0) {
      record.config = config;
      record.overrides = [...(record.overrides ?? []), ...overrides];
      freezeConfig(runDir, record);
    }
    return config;
  };
  await withExperimentRun(
    kind,
    opts,
    io,
    exp,
    async (session, _config, result) => {
      const table = resultsTable(result.rows, undefined, session.record.testEvaluations);
      const files = writeRunOutputs(session.runDir, {
        title,
        subtitle: [
          `${splitsLine(result.dataset)}; backend ${session.backend.backend}`,
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
          stages: result.stages.map(({ history: _h, ...s }) => s),
          testEvaluations: session.record.testEvaluations?.length ?? 0,
        },
        [table.text],
      );
    },
    undefined,
    reconcile,
  );
}

/** `distill train`: one model on labels alone. */
export async function trainCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const model = opts.model as string;
  await runFlagExperiment(
    'train',
    opts,
    io,
    () =>
      validateExperiment(
        {
          name: `train ${model}`,
          dataset: datasetFromFlags(opts),
          seeds: [opts.seed as number],
          teacher: { name: model, model, ...trainingFromFlags(opts) },
        },
        'distill train',
      ),
    `distill train: ${model}`,
  );
}
