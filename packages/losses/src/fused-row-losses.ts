/**
 * @internal Fused forms of the per-example logit losses for the cpu and wasm backends, where the logits
 * already live in CPU memory: the value and the student gradient in one float64 pass over the rows,
 * instead of tens of small tensor ops forward and backward (each with its dispatch cost). The composed
 * tensor forms stay for the other backends; the tests check both agree.
 */
import * as tf from '@tensorflow/tfjs-core';
import { LOGIT_STANDARDIZATION_EPS } from './logit-standardization.js';

/** Backends whose tensors live in CPU memory, where reading the logits back costs nothing. */
export const FUSED_BACKENDS: readonly string[] = ['cpu', 'wasm'];

/** True when the fused forms run on the current backend. */
export function fusedHere(): boolean {
  return FUSED_BACKENDS.includes(tf.getBackend());
}

/** One row's loss: adds its value's share to the return value and its gradient into `g`. */
type RowLoss = (s: Float64Array, t: Float64Array, row: number, g: Float64Array) => number;

/** Wraps a row loss into a scalar op `mean over rows` whose gradient flows to `s` only. */
function fused(s: tf.Tensor, t: tf.Tensor, rowLoss: RowLoss): tf.Scalar {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [st, tt] = args as [tf.Tensor, tf.Tensor];
    const [B, C] = st.shape as [number, number];
    const sv = tf.backend().readSync(st.dataId) as Float32Array;
    const tv = tf.backend().readSync(tt.dataId) as Float32Array;
    const grad = new Float32Array(B * C);
    const srow = new Float64Array(C);
    const trow = new Float64Array(C);
    const g = new Float64Array(C);
    let value = 0;
    for (let i = 0; i < B; i++) {
      for (let c = 0; c < C; c++) {
        srow[c] = sv[i * C + c]!;
        trow[c] = tv[i * C + c]!;
      }
      g.fill(0);
      value += rowLoss(srow, trow, i, g);
      for (let c = 0; c < C; c++) grad[i * C + c] = g[c]! / B;
    }
    return {
      value: tf.scalar(value / B),
      gradFunc: (dy: tf.Tensor) => [tf.mul(tf.tensor2d(grad, [B, C]), dy), tf.zerosLike(tt)],
    };
  });
  return op(s, t) as tf.Scalar;
}

/** log softmax of `z / T` over the entries where `keep` (all when undefined); others set to -Infinity. */
export function logSoftmax(z: Float64Array, T: number, skip = -1): Float64Array {
  const out = new Float64Array(z.length);
  let m = -Infinity;
  for (let c = 0; c < z.length; c++) if (c !== skip) m = Math.max(m, z[c]! / T);
  let sum = 0;
  for (let c = 0; c < z.length; c++) if (c !== skip) sum += Math.exp(z[c]! / T - m);
  const lse = m + Math.log(sum);
  for (let c = 0; c < z.length; c++) out[c] = c === skip ? -Infinity : z[c]! / T - lse;
  return out;
}

/** The z-score of a row (unbiased std floored as in `standardize`), with what its backward pass needs. */
function standardizeRow(z: Float64Array): { x: Float64Array; d: Float64Array; sigma: number } {
  const C = z.length;
  let mean = 0;
  for (const v of z) mean += v / C;
  const d = z.map((v) => v - mean);
  let ss = 0;
  for (const v of d) ss += v * v;
  const sigma = Math.sqrt(Math.max(ss / (C - 1), 1e-30));
  return { x: d.map((v) => v / (sigma + LOGIT_STANDARDIZATION_EPS)), d, sigma };
}

/** `dL/dz` from `dL/dz'` through the z-score (`g` is overwritten). */
function standardizeBackward(g: Float64Array, d: Float64Array, sigma: number): void {
  const C = g.length;
  const k = sigma + LOGIT_STANDARDIZATION_EPS;
  let mean = 0;
  let dot = 0;
  for (let c = 0; c < C; c++) {
    mean += g[c]! / C;
    dot += g[c]! * d[c]!;
  }
  const floored = sigma * sigma * (C - 1) <= 1e-30 * (C - 1);
  for (let c = 0; c < C; c++) {
    g[c] = (g[c]! - mean) / k - (floored ? 0 : (dot * d[c]!) / (k * k * (C - 1) * sigma));
  }
}

