import { z } from 'zod';

const weight = z.number().gte(0);

/** The shape of MLKD's strong augmentation (as `augment`). */
const strongAugmentSchema = z.strictObject({
  shift: z.number().int().gte(0).optional(),
  crop: z.number().int().gte(0).optional(),
  flip: z.boolean().optional(),
});

/** CTKD's learnable temperature (trainer option `ctkd`). */
const ctkdSchema = z.strictObject({
  perExample: z.boolean().optional(),
  tStart: z.number().gt(0).optional(),
  tEnd: z.number().gt(0).optional(),
  loops: z.number().int().gte(1).optional(),
  lambdaMax: weight.optional(),
});

/**
 * The loss-specific settings of a student in an experiment file (and of `distill distill`), each with
 * the losses it applies to. See @distilljs/losses' registry for their meaning.
 */
export const lossOptionFields = {
  /** DKD: weight of TCKD (default 1). */
  dkdAlpha: weight.optional(),
  /** DKD: weight of NCKD (default 8). */
  dkdBeta: weight.optional(),
  /** DIST: inter-class relation weight (default 1). */
  distBeta: weight.optional(),
  /** DIST: intra-class relation weight (default 1). */
  distGamma: weight.optional(),
  /** NKD: non-target weight (default 1.5). */
  nkdGamma: weight.optional(),
  /** MLKD: temperatures (default 2, 3, 4, 5, 6). */
  mlkdTemperatures: z.array(z.number().gt(0)).min(1).optional(),
  /** MLKD: confidence masking (default true). */
  mlkdMask: z.boolean().optional(),
  /** Logit standardisation (Sun et al. 2024) for kd, dkd and mlkd. */
  logitStandardization: z.boolean().optional(),
  /** CTKD: learn the temperature (kd, dkd). */
  ctkd: ctkdSchema.optional(),
  /** MLKD's weak/strong pairing: the strong augmentation of each batch's second view (mlkd). */
  strongAugment: strongAugmentSchema.optional(),
};

/** A student's loss-specific settings. */
export type LossOptions = {
  -readonly [K in keyof typeof lossOptionFields]?: z.infer<(typeof lossOptionFields)[K]>;
};

/** Which losses read each setting. */
export const LOSS_OPTION_USERS: Readonly<Record<keyof LossOptions, readonly string[]>> = {
  dkdAlpha: ['dkd'],
  dkdBeta: ['dkd'],
  distBeta: ['dist'],
  distGamma: ['dist'],
  nkdGamma: ['nkd'],
  mlkdTemperatures: ['mlkd'],
  mlkdMask: ['mlkd'],
  logitStandardization: ['kd', 'dkd', 'mlkd'],
  ctkd: ['kd', 'dkd'],
  strongAugment: ['mlkd'],
};

/**
 * The first setting given that `loss` does not read, with the losses that do, e.g.
 * `{ option: 'nkdGamma', users: ['nkd'] }`; undefined when all apply.
 */
export function inapplicableOption(
  loss: string,
  spec: Readonly<Record<string, unknown>>,
): { option: keyof LossOptions; users: readonly string[] } | undefined {
  for (const [option, users] of Object.entries(LOSS_OPTION_USERS) as [
    keyof LossOptions,
    readonly string[],
  ][]) {
    if (spec[option] !== undefined && !users.includes(loss)) return { option, users };
  }
  return undefined;
}

/** The loss-specific settings of a student spec (the fields of {@link lossOptionFields} it gives). */
export function pickLossOptions(spec: Readonly<Record<string, unknown>>): LossOptions {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(lossOptionFields)) if (spec[k] !== undefined) out[k] = spec[k];
  return out as LossOptions;
}

/** A spec without its loss-specific settings (what is left are the training settings). */
export function trainingOnly<T extends Record<string, unknown>>(spec: T): Omit<T, keyof LossOptions> {
  const out: Record<string, unknown> = { ...spec };
  for (const k of Object.keys(lossOptionFields)) delete out[k];
  return out as Omit<T, keyof LossOptions>;
}
