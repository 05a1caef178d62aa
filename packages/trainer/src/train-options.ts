import type { BatchStream, TrainingCallbacks } from '@distilljs/core';
import type { CheckpointStore } from './checkpoint-store.js';
import type { DivergenceOptions } from './divergence.js';
import type { EarlyStoppingOptions } from './early-stopping.js';
import type { OptimizerSpec } from './optimizer.js';
import type { ScheduleSpec } from './schedule.js';
import type { TrainingController } from './training-controller.js';

/** Where and how often to checkpoint. */
export interface CheckpointOptions {
  /**
   * Where to write: `new MemoryCheckpointStore()`, `new FileCheckpointStore(dir)` from
   * `@distilljs/trainer/node`, or your own (e.g. IndexedDB) implementation.
   */
  readonly store?: CheckpointStore;
  /**
   * Node only: a directory, shortcut for `store: new FileCheckpointStore(dir)` (the file store is loaded
   * on demand, so browser bundles that never pass `dir` do not need node:fs).
   */
  readonly dir?: string;
  /** Also write every N steps (always at the end of each epoch and when stopped). */
  readonly everySteps?: number;
  /** How many recent checkpoints to keep; default 2. */
  readonly keep?: number;
}

/** Options shared by {@link fit} and {@link distill}. */
export interface TrainOptions {
  /** Number of epochs (an integer >= 1). */
  readonly epochs: number;
  /** Optimiser name or configuration; default `'adam'` (lr 1e-3). */
  readonly optimizer?: OptimizerSpec;
  /** Learning-rate schedule; default constant. */
  readonly schedule?: ScheduleSpec;
  /** Clip gradients to this global L2 norm. */
  readonly clipGradNorm?: number;
  /**
   * Seed of the run's generator, which draws the dropout (and other noise-layer) seeds of every step.
   * Build the model and the BatchStream from the same seed to make the whole run a function of it.
   * Default 0.
   */
  readonly seed?: number;
  /** Keras-style hooks, one object or several. */
  readonly callbacks?: TrainingCallbacks | readonly TrainingCallbacks[];
  /** Evaluated at the end of every epoch (`val_loss` = NLL, `val_acc`, `val_ece`, `val_errors`). */
  readonly validation?: BatchStream;
  readonly checkpoint?: CheckpointOptions;
  /** Continue from the newest checkpoint in `checkpoint`'s store when there is one. */
  readonly resume?: boolean;
  /** Await a macrotask every N steps so a browser page stays responsive. */
  readonly yieldEvery?: number;
  /** Stop when a monitored metric stops improving. */
  readonly earlyStopping?: EarlyStoppingOptions;
  /** Picks the best epoch when there is no early stopping; default as in {@link EarlyStoppingOptions}. */
  readonly monitor?: Pick<EarlyStoppingOptions, 'monitor' | 'mode'>;
  /**
   * When to stop a run as diverged ({@link TrainingDivergedError}); `false` checks only for a non-finite
   * loss. Default: a loss above 1000 x the first step's; `{ chance: true }` adds an epoch at chance accuracy
   * with no fall in loss.
   */
  readonly divergence?: DivergenceOptions | false;
  /** Stop from outside: `controller.stop()`. */
  readonly controller?: TrainingController;
}