/** `T^2 KL(softmax(t/T) || softmax(s/T))` of one row, its gradient `T (p_s - p_t)` into `g`. */
export function kdRow(s: Float64Array, t: Float64Array, T: number, g: Float64Array): number {
  const ls = logSoftmax(s, T);
  const lt = logSoftmax(t, T);
  let kl = 0;
  for (let c = 0; c < s.length; c++) {
    const pt = Math.exp(lt[c]!);
    if (pt > 0) kl += pt * (lt[c]! - ls[c]!);
    g[c] = g[c]! + T * (Math.exp(ls[c]!) - pt);
  }
  return T * T * kl;
}

/** KD on standardised logits (Sun et al. 2024), fused. */
export function kdStandardizedFused(s: tf.Tensor, t: tf.Tensor, T: number): tf.Scalar {
  return fused(s, t, (sr, tr, _i, g) => {
    const a = standardizeRow(sr);
    const b = standardizeRow(tr);
    const v = kdRow(a.x, b.x, T, g);
    standardizeBackward(g, a.d, a.sigma);
    return v;
  });
}

/** `alpha * TCKD + beta * NCKD` (each T^2-scaled), optionally on standardised logits, fused. */
export function dkdFused(
  s: tf.Tensor,
  t: tf.Tensor,
  ids: Int32Array,
  T: number,
  alpha: number,
  beta: number,
  standardized: boolean,
): tf.Scalar {
  return fused(s, t, (s0, t0, i, g) => {
    const a = standardized ? standardizeRow(s0) : undefined;
    const sr = a ? a.x : s0;
    const tr = standardized ? standardizeRow(t0).x : t0;
    const y = ids[i]!;
    const ls = logSoftmax(sr, T);
    const lt = logSoftmax(tr, T);
    // TCKD: KL between [p_g, 1 - p_g] of teacher and student, in log space
    const lqs = logSoftmax(sr, T, y);
    const lqt = logSoftmax(tr, T, y);
    const restS = logRest(sr, T, y, ls[y]!);
    const restT = logRest(tr, T, y, lt[y]!);
    const pgT = Math.exp(lt[y]!);
    const rT = Math.exp(restT);
    const tckd = (pgT > 0 ? pgT * (lt[y]! - ls[y]!) : 0) + (rT > 0 ? rT * (restT - restS) : 0);
    // d TCKD / d s_c = T [-pgT (delta_cy - p_c) - rT ((1 - delta_cy) q_c - p_c)], from d log p_g and d log(1 - p_g)
    let nckd = 0;
    for (let c = 0; c < sr.length; c++) {
      const ps = Math.exp(ls[c]!);
      const qs = c === y ? 0 : Math.exp(lqs[c]!);
      const target = c === y ? 1 : 0;
      g[c] = g[c]! + alpha * T * (-pgT * (target - ps) - rT * (qs - ps));
      if (c === y) continue;
      const qt = Math.exp(lqt[c]!);
      if (qt > 0) nckd += qt * (lqt[c]! - lqs[c]!);
      g[c] = g[c]! + beta * T * (qs - qt);
    }
    if (a) standardizeBackward(g, a.d, a.sigma);
    return T * T * (alpha * tckd + beta * nckd);
  });
}

/** `log(1 - p_g) = logsumexp_{k != g}(z_k / T) - logsumexp_k(z_k / T)`, from `log p_g`. */
function logRest(z: Float64Array, T: number, y: number, logPg: number): number {
  let m = -Infinity;
  for (let c = 0; c < z.length; c++) if (c !== y) m = Math.max(m, z[c]! / T);
  let sum = 0;
  for (let c = 0; c < z.length; c++) if (c !== y) sum += Math.exp(z[c]! / T - m);
  const lseOthers = m + Math.log(sum);
  return lseOthers - (z[y]! / T - logPg);
}

