/** A wrong class and how much probability the teacher gives it. */
export interface SimilarClass {
  readonly classIndex: number;
  readonly label: string;
  readonly probability: number;
}

/**
 * The `k` classes other than `exclude` with the highest probability, highest first (ties by class
 * index). For one digit, these are the classes the teacher thinks it resembles: a 7 that is a bit like
 * a 1 and a 2.
 */
export function topSimilarClasses(
  probabilities: readonly number[],
  exclude: number,
  labels: readonly string[],
  k = 3,
): SimilarClass[] {
  return probabilities
    .map((p, i) => ({ classIndex: i, label: labels[i] ?? String(i), probability: p }))
    .filter((c) => c.classIndex !== exclude)
    .sort((a, b) => b.probability - a.probability || a.classIndex - b.classIndex)
    .slice(0, Math.max(0, k));
}

/** A pair of classes the teacher confuses, averaged over a set of examples. */
export interface SimilarPair {
  readonly trueClass: number;
  readonly similarClass: number;
  readonly trueLabel: string;
  readonly similarLabel: string;
  /** Mean probability of `similarClass` over the examples labelled `trueClass`. */
  readonly meanProbability: number;
}

/**
 * Over many examples: for each true class, the mean soft-target distribution, then the `k` largest
 * off-diagonal entries. This is the class-similarity structure the student learns from.
 * `probabilities` is row-major `[n, numClasses]`.
 */
export function similarClassPairs(
  probabilities: ArrayLike<number>,
  labels: ArrayLike<number>,
  numClasses: number,
  classLabels: readonly string[],
  k = 5,
): SimilarPair[] {
  const n = labels.length;
  if (probabilities.length !== n * numClasses) {
    throw new RangeError(
      `similarClassPairs: probabilities has ${probabilities.length} values, expected ${n} x ${numClasses}`,
    );
  }
  const sums = new Float64Array(numClasses * numClasses);
  const counts = new Float64Array(numClasses);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (y < 0 || y >= numClasses) continue;
    counts[y]! += 1;
    for (let c = 0; c < numClasses; c++) sums[y * numClasses + c]! += probabilities[i * numClasses + c]!;
  }
  const pairs: SimilarPair[] = [];
  for (let y = 0; y < numClasses; y++) {
    if (counts[y] === 0) continue;
    for (let c = 0; c < numClasses; c++) {
      if (c === y) continue;
      pairs.push({
        trueClass: y,
        similarClass: c,
        trueLabel: classLabels[y] ?? String(y),
        similarLabel: classLabels[c] ?? String(c),
        meanProbability: sums[y * numClasses + c]! / counts[y]!,
      });
    }
  }
  return pairs
    .sort(
      (a, b) =>
        b.meanProbability - a.meanProbability || a.trueClass - b.trueClass || a.similarClass - b.similarClass,
    )
    .slice(0, k);
}
