import { DistillError } from '@distilljs/core';

/**
 * When a run counts as diverged (checked by {@link fit} and {@link distill}):
 * - a step's loss is not finite, or exceeds `maxLossFactor` times the loss of the run's first step
 *   (at least 1), i.e. it grew by three orders of magnitude (default factor 1000);
 * - or, with `chance` (off by default; the `distill` CLI turns it on), an epoch ends with the training accuracy at chance (at most
 *   1.1 / classes) while its mean loss is no lower than the first step's: nothing was learnt.
 * Training stops before the offending update (or before the epoch's checkpoint), so the last checkpoint
 * written is the last good one.
 */
export interface DivergenceOptions {
  /** Largest allowed loss as a multiple of max(1, first step's loss); default 1000. */
  readonly maxLossFactor?: number;
  /** Also stop when an epoch ends at chance accuracy without any fall in loss; default false. */
  readonly chance?: boolean;
}

/** Default {@link DivergenceOptions.maxLossFactor}. */
export const DIVERGENCE_LOSS_FACTOR = 1000;

/** Why a run was stopped as diverged. */
export type DivergenceReason = 'non-finite' | 'loss-bound' | 'chance';

/**
 * Training diverged: `code` is `non-finite-loss` (NaN or Infinity) or `diverged` (the loss passed its
 * bound, or accuracy stayed at chance). Carries where it happened and the last good checkpoint.
 */
export class TrainingDivergedError extends DistillError {
  override readonly name = 'TrainingDivergedError';
  readonly reason: DivergenceReason;
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  /** The last checkpoint written (a good one), as `location/name`; undefined when none was written. */
  readonly checkpoint: string | undefined;

  constructor(
    message: string,
    details: { reason: DivergenceReason; step: number; epoch: number; loss: number; checkpoint?: string },
    where: string,
  ) {
    super(message, { code: details.reason === 'non-finite' ? 'non-finite-loss' : 'diverged', where });
    this.reason = details.reason;
    this.step = details.step;
    this.epoch = details.epoch;
    this.loss = details.loss;
    this.checkpoint = details.checkpoint;
  }
}

/** @internal The per-step and per-epoch divergence checks of one run. */
export class DivergenceGuard {
  private readonly factor: number;
  private readonly chance: boolean;
  /** Loss of the run's first step (kept in checkpoints, so a resumed run keeps the same bound). */
  firstLoss: number | undefined;

  constructor(options: DivergenceOptions | false | undefined, firstLoss: number | undefined) {
    this.factor =
      options === false ? Number.POSITIVE_INFINITY : (options?.maxLossFactor ?? DIVERGENCE_LOSS_FACTOR);
    this.chance = options !== false && options?.chance === true;
    this.firstLoss = firstLoss;
  }

  /** The loss bound of this run, once the first step ran. */
  get bound(): number {
    return this.factor * Math.max(1, this.firstLoss ?? 1);
  }

  /** Why this step's loss means divergence, or undefined. */
  step(loss: number): DivergenceReason | undefined {
    if (!Number.isFinite(loss)) return 'non-finite';
    if (this.firstLoss === undefined) {
      this.firstLoss = loss;
      return undefined;
    }
    return loss > this.bound ? 'loss-bound' : undefined;
  }

  /** True when an epoch ended at chance accuracy with no fall in loss. */
  atChance(acc: number | undefined, meanLoss: number, classes: number): boolean {
    if (!this.chance || acc === undefined || classes < 2 || this.firstLoss === undefined) return false;
    return acc <= 1.1 / classes && meanLoss >= this.firstLoss;
  }
}
