/** Mean and sample standard deviation of a list of numbers (std 0 for one value). */
export interface MeanStd {
  readonly mean: number;
  readonly std: number;
  readonly n: number;
}

/** Mean and sample (n - 1) standard deviation, as papers report over seeds. */
export function meanStd(values: readonly number[]): MeanStd {
  const n = values.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0, n };
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance), n };
}

/** `12.3 ± 1.4` with `digits` decimals; a single value prints without the ± part. */
export function formatMeanStd(m: MeanStd, digits = 1): string {
  if (m.n === 0 || !Number.isFinite(m.mean)) return 'n/a';
  if (m.n === 1) return m.mean.toFixed(digits);
  return `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}`;
}
