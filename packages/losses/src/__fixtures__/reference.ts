/** Plain float64 reference implementations (test support, not published), written from the formulas. */

export function logSoftmax(row: readonly number[], temperature = 1): number[] {
  const x = row.map((v) => v / temperature);
  const m = Math.max(...x);
  const lse = m + Math.log(x.reduce((acc, v) => acc + Math.exp(v - m), 0));
  return x.map((v) => v - lse);
}

/** T^2 * KL(softmax(t/T) || softmax(s/T)) for one row. */
export function kdRow(s: readonly number[], t: readonly number[], temperature: number): number {
  const ls = logSoftmax(s, temperature);
  const lt = logSoftmax(t, temperature);
  let kl = 0;
  for (let i = 0; i < s.length; i++) kl += Math.exp(lt[i]!) * (lt[i]! - ls[i]!);
  return kl * temperature * temperature;
}

/** kdLoss with batchmean reduction. */
export function kd(s: readonly number[][], t: readonly number[][], temperature: number): number {
  return s.reduce((acc, row, i) => acc + kdRow(row, t[i]!, temperature), 0) / s.length;
}

/** Reshapes a flat array into rows of `cols`. */
export function rows(flat: readonly number[], cols: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < flat.length; i += cols) out.push(flat.slice(i, i + cols));
  return out;
}

/**
 * Absolute error floor of a T^2-scaled KL computed in float32: each log-probability carries about one
 * ulp of logsumexp(z / T) (magnitude max|z| / T + log C), and the result is scaled by T^2. PyTorch in
 * float32 has the same floor; the golden values are checked with the plain 1e-5 absolute tolerance.
 */
export function float32KlFloor(maxAbsLogit: number, temperature: number, classes: number): number {
  return 4 * 2 ** -23 * (maxAbsLogit / temperature + Math.log(classes) + 1) * temperature * temperature;
}

/** Largest |value| in a matrix. */
export function maxAbs(m: readonly number[][]): number {
  return Math.max(0, ...m.flat().map(Math.abs));
}
