/**
 * Softmax of `logits / temperature`, in float64, shifted by the maximum so large logits do not overflow.
 * This is the soft-target distribution of Hinton et al. (2015), eq. 1, for one example.
 */
export function temperatureSoftmax(logits: ArrayLike<number>, temperature: number): number[] {
  if (!(temperature > 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`temperatureSoftmax: temperature must be a finite number > 0, got ${temperature}`);
  }
  if (logits.length === 0) return [];
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]! / temperature);
  const exps = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i]! / temperature - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** One bar of the probability chart. */
export interface Bar {
  readonly classIndex: number;
  readonly label: string;
  readonly probability: number;
  /** Height in percent of the bar area. */
  readonly heightPct: number;
  /** The text shown over the bar, e.g. `93.1%`, `0.04%`, `<0.01%`. */
  readonly text: string;
  readonly isTop: boolean;
}

/** Formats a probability so small dark-knowledge values stay readable. */
export function formatProbability(p: number): string {
  if (p >= 0.1) return `${(p * 100).toFixed(1)}%`;
  if (p >= 0.0001) return `${(p * 100).toPrecision(2)}%`;
  return '<0.01%';
}

/**
 * The bars for one distribution. `scale: 'linear'` draws heights proportional to probability; `'log'`
 * maps [1e-6, 1] onto [0, 100]% so the tiny probabilities of wrong classes (the dark knowledge at
 * T = 1) are visible.
 */
export function barValues(
  probabilities: readonly number[],
  labels: readonly string[],
  scale: 'linear' | 'log' = 'linear',
): Bar[] {
  let top = 0;
  probabilities.forEach((p, i) => {
    if (p > probabilities[top]!) top = i;
  });
  const floor = 1e-6;
  return probabilities.map((p, i) => {
    const h =
      scale === 'linear'
        ? p * 100
        : (Math.max(0, Math.log10(Math.max(p, floor)) - Math.log10(floor)) / 6) * 100;
    return {
      classIndex: i,
      label: labels[i] ?? String(i),
      probability: p,
      heightPct: Math.min(100, Math.max(0, h)),
      text: formatProbability(p),
      isTop: i === top,
    };
  });
}

/** Shannon entropy in bits: how soft a distribution is (0 for one-hot, log2(10) ~ 3.32 for uniform). */
export function entropyBits(probabilities: readonly number[]): number {
  return probabilities.reduce((h, p) => (p > 0 ? h - p * Math.log2(p) : h), 0);
}
