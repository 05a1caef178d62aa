/** Scalars reported by training: `loss`, `softLoss`, `hardLoss`, `acc`, `lr`, `samplesPerSec`, ... */
export type Logs = Record<string, number>;

/** What a callback learns when training starts. */
export interface TrainBeginInfo {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** First epoch to run (non-zero when resuming). */
  readonly initialEpoch: number;
  /** Steps already done (non-zero when resuming). */
  readonly initialStep: number;
  /** Human-readable notes, such as whether the teacher-output cache is used and why. */
  readonly notes: readonly string[];
}

/**
 * Keras-style training hooks; every one optional and may be async. A hook that throws stops training
 * and the error reaches the caller (the last checkpoint stays intact).
 */
export interface TrainingCallbacks {
  onTrainBegin?(info: TrainBeginInfo): void | Promise<void>;
  onTrainEnd?(logs: Logs): void | Promise<void>;
  onEpochBegin?(epoch: number): void | Promise<void>;
  onEpochEnd?(epoch: number, logs: Logs): void | Promise<void>;
  onBatchBegin?(step: number): void | Promise<void>;
  onBatchEnd?(step: number, logs: Logs): void | Promise<void>;
  /** Free-form notes (cache decisions, checkpoint writes, warnings). */
  onMessage?(message: string): void | Promise<void>;
}

/** Calls the same hook on every callback in order. */
export async function dispatch<K extends keyof TrainingCallbacks>(
  callbacks: readonly TrainingCallbacks[],
  hook: K,
  ...args: Parameters<NonNullable<TrainingCallbacks[K]>>
): Promise<void> {
  for (const cb of callbacks) {
    const fn = cb[hook] as ((...a: unknown[]) => void | Promise<void>) | undefined;
    if (fn) await fn.apply(cb, args);
  }
}
