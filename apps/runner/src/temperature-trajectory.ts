import type { StageResult } from './run-record.js';

/**
 * One line per stage that learned its temperature (CTKD): the per-epoch mean of the learned temperature,
 * for the report (the values themselves are in run.json's history and metrics.csv's `temperature` column).
 */
export function temperatureTrajectories(stages: readonly StageResult[]): string[] {
  return stages
    .filter((s) => s.history.some((h) => h.logs.temperature !== undefined))
    .map(
      (s) =>
        `CTKD temperature of ${s.name} (seed ${s.seed}), mean per epoch: ${s.history
          .map((h) => (h.logs.temperature === undefined ? '-' : h.logs.temperature.toFixed(3)))
          .join(', ')}`,
    );
}
