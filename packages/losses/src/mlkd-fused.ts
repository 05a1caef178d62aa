import * as tf from '@tensorflow/tfjs-core';

/**
 * @internal MLKD's soft term in one fused step for the cpu and wasm backends: the value and the student
 * gradient of `sum_T [instance_T + class_T + batch_T]` (masked as in `mlkdValue`, without logit
 * standardisation) computed in one float64 pass over the logits, instead of some 40 tensor ops per
 * temperature (each with its dispatch cost, forward and backward). The teacher gets no gradient.
 */
export function mlkdFused(
  s: tf.Tensor,
  t: tf.Tensor,
  temperatures: readonly number[],
  mask: boolean,
): tf.Scalar {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [st, tt] = args as [tf.Tensor, tf.Tensor];
    const [B, C] = st.shape as [number, number];
    const teacher = tf.backend().readSync(tt.dataId) as Float32Array;
    const masks = mask ? confidenceMasks64(teacher, B, C) : { m: ones(B), n: ones(C) };
    const { value, grad } = mlkdValueAndGrad(
      tf.backend().readSync(st.dataId) as Float32Array,
      teacher,
      B,
      C,
      temperatures,
      masks.m,
      masks.n,
    );
    return {
      value: tf.scalar(value),
      gradFunc: (dy: tf.Tensor) => [
        tf.mul(tf.tensor2d(Float32Array.from(grad), [B, C]), dy),
        tf.zerosLike(tt),
      ],
    };
  });
  return op(s, t) as tf.Scalar;
}

function softmaxRows(
  z: ArrayLike<number>,
  B: number,
  C: number,
  T: number,
): { p: Float64Array; logp: Float64Array } {
  const p = new Float64Array(B * C);
  const logp = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, z[i * C + c]! / T);
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(z[i * C + c]! / T - m);
    const lse = m + Math.log(sum);
    for (let c = 0; c < C; c++) {
      logp[i * C + c] = z[i * C + c]! / T - lse;
      p[i * C + c] = Math.exp(logp[i * C + c]!);
    }
  }
  return { p, logp };
}

/** @internal The fused value and `d value / d s` (exported for the tests). */
export function mlkdValueAndGrad(
  s: ArrayLike<number>,
  t: ArrayLike<number>,
  B: number,
  C: number,
  temperatures: readonly number[],
  m: Float64Array,
  n: Float64Array,
  batchForm: 'auto' | 'pairs' | 'gram' = 'auto',
): { value: number; grad: Float64Array } {
  const grad = new Float64Array(B * C);
  let value = 0;
  const g = new Float64Array(B * C); // d value / d P_s at one temperature
  for (const T of temperatures) {
    const S = softmaxRows(s, B, C, T);
    const P = softmaxRows(t, B, C, T);
    g.fill(0);
    // instance level: (1/B) sum_i m_i T^2 KL(p_t,i || p_s,i); its logit gradient is m_i T (p_s - p_t) / B
    for (let i = 0; i < B; i++) {
      if (m[i] === 0) continue;
      let kl = 0;
      for (let c = 0; c < C; c++) {
        const k = i * C + c;
        if (P.p[k]! > 0) kl += P.p[k]! * (P.logp[k]! - S.logp[k]!);
        grad[k] = grad[k]! + (m[i]! * T * (S.p[k]! - P.p[k]!)) / B;
      }
      value += (m[i]! * T * T * kl) / B;
    }
    // class level: sum_{a,b} n_b (Gt - Gs)_ab^2 / C, G = P^T P; dL/dPs = Ps (W + W^T), W_ab = -2 n_b D_ab / C
    const W = new Float64Array(C * C);
    for (let a = 0; a < C; a++) {
      for (let b = a; b < C; b++) {
        let d = 0;
        for (let i = 0; i < B; i++)
          d += P.p[i * C + a]! * P.p[i * C + b]! - S.p[i * C + a]! * S.p[i * C + b]!;
        value += ((n[b]! + (a === b ? 0 : n[a]!)) * d * d) / C;
        W[a * C + b] = (-2 * n[b]! * d) / C;
        W[b * C + a] = (-2 * n[a]! * d) / C;
      }
    }
    for (let i = 0; i < B; i++) {
      for (let c = 0; c < C; c++) {
        let acc = 0;
        for (let b = 0; b < C; b++) acc += S.p[i * C + b]! * (W[c * C + b]! + W[b * C + c]!);
        g[i * C + c] = g[i * C + c]! + acc;
      }
    }
    // batch level: sum_{i,j} m_j (Ht - Hs)_ij^2 / B, H = P P^T, and its gradient into g
    const form = batchForm === 'auto' ? (4 * C < B ? 'gram' : 'pairs') : batchForm;
    value += (form === 'gram' ? batchLevelGram : batchLevelPairs)(P.p, S.p, B, C, m, g);
    // through the softmax at T: dL/ds = p ⊙ (g - <g, p>) / T
    for (let i = 0; i < B; i++) {
      let dot = 0;
      for (let c = 0; c < C; c++) dot += g[i * C + c]! * S.p[i * C + c]!;
      for (let c = 0; c < C; c++) {
        const k = i * C + c;
        grad[k] = grad[k]! + (S.p[k]! * (g[k]! - dot)) / T;
      }
    }
  }
  return { value, grad };
}

