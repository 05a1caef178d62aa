import { invalidArgument } from '@distilljs/core';

/** Mean, standard deviation (sample, n - 1) and extremes of one metric over seeds. */
export interface SeedStatistics {
  readonly mean: number;
  readonly std: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** What {@link multiSeed} returns. */
export interface MultiSeedResult<R> {
  readonly seeds: readonly number[];
  /** Each run's own result, in seed order. */
  readonly runs: readonly R[];
  /** Per numeric metric (top-level finite numbers of each result): mean and std over seeds. */
  readonly summary: Record<string, SeedStatistics>;
}

/** @internal Sample statistics of some numbers. */
export function statistics(values: readonly number[]): SeedStatistics {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), min: Math.min(...values), max: Math.max(...values), n };
}

/**
 * Runs the same experiment once per seed (sequentially, so runs never compete for the device) and
 * reports every numeric metric as mean +- standard deviation, as papers report results over seeds.
 * `run(seed)` should build its models and data from the seed and return metrics, e.g. the result of
 * `evaluate`.
 *
 * @example
 * ```ts
 * const r = await multiSeed([1, 2, 3], async (seed) => evaluate(await train(seed), test));
 * console.log(r.summary.accuracy.mean, r.summary.accuracy.std);
 * ```
 */
export async function multiSeed<R extends object>(
  seeds: readonly number[],
  run: (seed: number) => Promise<R> | R,
): Promise<MultiSeedResult<R>> {
  if (!Array.isArray(seeds) || seeds.length === 0 || !seeds.every((s) => Number.isFinite(s))) {
    invalidArgument('multiSeed', 'seeds', 'a non-empty array of finite numbers', seeds);
  }
  if (typeof run !== 'function') invalidArgument('multiSeed', 'run', 'a function (seed) => metrics', run);
  const runs: R[] = [];
  for (const seed of seeds) runs.push(await run(seed));
  const keys = new Set<string>();
  for (const r of runs) {
    for (const [k, v] of Object.entries(r)) if (typeof v === 'number' && Number.isFinite(v)) keys.add(k);
  }
  const summary: Record<string, SeedStatistics> = {};
  for (const k of keys) {
    const values = runs
      .map((r) => (r as Record<string, unknown>)[k])
      .filter((v): v is number => typeof v === 'number');
    if (values.length === runs.length) summary[k] = statistics(values);
  }
  return { seeds: [...seeds], runs, summary };
}