/** NKD (paper form), fused. */
export function nkdFused(s: tf.Tensor, t: tf.Tensor, ids: Int32Array, T: number, gamma: number): tf.Scalar {
  return fused(s, t, (sr, tr, i, g) => {
    const y = ids[i]!;
    const ls1 = logSoftmax(sr, 1);
    const pt1 = Math.exp(logSoftmax(tr, 1)[y]!);
    let value = -pt1 * ls1[y]!;
    for (let c = 0; c < sr.length; c++) g[c] = g[c]! - pt1 * ((c === y ? 1 : 0) - Math.exp(ls1[c]!));
    const lqs = logSoftmax(sr, T, y);
    const lqt = logSoftmax(tr, T, y);
    for (let c = 0; c < sr.length; c++) {
      if (c === y) continue;
      const qt = Math.exp(lqt[c]!);
      value -= gamma * T * T * qt * lqs[c]!;
      g[c] = g[c]! + gamma * T * (Math.exp(lqs[c]!) - qt);
    }
    return value;
  });
}

/**
 * TTM (or WTTM), fused: `w KL(softmax(t/T) || softmax(s))` of one row, its gradient `w (p_s - p_t)`, with
 * `w = 1` for TTM and `w = exp(logsumexp_c(log softmax(t)_c / T))` for WTTM.
 */
export function ttmFused(s: tf.Tensor, t: tf.Tensor, T: number, weightedForm: boolean): tf.Scalar {
  return fused(s, t, (sr, tr, _i, g) => {
    const ls = logSoftmax(sr, 1);
    const lt = logSoftmax(tr, T);
    let w = 1;
    if (weightedForm) {
      const l1 = logSoftmax(tr, 1);
      let m = -Infinity;
      for (let c = 0; c < l1.length; c++) m = Math.max(m, l1[c]! / T);
      let sum = 0;
      for (let c = 0; c < l1.length; c++) sum += Math.exp(l1[c]! / T - m);
      w = Math.exp(m + Math.log(sum));
    }
    let kl = 0;
    for (let c = 0; c < sr.length; c++) {
      const pt = Math.exp(lt[c]!);
      if (pt > 0) kl += pt * (lt[c]! - ls[c]!);
      g[c] = g[c]! + w * (Math.exp(ls[c]!) - pt);
    }
    return w * kl;
  });
}

/**
 * One row's cross-entropy against `q = (1 - eps) one-hot(id) + eps / C`: returns `-sum_c q_c log p_c` and
 * writes `scale (p - q)` into `grad` from `offset`.
 */
export function crossEntropyRow(
  row: Float64Array,
  id: number,
  eps: number,
  scale: number,
  grad: Float32Array,
  offset: number,
): number {
  const C = row.length;
  const logP = logSoftmax(row, 1);
  let value = 0;
  for (let c = 0; c < C; c++) {
    const q = (c === id ? 1 - eps : 0) + eps / C;
    value -= q * logP[c]!;
    grad[offset + c] = (Math.exp(logP[c]!) - q) * scale;
  }
  return value;
}

/**
 * The cross-entropy with class ids (negative ids: unlabelled rows, left out of the mean), label smoothing
 * `eps` in PyTorch's convention, as one fused op: `-sum_c q_c log p_c` averaged over the labelled rows, its
 * gradient `(p - q) / labelled`, with `q = (1 - eps) one-hot + eps / C`. The registry's hard term on cpu
 * and wasm (some fifteen small tensor ops forward and backward otherwise).
 */
export function crossEntropyIdsFused(
  s: tf.Tensor,
  ids: Int32Array,
  labelled: number,
  eps: number,
): tf.Scalar {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [st] = args as [tf.Tensor];
    const [B, C] = st.shape as [number, number];
    const sv = tf.backend().readSync(st.dataId) as Float32Array;
    const grad = new Float32Array(B * C);
    const row = new Float64Array(C);
    const perLabel = 1 / Math.max(labelled, 1);
    let value = 0;
    for (let i = 0; i < B; i++) {
      const id = ids[i]!;
      if (id < 0) continue;
      for (let c = 0; c < C; c++) row[c] = sv[i * C + c]!;
      value += crossEntropyRow(row, id, eps, perLabel, grad, i * C);
    }
    return {
      value: tf.scalar(value * perLabel),
      gradFunc: (dy: tf.Tensor) => tf.mul(tf.tensor2d(grad, [B, C]), dy),
    };
  });
  return op(s) as tf.Scalar;
}

