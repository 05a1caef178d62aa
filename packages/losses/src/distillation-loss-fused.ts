/**
 * @internal Hinton's distillation objective as one fused op for the cpu and wasm backends (see
 * fused-row-losses.ts): the KD term, the cross-entropy with class ids and both gradients in one float64
 * pass over the rows, instead of about seventy small tensor ops forward and backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import { crossEntropyRow, kdRow } from './fused-row-losses.js';

/**
 * A tensor's values read straight from the backend's memory (cpu and wasm keep tensors in CPU memory),
 * not through the engine: the fused op is part of a step whose loop reads the loss once, asynchronously.
 */
function valuesOf(x: tf.Tensor): ArrayLike<number> {
  return tf.backend().readSync(x.dataId) as ArrayLike<number>;
}

/** The labels and options of a fused distillation loss, validated by the caller. */
export interface FusedDistillationInput {
  /** Class ids, negative for unlabelled rows (left out of the cross-entropy's mean). */
  readonly ids: Int32Array;
  /** Rows with a class id. */
  readonly labelled: number;
  readonly temperature: number;
  /** Weight of the KD term; the cross-entropy gets `1 - alpha`. */
  readonly alpha: number;
  /** Label smoothing of the cross-entropy (PyTorch convention). */
  readonly labelSmoothing: number;
}

/** Both terms' values and their gradients with respect to the student logits (row-major [B, C]). */
interface Terms {
  readonly soft: number;
  readonly hard: number;
  readonly gradSoft: Float32Array;
  readonly gradHard: Float32Array;
}

function terms(
  sv: ArrayLike<number>,
  tv: ArrayLike<number>,
  B: number,
  C: number,
  o: FusedDistillationInput,
) {
  const { ids, temperature: T, labelSmoothing: eps } = o;
  const gradSoft = new Float32Array(B * C);
  const gradHard = new Float32Array(B * C);
  const srow = new Float64Array(C);
  const trow = new Float64Array(C);
  const g = new Float64Array(C);
  const perLabel = 1 / Math.max(o.labelled, 1);
  let soft = 0;
  let hard = 0;
  for (let i = 0; i < B; i++) {
    for (let c = 0; c < C; c++) {
      srow[c] = sv[i * C + c] as number;
      trow[c] = tv[i * C + c] as number;
    }
    g.fill(0);
    soft += kdRow(srow, trow, T, g);
    for (let c = 0; c < C; c++) gradSoft[i * C + c] = (g[c] as number) / B;
    const id = ids[i] as number;
    if (id < 0) continue;
    hard += crossEntropyRow(srow, id, eps, perLabel, gradHard, i * C);
  }
  return { soft: soft / B, hard: hard * perLabel, gradSoft, gradHard } satisfies Terms;
}

/**
 * One fused op over the student logits `s` and the teacher's `t`: `value` turns the terms into the op's
 * output, `weights` the output's gradient `dy` into the weights of the two terms' gradients.
 */
function fusedOp(
  s: tf.Tensor,
  t: tf.Tensor,
  input: FusedDistillationInput,
  value: (r: Terms) => tf.Tensor,
  weights: (dy: ArrayLike<number>) => [number, number],
): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [st, tt] = args as [tf.Tensor, tf.Tensor];
    const [B, C] = st.shape as [number, number];
    const r = terms(valuesOf(st), valuesOf(tt), B, C, input);
    return {
      value: value(r),
      gradFunc: (dy: tf.Tensor) => {
        const [wSoft, wHard] = weights(valuesOf(dy));
        const grad = new Float32Array(B * C);
        for (let k = 0; k < grad.length; k++) {
          grad[k] = wSoft * (r.gradSoft[k] as number) + wHard * (r.gradHard[k] as number);
        }
        return [tf.tensor2d(grad, [B, C]), tf.zerosLike(tt)];
      },
    };
  });
  return op(s, t);
}

/**
 * `[loss, soft, hard]` as one float32 tensor (loss = alpha * soft + (1 - alpha) * hard, soft the
 * T^2-scaled KL averaged over all rows, hard the cross-entropy averaged over the labelled rows, 0 when
 * none are); its gradient flows to the student logits `s` only.
 */
export function distillationFused(s: tf.Tensor, t: tf.Tensor, input: FusedDistillationInput): tf.Tensor1D {
  const { alpha } = input;
  return fusedOp(
    s,
    t,
    input,
    (r) => tf.tensor1d([alpha * r.soft + (1 - alpha) * r.hard, r.soft, r.hard]),
    (dy) => [
      (dy[0] as number) * alpha + (dy[1] as number),
      (dy[0] as number) * (1 - alpha) + (dy[2] as number),
    ],
  ) as tf.Tensor1D;
}

/** The loss alone as a scalar op (no terms to split off: the fewest kernels per step). */
export function distillationLossFused(s: tf.Tensor, t: tf.Tensor, input: FusedDistillationInput): tf.Scalar {
  const { alpha } = input;
  return fusedOp(
    s,
    t,
    input,
    (r) => tf.scalar(alpha * r.soft + (1 - alpha) * r.hard),
    (dy) => [(dy[0] as number) * alpha, (dy[0] as number) * (1 - alpha)],
  ) as tf.Scalar;
}
