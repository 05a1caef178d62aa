import { type Experiment, type ExperimentInput, validateExperiment } from '../experiment-schema.js';
import { withExperimentRun } from '../experiment-session.js';
import type { Io } from '../io.js';
import { refuseResumeContradictions } from '../resume-check.js';
import {
  printRunOutcome,
  resultsTable,
  softTargetsTable,
  splitsLine,
  writeRunOutputs,
} from '../run-outputs.js';

/** Test errors of Hinton et al. (2015), section 3, on the full MNIST (60k train / 10k test). */
export const PAPER_MNIST_ERRORS = { teacher: 67, baseline: 146, distilled: 74 } as const;

/**
 * The demo as an experiment: hinton-teacher (dropout, 2-px jitter), a baseline hinton-student on labels
 * alone, and a hinton-student distilled at T = 20, on the embedded MNIST digits (10% of the training digits
 * held out as the validation split; the 1,505 test digits scored once per model at the end).
 * `quick` trains on the first 2,000 training digits (1,800 after the validation split) at batch 32 for 12
 * epochs, the budget at which the regularised teacher beats the unregularised student (at batch 128 and 4
 * epochs, the earlier quick budget, it was still underfitting and could lose to the baseline).
 */
export function demoExperiment(quick: boolean, seed: number): Experiment {
  const epochs = quick ? { teacher: 12, student: 12 } : { teacher: 18, student: 10 };
  const input: ExperimentInput = {
    name: quick ? 'demo (quick)' : 'demo',
    description: 'Hinton, Vinyals and Dean (2015), section 3, on the embedded MNIST digits',
    dataset: { name: 'mnist-embedded', ...(quick ? { trainSize: 2000, testSize: 1000 } : {}) },
    seeds: [seed],
    defaults: { batchSize: quick ? 32 : 128, optimizer: 'adam', lr: 1e-3, schedule: 'cosine' },
    teacher: { name: 'teacher', model: 'hinton-teacher', epochs: epochs.teacher, augment: { shift: 2 } },
    students: [
      { name: 'baseline student', model: 'hinton-student', loss: 'ce', epochs: epochs.student },
      {
        name: 'distilled student',
        model: 'hinton-student',
        loss: 'kd',
        temperature: 20,
        alpha: 0.5,
        epochs: epochs.student,
      },
    ],
  };
  return validateExperiment(input, quick ? 'demo --quick' : 'demo');
}

/** `distill demo`: the README's main command. */
export async function demoCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const quick = Boolean(opts.quick);
  const fresh = demoExperiment(quick, (opts.seed as number | undefined) ?? 1);
  await withExperimentRun(
    'demo',
    opts,
    io,
    fresh,
    async (session, exp, result) => {
      const picture = result.softTargets;
      const paper: Record<string, number> = {
        teacher: PAPER_MNIST_ERRORS.teacher,
        'baseline student': PAPER_MNIST_ERRORS.baseline,
        'distilled student': PAPER_MNIST_ERRORS.distilled,
      };
      const table = resultsTable(
        result.rows,
        {
          head: 'paper (10k test)',
          cell: (r) => (paper[r.name] === undefined ? '' : `${paper[r.name]} / 10000`),
        },
        session.record.testEvaluations,
      );
      const byRole = (role: string) => result.rows.find((r) => r.role === role);
      const t = byRole('teacher');
      const b = byRole('baseline');
      const d = byRole('distilled');
      const notes: string[] = [];
      if (t?.test && b?.test && d?.test) {
        const gap = b.test.errors.mean - t.test.errors.mean;
        const paperShare = (((146 - 74) / (146 - 67)) * 100).toFixed(0);
        if (gap >= Math.max(3, 0.005 * t.test.count)) {
          const recovered = (b.test.errors.mean - d.test.errors.mean) / gap;
          notes.push(
            `On the test split, the distilled student recovered ${(recovered * 100).toFixed(0)}% of the teacher-baseline gap of ${gap.toFixed(0)} test errors (paper: ${paperShare}%).`,
          );
        } else {
          notes.push(
            `The teacher beat the baseline by ${gap.toFixed(0)} test errors, too few to measure what distillation recovers${quick ? ' (--quick trains for a few epochs only; run without it)' : ''}.`,
          );
        }
      }
      const subtitle = [
        `${splitsLine(result.dataset)} digits; backend ${session.backend.backend}; seed ${(exp.seeds ?? [1]).join(', ')}`,
        'teacher: hinton-teacher 784-1200-1200-10, dropout 0.2/0.5, max-norm, inputs jittered by up to 2 px; students: hinton-student 784-800-800-10, no regularisation; distilled at T = 20, alpha 0.5',
      ];
      const files = writeRunOutputs(session.runDir, {
        title: 'distill demo: Hinton, Vinyals and Dean (2015) on the embedded MNIST digits',
        subtitle,
        table,
        stages: result.stages,
        softTargets: picture,
        notes,
      });
      const summary = {
        rows: result.rows,
        testEvaluations: session.record.testEvaluations?.length ?? 0,
        notes,
        softTargets: picture && { ...picture, image: undefined },
      };
      session.record.summary = summary;
      printRunOutcome(io, Boolean(opts.json), { runDir: session.runDir, report: files.report }, summary, [
        `\n${subtitle[0]}`,
        table.text,
        ...notes,
        ...(picture ? [`\n${picture.caption}`, softTargetsTable(picture)] : []),
        '',
      ]);
    },
    undefined,
    refuseResumeContradictions(
      (opts.$given as string[] | undefined) ?? [],
      { seed: ['seeds', 0], quick: ['name'] },
      fresh,
      String(opts.resume),
    ),
  );
}
