import type { CollectedLogits } from './logits.js';

/** Errors of a classifier overall and on one class, with that class's logit raised by `bias`. */
export interface BiasErrors {
  readonly bias: number;
  readonly errors: number;
  readonly classErrors: number;
  readonly classCount: number;
  readonly count: number;
}

/** Counts errors (overall and on class `k`) after adding `bias` to logit `k`. */
export function errorsWithBias(data: CollectedLogits, k: number, bias: number): BiasErrors {
  const { logits, labels, numClasses, count } = data;
  let errors = 0;
  let classErrors = 0;
  let classCount = 0;
  for (let i = 0; i < count; i++) {
    let pred = 0;
    let best = -Infinity;
    for (let c = 0; c < numClasses; c++) {
      const v = logits[i * numClasses + c]! + (c === k ? bias : 0);
      if (v > best) {
        best = v;
        pred = c;
      }
    }
    const wrong = pred !== labels[i];
    if (wrong) errors++;
    if (labels[i] === k) {
      classCount++;
      if (wrong) classErrors++;
    }
  }
  return { bias, errors, classErrors, classCount, count };
}

/** The bias grid searched: 0 to `max` in steps of `step`. */
export function biasGrid(max = 10, step = 0.1): number[] {
  return Array.from({ length: Math.round(max / step) + 1 }, (_, i) => Math.round(i * step * 1000) / 1000);
}

/** The bias in `grid` with the fewest errors on `data` (the smallest such bias on ties). */
export function bestBias(data: CollectedLogits, k: number, grid: readonly number[] = biasGrid()): BiasErrors {
  let best: BiasErrors | undefined;
  for (const b of grid) {
    const e = errorsWithBias(data, k, b);
    if (!best || e.errors < best.errors) best = e;
  }
  return best!;
}