/**
 * MLKD's batch level over the B x B prediction Gram matrices, pair by pair: `sum_ij m_j E_ij^2 / B` with
 * `E = P P^T - S S^T`, and `dL/dS = (V + V^T) S`, `V_ij = -2 m_j E_ij / B`, added into `g`. About `2 B^2 C`
 * multiply-adds.
 */
function batchLevelPairs(
  P: Float64Array,
  S: Float64Array,
  B: number,
  C: number,
  m: Float64Array,
  g: Float64Array,
): number {
  let value = 0;
  const V = new Float64Array(B * B);
  for (let i = 0; i < B; i++) {
    for (let j = i; j < B; j++) {
      let e = 0;
      for (let c = 0; c < C; c++) e += P[i * C + c]! * P[j * C + c]! - S[i * C + c]! * S[j * C + c]!;
      value += ((m[j]! + (i === j ? 0 : m[i]!)) * e * e) / B;
      V[i * B + j] = (-2 * m[j]! * e) / B;
      V[j * B + i] = (-2 * m[i]! * e) / B;
    }
  }
  for (let i = 0; i < B; i++) {
    for (let j = 0; j < B; j++) {
      const w = V[i * B + j]! + V[j * B + i]!;
      if (w === 0) continue;
      for (let c = 0; c < C; c++) g[i * C + c] = g[i * C + c]! + w * S[j * C + c]!;
    }
  }
  return value;
}

/**
 * The same batch level through C x C matrices, cheaper when C is small against B (about `8 B C^2`
 * multiply-adds): with `M = diag(m)`, `sum_ij m_j E_ij^2 = tr(E M E)`
 * `= <P^T M P, P^T P> - 2 <P^T M S, P^T S> + <S^T M S, S^T S>` (`<X, Y>` the sum of `X ⊙ Y`), and
 * `dL/dS = -(2 / B) (E M S + M E S)`, `E M S = P (P^T M S) - S (S^T M S)`, `E S = P (P^T S) - S (S^T S)`.
 */
function batchLevelGram(
  P: Float64Array,
  S: Float64Array,
  B: number,
  C: number,
  m: Float64Array,
  g: Float64Array,
): number {
  const pmp = weightedGram(P, P, B, C, m);
  const pp = weightedGram(P, P, B, C);
  const pms = weightedGram(P, S, B, C, m);
  const ps = weightedGram(P, S, B, C);
  const sms = weightedGram(S, S, B, C, m);
  const ss = weightedGram(S, S, B, C);
  let value = 0;
  for (let k = 0; k < C * C; k++) value += pmp[k]! * pp[k]! - 2 * pms[k]! * ps[k]! + sms[k]! * ss[k]!;
  for (let i = 0; i < B; i++) {
    for (let c = 0; c < C; c++) {
      let ems = 0; // (P (P^T M S) - S (S^T M S))_ic
      let es = 0; // (P (P^T S) - S (S^T S))_ic
      for (let a = 0; a < C; a++) {
        const p = P[i * C + a]!;
        const s = S[i * C + a]!;
        ems += p * pms[a * C + c]! - s * sms[a * C + c]!;
        es += p * ps[a * C + c]! - s * ss[a * C + c]!;
      }
      g[i * C + c] = g[i * C + c]! - (2 / B) * (ems + m[i]! * es);
    }
  }
  return value / B;
}

/** `X^T diag(w) Y` for row-major `[B, C]` X and Y (w all ones when absent), `[C, C]` row-major. */
function weightedGram(
  X: Float64Array,
  Y: Float64Array,
  B: number,
  C: number,
  w?: Float64Array,
): Float64Array {
  const out = new Float64Array(C * C);
  for (let i = 0; i < B; i++) {
    const wi = w ? w[i]! : 1;
    if (wi === 0) continue;
    for (let a = 0; a < C; a++) {
      const x = wi * X[i * C + a]!;
      for (let b = 0; b < C; b++) out[a * C + b] = out[a * C + b]! + x * Y[i * C + b]!;
    }
  }
  return out;
}

function ones(n: number): Float64Array {
  return new Float64Array(n).fill(1);
}

/** numpy's 50th percentile (linear interpolation). */
function median(v: Float64Array): number {
  const w = Float64Array.from(v).sort();
  return (w[Math.floor((w.length - 1) / 2)]! + w[Math.ceil((w.length - 1) / 2)]!) / 2;
}

/** @internal MLKD's example and class masks (1 = kept) from the teacher logits, in float64. */
export function confidenceMasks64(
  t: ArrayLike<number>,
  B: number,
  C: number,
): { m: Float64Array; n: Float64Array } {
  const { p } = softmaxRows(t, B, C, 1);
  const conf = new Float64Array(B);
  const sums = new Float64Array(C);
  for (let i = 0; i < B; i++) {
    let top = 0;
    for (let c = 0; c < C; c++) {
      top = Math.max(top, p[i * C + c]!);
      sums[c] = sums[c]! + p[i * C + c]!;
    }
    conf[i] = top;
  }
  const mc = median(conf);
  const ms = median(sums);
  return { m: conf.map((v) => (v <= mc ? 1 : 0)), n: sums.map((v) => (v <= ms ? 1 : 0)) };
}
