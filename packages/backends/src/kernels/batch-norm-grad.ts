import type { HeapBackend } from './max-pool-grad.js';
import { simdKernels } from './simd/simd-kernels.js';
import { type KernelBackendLike, type KernelImpl, run1, type TensorInfo } from './wasm-kernel-utils.js';

/** Name of the fused batch-norm gradient kernel this package registers for the wasm backend. */
export const BATCH_NORM_GRAD_KERNEL = '_DistilljsFusedBatchNormGrad';

/**
 * True when {@link batchNormGrad} computes the gradient of `tf.batchNorm` for these saved inputs:
 * float32, per-channel statistics (`mean`, `variance` and `scale` of shape `[c]`, c the last axis of x).
 */
export function batchNormGradApplies(
  x: TensorInfo,
  mean: TensorInfo,
  variance: TensorInfo,
  scale: TensorInfo | undefined,
): boolean {
  const c = x.shape[x.shape.length - 1];
  const perChannel = (t: TensorInfo) => t.dtype === 'float32' && t.shape.length === 1 && t.shape[0] === c;
  return (
    x.dtype === 'float32' &&
    x.shape.length >= 1 &&
    perChannel(mean) &&
    perChannel(variance) &&
    (scale === undefined || perChannel(scale))
  );
}

/**
 * The gradient of `FusedBatchNorm` (`y = (x - mean) * rsqrt(variance + eps) * scale + offset`) with
 * respect to all five inputs, in two passes: one over the wasm heap accumulating, per channel,
 * `sum(dy)` and `sum(dy * (x - mean))` (in the SIMD kernel `batchNormSums`, float32 blocks of 64 rows
 * added to float64 sums, when c is a multiple of 4; else in JavaScript in float64); then `dx = dy * (rsqrt(variance + eps) * scale)` as one
 * broadcast product in the backend's `multiply` kernel (SIMD, four times faster than a JavaScript loop).
 * The gradient tfjs registers computes the same quantities as about a dozen separate element-wise
 * kernels over the whole activation (two tiles, eight products, four reductions).
 *
 * Inputs `x` (any rank, channels last), `mean`, `variance`, optional `scale` (each `[c]`), `dy` (the
 * shape of x); attribute `varianceEpsilon`. Outputs `[dx, dMean, dVariance, dScale, dOffset]`.
 */
export function batchNormGrad(
  multiply: KernelImpl,
  args: {
    inputs: Record<string, TensorInfo>;
    backend: KernelBackendLike;
    attrs?: Record<string, unknown>;
  },
): TensorInfo[] {
  const backend = args.backend as HeapBackend;
  const { x, mean, variance, scale, dy } = args.inputs as Record<string, TensorInfo>;
  const eps = Number(args.attrs?.varianceEpsilon ?? 0.001);
  const xInfo = x as TensorInfo;
  const c = xInfo.shape[xInfo.shape.length - 1] as number;
  const outs = [0, 1, 2, 3, 4].map(() => backend.makeOutput([c], 'float32'));
  const factorInfo = outs[4] as TensorInfo;
  // Views after every allocation (growing the heap replaces its buffer).
  const xv = backend.typedArrayFromHeap(xInfo) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy as TensorInfo) as Float32Array;
  const mv = backend.typedArrayFromHeap(mean as TensorInfo) as Float32Array;
  const rows = c === 0 ? 0 : xv.length / c;
  let sumDy = new Float64Array(c);
  let sumDyX = new Float64Array(c);
  const simd = c % 4 === 0 && rows > 0 ? simdKernels(backend.wasm) : undefined;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  if (simd !== undefined && at(xInfo) !== undefined) {
    // float64 accumulators on the heap, [sum(dy) | sum(dy * (x - mean))], 8-byte aligned.
    const acc = backend.makeOutput([4 * c + 1], 'float32');
    try {
      const accOffset = (((at(acc) as number) + 7) >> 3) << 3;
      const sums = new Float64Array(
        (backend.typedArrayFromHeap(acc) as Float32Array).buffer,
        accOffset,
        2 * c,
      );
      sums.fill(0);
      simd.batchNormSums(
        at(xInfo) as number,
        at(dy as TensorInfo) as number,
        rows,
        c,
        at(mean as TensorInfo) as number,
        accOffset,
      );
      sumDy = sums.slice(0, c);
      sumDyX = sums.slice(c, 2 * c);
    } finally {
      backend.disposeData(acc.dataId);
    }
  } else {
    accumulate(xv, dyv, mv, rows, c, sumDy, sumDyX);
  }
  // Views again: the accumulators' allocation may have grown the heap.
  const vv = backend.typedArrayFromHeap(variance as TensorInfo) as Float32Array;
  const sv = scale === undefined ? undefined : (backend.typedArrayFromHeap(scale) as Float32Array);
  const [dMean, dVariance, dScale, dOffset, factor] = outs.map(
    (t) => backend.typedArrayFromHeap(t) as Float32Array,
  ) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
  for (let k = 0; k < c; k++) {
    const r = 1 / Math.sqrt((vv[k] as number) + eps);
    const s = sv === undefined ? 1 : (sv[k] as number);
    factor[k] = r * s;
    dMean[k] = -r * s * (sumDy[k] as number);
    dVariance[k] = -0.5 * r * r * r * s * (sumDyX[k] as number);
    dScale[k] = r * (sumDyX[k] as number);
    dOffset[k] = sumDy[k] as number;
  }
  let dx: TensorInfo;
  try {
    dx = run1(multiply, backend, { a: dy as TensorInfo, b: factorInfo });
  } catch (error) {
    for (const t of outs) backend.disposeData(t.dataId);
    throw error;
  } finally {
    backend.disposeData(factorInfo.dataId);
  }
  return [dx, ...outs.slice(0, 4)];
}

/** sum(dy) and sum(dy * (x - mean)) per channel in float64, in JavaScript. */
function accumulate(
  xv: Float32Array,
  dyv: Float32Array,
  mv: Float32Array,
  rows: number,
  c: number,
  sumDy: Float64Array,
  sumDyX: Float64Array,
): void {
  const m = Float64Array.from(mv);
  // Four rows per pass over the accumulators (they are read and written once per four rows).
  let r0 = 0;
  for (; r0 + 4 <= rows; r0 += 4) {
    const base = r0 * c;
    for (let k = 0; k < c; k++) {
      const i = base + k;
      const mk = m[k] as number;
      const d0 = dyv[i] as number;
      const d1 = dyv[i + c] as number;
      const d2 = dyv[i + 2 * c] as number;
      const d3 = dyv[i + 3 * c] as number;
      sumDy[k] = (sumDy[k] as number) + (d0 + d1 + (d2 + d3));
      sumDyX[k] =
        (sumDyX[k] as number) +
        (d0 * ((xv[i] as number) - mk) + d1 * ((xv[i + c] as number) - mk)) +
        (d2 * ((xv[i + 2 * c] as number) - mk) + d3 * ((xv[i + 3 * c] as number) - mk));
    }
  }
  for (; r0 < rows; r0++) {
    const base = r0 * c;
    for (let k = 0; k < c; k++) {
      const d = dyv[base + k] as number;
      sumDy[k] = (sumDy[k] as number) + d;
      sumDyX[k] = (sumDyX[k] as number) + d * ((xv[base + k] as number) - (m[k] as number));
    }
  }
}
