import { ConfigError, describeValue } from '@distilljs/core';

/** The learning-rate schedules {@link createSchedule} knows. */
export const SCHEDULE_NAMES = ['constant', 'step', 'cosine'] as const;

/**
 * A learning-rate schedule, a multiplier of the optimiser's base `lr`, evaluated once per step.
 *
 * - `constant`: `lr`.
 * - `step`: `lr * gamma^floor(s / stepSize)`; `stepSize` in steps, or `stepEpochs` in epochs (default
 *   a third of the run), `gamma` default 0.1.
 * - `cosine`: `minLr + (lr - minLr) * (1 + cos(pi * s / S)) / 2` over the steps after warm-up.
 *
 * Every schedule may start with `warmupSteps` of linear warm-up from `lr / warmupSteps` to `lr`.
 */
export interface ScheduleConfig {
  readonly name: (typeof SCHEDULE_NAMES)[number];
  readonly warmupSteps?: number;
  readonly stepSize?: number;
  readonly stepEpochs?: number;
  readonly gamma?: number;
  /** Floor of the cosine schedule (absolute learning rate); default 0. */
  readonly minLr?: number;
}

/** A schedule given by name (defaults) or configuration. */
export type ScheduleSpec = ScheduleConfig['name'] | ScheduleConfig;

/** Learning rate at a 0-based global step. */
export type LearningRateSchedule = (step: number) => number;

function bad(field: string, expected: string, got: unknown): never {
  throw new ConfigError(`createSchedule: '${field}' must be ${expected}, got ${describeValue(got)}`, {
    where: `schedule.${field}`,
  });
}

/**
 * Builds the per-step learning rate for a run of `totalSteps` steps of `stepsPerEpoch` each, from a base
 * learning rate. Throws a {@link ConfigError} for an unknown name or a bad field.
 */
export function createSchedule(
  spec: ScheduleSpec | undefined,
  baseLr: number,
  totalSteps: number,
  stepsPerEpoch: number,
): LearningRateSchedule {
  const cfg: Partial<ScheduleConfig> =
    spec === undefined ? { name: 'constant' } : typeof spec === 'string' ? { name: spec } : spec;
  if (!(SCHEDULE_NAMES as readonly string[]).includes(cfg.name as string)) {
    bad('name', `one of ${SCHEDULE_NAMES.map((n) => `'${n}'`).join(', ')}`, cfg.name);
  }
  const warmup = cfg.warmupSteps ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) bad('warmupSteps', 'an integer >= 0', warmup);
  const gamma = cfg.gamma ?? 0.1;
  if (!Number.isFinite(gamma) || gamma <= 0 || gamma > 1) bad('gamma', 'a number in (0, 1]', gamma);
  const minLr = cfg.minLr ?? 0;
  if (!Number.isFinite(minLr) || minLr < 0 || minLr > baseLr)
    bad('minLr', `a number in [0, ${baseLr}]`, minLr);
  let stepSize = cfg.stepSize;
  if (stepSize === undefined && cfg.stepEpochs !== undefined) {
    if (!Number.isFinite(cfg.stepEpochs) || cfg.stepEpochs <= 0)
      bad('stepEpochs', 'a number > 0', cfg.stepEpochs);
    stepSize = Math.max(1, Math.round(cfg.stepEpochs * stepsPerEpoch));
  }
  stepSize ??= Math.max(1, Math.ceil(totalSteps / 3));
  if (!Number.isInteger(stepSize) || stepSize < 1) bad('stepSize', 'an integer >= 1', stepSize);
  const name = cfg.name as ScheduleConfig['name'];
  const decaySteps = Math.max(1, totalSteps - warmup);
  return (step: number) => {
    if (step < warmup) return (baseLr * (step + 1)) / warmup;
    const s = step - warmup;
    if (name === 'step') return baseLr * gamma ** Math.floor(s / stepSize!);
    if (name === 'cosine')
      return (
        minLr + ((baseLr - minLr) * (1 + Math.cos((Math.PI * Math.min(s, decaySteps)) / decaySteps))) / 2
      );
    return baseLr;
  };
}
