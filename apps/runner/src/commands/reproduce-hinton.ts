import type { AggregateRow } from '../experiment-runner.js';
import { type Experiment, type ExperimentInput, validateExperiment } from '../experiment-schema.js';
import { withExperimentRun } from '../experiment-session.js';
import type { Io } from '../io.js';
import { type FlagPaths, refuseResumeContradictions } from '../resume-check.js';
import { pairedLines, printRunOutcome, resultsTable, splitsLine, writeRunOutputs } from '../run-outputs.js';
import { formatMeanStd } from '../stats.js';

/** The paper's MNIST test errors (Hinton, Vinyals and Dean 2015, section 3; 10,000 test digits). */
export const PAPER = { teacher: 67, baseline: 146, distilled: 74 } as const;

/** Temperatures of the sweep of the distilled hinton-student (T = 20 is the main row). */
export const SWEEP_TEMPERATURES = [1, 2, 4, 8] as const;
/** Temperatures of the 30-unit student sweep (the paper finds 2.5-4 best for such small students). */
export const SMALL_TEMPERATURES = [1, 2.5, 4, 8, 20] as const;

/** Epoch budgets and subset sizes of {@link hintonExperiment} (the subset sizes are first-N cuts). */
export interface HintonBudget {
  readonly teacher: number;
  readonly student: number;
  /** Batch size of every model (default 128). */
  readonly batchSize?: number | undefined;
  readonly trainSize?: number | undefined;
  readonly testSize?: number | undefined;
}

/**
 * The budgets. `quick` (CI) trains every model 12 epochs at batch 32 on 2,000 digits: at batch 128 and a
 * few epochs the regularised teacher (dropout, max-norm, jitter) is still underfitting and loses to the
 * unregularised student. The others are paper-scale runs (the paper trained to convergence).
 */
export const HINTON_BUDGETS = {
  quick: { teacher: 12, student: 12, batchSize: 32, trainSize: 2000, testSize: 1000 },
  embedded: { teacher: 24, student: 16 },
  full: { teacher: 30, student: 20 },
} as const satisfies Record<string, HintonBudget>;

/** Options of {@link hintonExperiment}. */
export interface HintonOptions {
  readonly dataset: 'mnist-embedded' | 'mnist' | 'fashion-mnist';
  readonly dataDir?: string | undefined;
  readonly seeds: number;
  readonly quick: boolean;
  readonly sweeps: boolean;
  /** Overrides of the budget's teacher epochs, student epochs and subset sizes. */
  readonly teacherEpochs?: number | undefined;
  readonly studentEpochs?: number | undefined;
  readonly trainSize?: number | undefined;
  readonly testSize?: number | undefined;
  /** Training examples held out as the validation split (default 10%). */
  readonly validationSize?: number | undefined;
  /** Student seeds per teacher seed (default: one, equal to the teacher's seed). */
  readonly studentSeeds?: number | undefined;
  /** Read the test split at the end (default true); false for runs that choose settings. */
  readonly evaluateTest?: boolean | undefined;
  /** Weight of the soft-target loss of the distilled students (default 0.5). */
  readonly alpha?: number | undefined;
  /** Teacher's random shifts in pixels (default 2, the paper's MNIST jitter). */
  readonly jitter?: number | undefined;
}

/** The budget {@link hintonExperiment} uses for `o`: the preset, with any overrides of `o` applied. */
export function hintonBudget(o: HintonOptions): HintonBudget {
  const preset: HintonBudget = o.quick
    ? HINTON_BUDGETS.quick
    : o.dataset === 'mnist-embedded'
      ? HINTON_BUDGETS.embedded
      : HINTON_BUDGETS.full;
  return {
    teacher: o.teacherEpochs ?? preset.teacher,
    student: o.studentEpochs ?? preset.student,
    batchSize: preset.batchSize,
    trainSize: o.trainSize ?? preset.trainSize,
    testSize: o.testSize ?? preset.testSize,
  };
}

