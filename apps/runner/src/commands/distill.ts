import { existsSync } from 'node:fs';
import { UsageError } from '../exit-code.js';
import { validateExperiment } from '../experiment-schema.js';
import type { Io } from '../io.js';
import { inapplicableOption, type LossOptions } from '../loss-options.js';
import { teacherInputFromFlags } from '../teacher-loader.js';
import * as toolkit from '../toolkit.js';
import { datasetFromFlags, runFlagExperiment, trainingFromFlags } from './train.js';

function parseClassList(value: unknown): number[] | undefined {
  if (value === undefined) return undefined;
  const parts = String(value)
    .split(',')
    .map((s) => s.trim());
  if (!parts.every((p) => /^\d+$/.test(p))) {
    throw new UsageError(
      `--exclude-class: expected comma-separated class ids such as 3 or 3,5, got ${JSON.stringify(value)}`,
    );
  }
  return parts.map(Number);
}

/** The flag of each loss setting, for messages. */
const FLAGS: Readonly<Record<keyof LossOptions, string>> = {
  dkdAlpha: '--dkd-alpha',
  dkdBeta: '--dkd-beta',
  distBeta: '--dist-beta',
  distGamma: '--dist-gamma',
  nkdGamma: '--nkd-gamma',
  mlkdTemperatures: '--mlkd-temperatures',
  mlkdMask: '--no-mlkd-mask',
  logitStandardization: '--logit-standardization',
  ctkd: '--ctkd',
  strongAugment: '--strong-augment',
};

/** The loss settings the user gave as flags; a flag the chosen --loss does not read is an error. */
function lossOptionsFromFlags(opts: Record<string, unknown>): LossOptions {
  const given = new Set(opts.$given as string[]);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(FLAGS) as (keyof LossOptions)[]) {
    if (key !== 'ctkd' && given.has(key)) out[key] = opts[key];
  }
  if (given.has('ctkdPerExample') && !given.has('ctkd')) {
    throw new UsageError('--ctkd-per-example: needs --ctkd (a learnable temperature)');
  }
  if (given.has('ctkd')) out.ctkd = given.has('ctkdPerExample') ? { perExample: true } : {};
  const stray = inapplicableOption(opts.loss as string, out);
  if (stray) {
    throw new UsageError(
      `${FLAGS[stray.option]}: applies to --loss ${stray.users.join(' or ')}, not --loss ${opts.loss as string}`,
    );
  }
  return out as LossOptions;
}

/** `distill distill`: a student distilled from a teacher (a zoo name is trained first). */
export async function distillCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const ref = opts.teacher as string;
  const student = opts.student as string;
  const isZoo = toolkit.MODEL_NAMES.includes(ref) || ref.startsWith('mlp:');
  if (!isZoo && !/^https?:\/\//.test(ref) && !existsSync(ref) && opts.resume === undefined) {
    throw new UsageError(
      `--teacher ${ref}: no such file or directory, and not a zoo model (${toolkit.MODEL_NAMES.join(', ')}, or mlp:UNITS,...)`,
    );
  }
  const excludeClasses = parseClassList(opts.excludeClass);
  const lossOptions = lossOptionsFromFlags(opts);
  const training = trainingFromFlags(opts);
  await runFlagExperiment(
    'distill',
    opts,
    io,
    () =>
      validateExperiment(
        {
          name: `distill ${ref} -> ${student}`,
          dataset: datasetFromFlags(opts),
          seeds: [opts.seed as number],
          teacher: isZoo
            ? {
                name: `teacher ${ref}`,
                model: ref,
                ...training,
                ...(opts.teacherEpochs ? { epochs: opts.teacherEpochs as number } : {}),
              }
            : { path: ref, ...teacherInputFromFlags(opts) },
          students: [
            {
              name: `student ${student} (T=${opts.temperature}, alpha=${opts.alpha})`,
              model: student,
              loss: opts.loss as 'kd',
              temperature: opts.temperature as number,
              alpha: opts.alpha as number,
              ...(excludeClasses ? { excludeClasses } : {}),
              ...lossOptions,
              ...training,
            },
          ],
        },
        'distill distill',
      ),
    `distill: ${ref} -> ${student}`,
  );
}
