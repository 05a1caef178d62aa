import { ConfigError, describeValue, type TrainingCallbacks } from '@distilljs/core';
import type { TrainingController } from './training-controller.js';

/**
 * Early stopping (Keras `EarlyStopping`): stop when `monitor` has not improved by more than
 * `minDelta` for `patience` epochs. The same monitor picks the history's best epoch.
 */
export interface EarlyStoppingOptions {
  /** An epoch log key: `val_loss` (default with validation), `val_acc`, `loss` (default without), ... */
  readonly monitor?: string;
  /** `min` for losses, `max` for accuracies; default: `max` when the key ends in `acc`/`accuracy`. */
  readonly mode?: 'min' | 'max';
  /** Epochs without improvement before stopping; default 3. */
  readonly patience?: number;
  /** Smallest change that counts as an improvement; default 0. */
  readonly minDelta?: number;
}

/** Which epoch is best and whether to stop: the state is plain numbers so checkpoints carry it. */
export interface MonitorState {
  best: number | null;
  bestEpoch: number;
  wait: number;
}

/** @internal Resolved early stopping / best-epoch tracking. */
export class MetricMonitor {
  readonly monitor: string;
  readonly mode: 'min' | 'max';
  readonly patience: number;
  readonly minDelta: number;
  state: MonitorState = { best: null, bestEpoch: -1, wait: 0 };

  constructor(
    opts: EarlyStoppingOptions | undefined,
    hasValidation: boolean,
    readonly stops: boolean,
  ) {
    this.monitor = opts?.monitor ?? (hasValidation ? 'val_loss' : 'loss');
    if (typeof this.monitor !== 'string') {
      throw new ConfigError(
        `earlyStopping: 'monitor' must be a log key such as 'val_loss', got ${describeValue(opts?.monitor)}`,
        {
          where: 'earlyStopping.monitor',
        },
      );
    }
    if (this.monitor.startsWith('val_') && !hasValidation) {
      throw new ConfigError(`earlyStopping: monitor '${this.monitor}' needs the 'validation' option`, {
        where: 'earlyStopping.monitor',
      });
    }
    this.mode = opts?.mode ?? (/acc(uracy)?$/.test(this.monitor) ? 'max' : 'min');
    if (this.mode !== 'min' && this.mode !== 'max') {
      throw new ConfigError(`earlyStopping: 'mode' must be 'min' or 'max', got ${describeValue(this.mode)}`, {
        where: 'earlyStopping.mode',
      });
    }
    this.patience = opts?.patience ?? 3;
    if (!Number.isInteger(this.patience) || this.patience < 0) {
      throw new ConfigError(
        `earlyStopping: 'patience' must be an integer >= 0, got ${describeValue(this.patience)}`,
        {
          where: 'earlyStopping.patience',
        },
      );
    }
    this.minDelta = opts?.minDelta ?? 0;
    if (!Number.isFinite(this.minDelta) || this.minDelta < 0) {
      throw new ConfigError(
        `earlyStopping: 'minDelta' must be a number >= 0, got ${describeValue(this.minDelta)}`,
        {
          where: 'earlyStopping.minDelta',
        },
      );
    }
  }

  /** Records an epoch's logs; returns true when training should stop. */
  update(epoch: number, logs: Record<string, number>): boolean {
    const v = logs[this.monitor];
    if (v === undefined || !Number.isFinite(v)) return false;
    const s = this.state;
    const better =
      s.best === null || (this.mode === 'min' ? v < s.best - this.minDelta : v > s.best + this.minDelta);
    if (better) {
      this.state = { best: v, bestEpoch: epoch, wait: 0 };
    } else {
      this.state = { ...s, wait: s.wait + 1 };
    }
    return this.stops && this.state.wait > this.patience - 1 && !better;
  }

  /** True when a restored state already asked to stop. */
  exhausted(): boolean {
    return this.stops && this.state.wait > 0 && this.state.wait >= this.patience;
  }
}

/**
 * Early stopping as a Keras-style callback: when `monitor` has not improved for `patience` epochs it
 * calls `controller.stop()`, and the run (given the same `controller`) ends after that epoch. The
 * `earlyStopping` option of `fit`/`distill` does the same and also keeps its state in checkpoints; use
 * this form to combine several stopping rules or to stop other loops.
 *
 * @example
 * ```ts
 * const controller = new TrainingController();
 * await fit(model, data, { epochs: 50, validation, controller,
 *   callbacks: [earlyStoppingCallback(controller, { monitor: 'val_acc', patience: 5 })] });
 * ```
 */
export function earlyStoppingCallback(
  controller: TrainingController,
  options: EarlyStoppingOptions & { readonly monitor: string },
): TrainingCallbacks & { readonly state: () => MonitorState } {
  if (!controller || typeof controller.stop !== 'function') {
    throw new ConfigError("earlyStoppingCallback: argument 'controller' must be a TrainingController", {
      where: 'earlyStoppingCallback(controller)',
    });
  }
  const monitor = new MetricMonitor(options, true, true);
  return {
    state: () => ({ ...monitor.state }),
    onEpochEnd(epoch, logs) {
      if (monitor.update(epoch, logs)) {
        controller.stop(
          `early stopping after epoch ${epoch}: '${monitor.monitor}' has not improved for ${monitor.patience} epochs`,
        );
      }
    },
  };
}