/**
 * The paper's MNIST experiment as an experiment file would state it: hinton-teacher (dropout, max-norm,
 * 2-px jitter), hinton-student on labels, hinton-student distilled at T = 20 (alpha 0.5), plus a temperature
 * sweep and a 30-30 student (baseline and distilled over T). `quick` uses small subsets and few epochs.
 */
export function hintonExperiment(o: HintonOptions): Experiment {
  const budget = hintonBudget(o);
  const epochs = { teacher: budget.teacher, student: budget.student };
  const alpha = o.alpha ?? 0.5;
  const jitter = o.jitter ?? 2;
  const students: NonNullable<ExperimentInput['students']> = [
    { name: 'baseline', model: 'hinton-student', loss: 'ce', epochs: epochs.student },
    {
      name: 'distilled (T=20)',
      model: 'hinton-student',
      loss: 'kd',
      temperature: 20,
      alpha,
      epochs: epochs.student,
    },
  ];
  if (o.sweeps) {
    for (const t of SWEEP_TEMPERATURES) {
      students.push({
        name: `distilled (T=${t})`,
        model: 'hinton-student',
        loss: 'kd',
        temperature: t,
        alpha,
        epochs: epochs.student,
      });
    }
    const small = { name: 'mlp', hiddenUnits: [30, 30] };
    students.push({ name: '30-30 baseline', model: small, loss: 'ce', epochs: epochs.student });
    for (const t of SMALL_TEMPERATURES) {
      students.push({
        name: `30-30 distilled (T=${t})`,
        model: small,
        loss: 'kd',
        temperature: t,
        alpha,
        epochs: epochs.student,
      });
    }
  }
  return validateExperiment(
    {
      name: `reproduce hinton (${o.dataset}${o.quick ? ', quick' : ''})`,
      dataset: {
        name: o.dataset,
        ...(o.dataDir ? { dir: o.dataDir } : {}),
        ...(budget.trainSize !== undefined ? { trainSize: budget.trainSize } : {}),
        ...(budget.testSize !== undefined ? { testSize: budget.testSize } : {}),
        ...(o.validationSize !== undefined ? { validationSize: o.validationSize } : {}),
      },
      seeds: Array.from({ length: o.seeds }, (_, i) => i + 1),
      ...(o.studentSeeds ? { studentSeeds: Array.from({ length: o.studentSeeds }, (_, i) => i + 1) } : {}),
      ...(o.evaluateTest === false ? { evaluateTest: false } : {}),
      defaults: { batchSize: budget.batchSize ?? 128, optimizer: 'adam', lr: 1e-3, schedule: 'cosine' },
      teacher: {
        name: 'teacher',
        model: 'hinton-teacher',
        epochs: epochs.teacher,
        ...(jitter > 0 ? { augment: { shift: jitter } } : {}),
      },
      students,
    },
    'reproduce hinton',
  );
}

/** The share of the teacher-baseline error gap the distilled student recovers on mean errors of `split`. */
export function gapRecovered(
  rows: readonly AggregateRow[],
  distilledName = 'distilled (T=20)',
  split: 'validation' | 'test' = 'test',
): number | undefined {
  const t = rows.find((r) => r.role === 'teacher')?.[split];
  const b = rows.find((r) => r.name === 'baseline')?.[split];
  const d = rows.find((r) => r.name === distilledName)?.[split];
  if (!t || !b || !d) return undefined;
  const gap = b.errors.mean - t.errors.mean;
  return gap > 0 ? (b.errors.mean - d.errors.mean) / gap : Number.NaN;
}

