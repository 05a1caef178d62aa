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