/**
 * Pearson's r of `a` and `b` (length n, strided views into row-major arrays), as the composed ops compute it
 * (`sum(ac bc) / (max(||ac||, 1e-15) max(||bc||, 1e-15) + 1e-8)` with centred ac, bc), and `dr/da` into `ga`
 * at the same stride, scaled by `w`.
 */
function pearsonInto(
  a: Float64Array,
  b: Float64Array,
  start: number,
  stride: number,
  n: number,
  w: number,
  ga: Float64Array,
): number {
  let ma = 0;
  let mb = 0;
  for (let k = 0; k < n; k++) {
    ma += a[start + k * stride]! / n;
    mb += b[start + k * stride]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let k = 0; k < n; k++) {
    const x = a[start + k * stride]! - ma;
    const y = b[start + k * stride]! - mb;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  const na = Math.sqrt(Math.max(saa, 1e-30));
  const nb = Math.sqrt(Math.max(sbb, 1e-30));
  const d = na * nb + 1e-8;
  const r = sab / d;
  // dr/da_k = bc_k / d - r nb ac_k / (na d), the norm's term absent where the floor holds
  const normTerm = saa > 1e-30 ? (r * nb) / (na * d) : 0;
  for (let k = 0; k < n; k++) {
    const x = a[start + k * stride]! - ma;
    const y = b[start + k * stride]! - mb;
    ga[start + k * stride] = ga[start + k * stride]! + w * (y / d - normTerm * x);
  }
  return r;
}

/** DIST (Huang et al. 2022), fused: the inter-class (rows) and intra-class (columns) relations at once. */
export function distFused(s: tf.Tensor, t: tf.Tensor, T: number, beta: number, gamma: number): tf.Scalar {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [st, tt] = args as [tf.Tensor, tf.Tensor];
    const [B, C] = st.shape as [number, number];
    const sv = tf.backend().readSync(st.dataId) as Float32Array;
    const tv = tf.backend().readSync(tt.dataId) as Float32Array;
    const ps = new Float64Array(B * C);
    const pt = new Float64Array(B * C);
    const row = new Float64Array(C);
    for (let i = 0; i < B; i++) {
      for (let c = 0; c < C; c++) row[c] = sv[i * C + c]!;
      const ls = logSoftmax(row, T);
      for (let c = 0; c < C; c++) row[c] = tv[i * C + c]!;
      const lt = logSoftmax(row, T);
      for (let c = 0; c < C; c++) {
        ps[i * C + c] = Math.exp(ls[c]!);
        pt[i * C + c] = Math.exp(lt[c]!);
      }
    }
    const scale = T * T;
    const g = new Float64Array(B * C); // d value / d p_s
    let inter = 0;
    for (let i = 0; i < B; i++) inter += pearsonInto(ps, pt, i * C, 1, C, (-scale * beta) / B, g);
    let intra = 0;
    for (let c = 0; c < C; c++) intra += pearsonInto(ps, pt, c, C, B, (-scale * gamma) / C, g);
    const value = scale * (beta * (1 - inter / B) + gamma * (1 - intra / C));
    // through the softmax at T: dL/ds = p (g - <g, p>) / T
    const grad = new Float32Array(B * C);
    for (let i = 0; i < B; i++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += g[i * C + c]! * ps[i * C + c]!;
      for (let c = 0; c < C; c++) grad[i * C + c] = (ps[i * C + c]! * (g[i * C + c]! - dot)) / T;
    }
    return {
      value: tf.scalar(value),
      gradFunc: (dy: tf.Tensor) => [tf.mul(tf.tensor2d(grad, [B, C]), dy), tf.zerosLike(tt)],
    };
  });
  return op(s, t) as tf.Scalar;
}