/** `distill reproduce hinton`. */
export async function reproduceHintonCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const options: HintonOptions = {
    dataset: opts.dataset as HintonOptions['dataset'],
    dataDir: opts.dataDir as string | undefined,
    seeds: opts.seeds as number,
    quick: Boolean(opts.quick),
    sweeps: opts.sweeps !== false,
    teacherEpochs: opts.teacherEpochs as number | undefined,
    studentEpochs: opts.studentEpochs as number | undefined,
    trainSize: opts.trainSize as number | undefined,
    testSize: opts.testSize as number | undefined,
    validationSize: opts.validationSize as number | undefined,
    studentSeeds: opts.studentSeeds as number | undefined,
    evaluateTest: opts.test !== false,
    alpha: opts.alpha as number | undefined,
    jitter: opts.jitter as number | undefined,
  };
  const fresh = hintonExperiment(options);
  await withExperimentRun(
    'reproduce-hinton',
    opts,
    io,
    fresh,
    async (session, exp, result) => {
      const split = exp.evaluateTest === false ? 'validation' : 'test';
      const isMnist = exp.dataset.name !== 'fashion-mnist' && split === 'test';
      const paper: Record<string, number> = {
        teacher: PAPER.teacher,
        baseline: PAPER.baseline,
        'distilled (T=20)': PAPER.distilled,
      };
      const table = resultsTable(
        result.rows,
        {
          head: 'paper (MNIST, 10k test)',
          cell: (r) => (isMnist && paper[r.name] !== undefined ? String(paper[r.name]) : ''),
        },
        session.record.testEvaluations,
      );
      const recovered = gapRecovered(result.rows, 'distilled (T=20)', split);
      const notes = [
        `On the ${split} split, the distilled student (T=20) recovers ${recovered === undefined || !Number.isFinite(recovered) ? 'n/a' : `${(recovered * 100).toFixed(0)}%`} of the teacher-baseline error gap, on mean errors over ${exp.seeds?.length ?? 1} seed(s) (paper: ${(((PAPER.baseline - PAPER.distilled) / (PAPER.baseline - PAPER.teacher)) * 100).toFixed(0)}%).`,
      ];
      const t = result.rows.find((r) => r.role === 'teacher')?.[split];
      const b = result.rows.find((r) => r.name === 'baseline')?.[split];
      if (t && b)
        notes.push(
          `Teacher ${formatMeanStd(t.errors)} vs baseline ${formatMeanStd(b.errors)} ${split} errors.`,
        );
      notes.push(...pairedLines(result.paired));
      session.record.summary = {
        rows: result.rows,
        paired: result.paired,
        gapRecovered: { split, value: recovered },
        testEvaluations: session.record.testEvaluations?.length ?? 0,
        notes,
      };
      const files = writeRunOutputs(session.runDir, {
        title: `distill reproduce hinton: ${exp.dataset.name}`,
        subtitle: [
          `${splitsLine(result.dataset)}; backend ${session.backend.backend}; seeds ${(exp.seeds ?? []).join(', ')}`,
          new Date().toISOString(),
        ],
        table,
        stages: result.stages,
        softTargets: result.softTargets,
        notes,
      });
      printRunOutcome(
        io,
        Boolean(opts.json),
        { runDir: session.runDir, report: files.report },
        {
          rows: result.rows,
          paired: result.paired,
          gapRecovered: { split, value: recovered },
          testEvaluations: session.record.testEvaluations?.length ?? 0,
        },
        [`\n${exp.name}: mean ± std over ${exp.seeds?.length ?? 1} seed(s)`, table.text, ...notes],
      );
    },
    undefined,
    refuseResumeContradictions(
      (opts.$given as string[] | undefined) ?? [],
      hintonFlagPaths(fresh),
      fresh,
      String(opts.resume),
      opts,
    ),
  );
}

/** Where each flag of `reproduce hinton` lands in the experiment it builds (for the `--resume` check). */
function hintonFlagPaths(fresh: Experiment): FlagPaths {
  const distilled = fresh.students.findIndex((s) => s.loss !== 'ce');
  return {
    dataset: ['dataset', 'name'],
    dataDir: ['dataset', 'dir'],
    quick: ['name'],
    seeds: ['seeds'],
    studentSeeds: ['studentSeeds'],
    sweeps: ['students', 'length'],
    teacherEpochs: ['teacher', 'epochs'],
    studentEpochs: ['students', 0, 'epochs'],
    trainSize: ['dataset', 'trainSize'],
    testSize: ['dataset', 'testSize'],
    validationSize: ['dataset', 'validationSize'],
    test: ['evaluateTest'],
    alpha: ['students', distilled, 'alpha'],
    jitter: ['teacher', 'augment'],
  };
}
