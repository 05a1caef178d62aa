import type { FeatureSplit, Standardization } from '@distilljs/core';
import { InvalidArgumentError, invalidArgument } from '@distilljs/core';

/**
 * Per-feature mean and standard deviation (population, as sklearn's StandardScaler) of a training split.
 * A feature that never varies cannot be standardised: the error names it (by `names[j]` when given) and
 * says to drop it.
 */
export function fitStandardization(
  split: FeatureSplit,
  featureCount: number,
  names?: readonly string[],
): Standardization {
  const { features, count } = split;
  if (count === 0) invalidArgument('fitStandardization', 'split', 'at least one example', count);
  const mean = new Float64Array(featureCount);
  const sq = new Float64Array(featureCount);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < featureCount; j++) mean[j]! += features[i * featureCount + j] as number;
  }
  for (let j = 0; j < featureCount; j++) mean[j]! /= count;
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < featureCount; j++) {
      const d = (features[i * featureCount + j] as number) - (mean[j] as number);
      sq[j]! += d * d;
    }
  }
  const std = Array.from(sq, (s) => Math.sqrt(s / count));
  const flat = std.findIndex((s) => !(s > 0));
  if (flat >= 0) {
    const name = names?.[flat] ?? `feature ${flat}`;
    throw new InvalidArgumentError(
      `column ${JSON.stringify(name)} has the same value (${mean[flat]}) in every training row, so it cannot be standardised; drop the column, or load without standardisation (standardize: false, --no-standardize)`,
      { where: name },
    );
  }
  return { mean: Array.from(mean), std };
}

/** Applies `(x - mean) / std` per feature to rows of `mean.length` values, returning a new array. */
export function applyStandardization(values: Float32Array, stats: Standardization): Float32Array {
  const d = stats.mean.length;
  if (stats.std.length !== d || values.length % d !== 0) {
    invalidArgument(
      'applyStandardization',
      'values',
      `rows of ${d} features (mean and std of length ${d})`,
      values,
    );
  }
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const j = i % d;
    out[i] = ((values[i] as number) - (stats.mean[j] as number)) / (stats.std[j] as number);
  }
  return out;
}
