import * as tf from '@tensorflow/tfjs-core';
import { applyParams, batchNormRef, epsilonOf } from './batch-norm.js';
import type { HeapBackend } from './max-pool-grad.js';
import { reduceRows, runRows } from './simd/simd-helpers.js';
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
  const { sumDy, sumDyX } = channelSums(backend, xInfo, dy as TensorInfo, mean as TensorInfo, c);
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

/**
 * Per channel (the last axis, c), `sum(dy)` and `sum(dy * (x - mean))`: in the SIMD kernel `batchNormSums`
 * (float32 blocks of 64 rows added to float64 sums) when c is a multiple of 4, else in JavaScript in
 * float64.
 */
function channelSums(
  backend: HeapBackend,
  x: TensorInfo,
  dy: TensorInfo,
  mean: TensorInfo,
  c: number,
  relu?: ReluMask,
): { sumDy: Float64Array; sumDyX: Float64Array } {
  const size = tf.util.sizeFromShape(x.shape);
  const rows = c === 0 ? 0 : size / c;
  const simd = c % 4 === 0 && rows > 0 ? simdKernels(backend.wasm) : undefined;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  if (simd !== undefined && at(x) !== undefined && (relu === undefined || relu.factorAt !== undefined)) {
    // [sum(dy) | sum(dy * (x - mean))], shared with the helper threads.
    const [xo, dyo, mo] = [at(x) as number, at(dy) as number, at(mean) as number];
    const f = relu?.factorAt as number;
    const sums = reduceRows(
      backend as Parameters<typeof reduceRows>[0],
      relu === undefined ? 'batchNormSums' : 'batchNormSumsRelu',
      rows,
      c,
      2 * c,
      (r0, r1, accOffset) => [
        xo + r0 * c * 4,
        dyo + r0 * c * 4,
        r1 - r0,
        c,
        mo,
        accOffset,
        ...(relu === undefined ? [] : [f, f + 4 * c]),
      ],
      relu === undefined
        ? (args) => simd.batchNormSums(...(args as Parameters<typeof simd.batchNormSums>))
        : (args) => simd.batchNormSumsRelu(...(args as Parameters<typeof simd.batchNormSumsRelu>)),
    );
    return { sumDy: sums.slice(0, c), sumDyX: sums.slice(c, 2 * c) };
  }
  const sumDy = new Float64Array(c);
  const sumDyX = new Float64Array(c);
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  accumulate(
    xv,
    relu === undefined ? dyv : maskedDy(xv, dyv, relu.params, c),
    backend.typedArrayFromHeap(mean) as Float32Array,
    rows,
    c,
    sumDy,
    sumDyX,
  );
  return { sumDy, sumDyX };
}

/**
 * The ReLU that followed a batch norm, for its gradient's mask: the forward pass's per-channel mean, factor
 * and offset ({@link applyParams}), and the byte offset of a copy of the factor on the wasm heap, the
 * offset right after it (undefined: not on the heap).
 */
interface ReluMask {
  readonly params: Float32Array;
  readonly factorAt: number | undefined;
}

/**
 * `dy * step(y)` in JavaScript, y recomputed from x as the forward pass computed it ({@link batchNormRef});
 * step is 1 for y > 0, 0 otherwise, NaN for NaN (as the ReLU's own gradient).
 */
function maskedDy(xv: Float32Array, dyv: Float32Array, params: Float32Array, c: number): Float32Array {
  const out = new Float32Array(dyv.length);
  for (let i = 0; i < dyv.length; i++) {
    const y = batchNormRef(xv[i] as number, params, i % c, c);
    out[i] = (dyv[i] as number) * (y > 0 ? 1 : Number.isNaN(y) ? Number.NaN : 0);
  }
  return out;
}

/**
 * `DistilljsBatchNormTrainingGrad` (`BATCH_NORM_TRAINING_GRAD_KERNEL` of @distilljs/core): the whole
 * gradient of training-mode batch normalisation, through the batch statistics too, in two passes over the
 * activation: the per-channel sums ({@link channelSums}), then `dx = a * dy + b * (x - mean) + d` with
 * per-channel a = scale * r, b = -scale * r^3 * sum(dy * xc) / N, d = -scale * r * sum(dy) / N (the SIMD
 * kernel `batchNormTrainDx` when c is a multiple of 4, else JavaScript). tfjs-layers' composition of the
 * same gradient (the fused kernel above plus the gradients of the two means, the square and the
 * subtraction that compute the statistics, and the sums that join them) makes about nine passes.
 * With the attribute `relu` (and the input `offset`), the gradient of `DistilljsBatchNormRelu`: dy is first
 * masked by the ReLU's gradient, `dy * step(y)`, inside both passes (`batchNormSumsRelu`,
 * `batchNormTrainDxRelu`), y recomputed from x with the forward kernel's float32 operations, so the
 * ReLU's own gradient pass (read dy and y, write a masked copy) is not needed.
 * (With `pool` too, the registration runs `batchNormReluPoolGrad` of batch-norm-relu-pool.ts instead.)
 * Outputs `[dx, dScale, dOffset]`.
 */
export function batchNormTrainingGrad(args: {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackendLike;
  attrs?: Record<string, unknown>;
}): TensorInfo[] {
  const backend = args.backend as HeapBackend;
  const { x, mean, variance, scale, offset, dy } = args.inputs as Record<string, TensorInfo | undefined>;
  const relu = args.attrs?.relu === true;
  const xInfo = x as TensorInfo;
  const c = xInfo.shape[xInfo.shape.length - 1] ?? 0;
  if (
    x === undefined ||
    dy === undefined ||
    mean === undefined ||
    variance === undefined ||
    scale === undefined ||
    !batchNormGradApplies(x, mean, variance, scale) ||
    dy.dtype !== 'float32' ||
    !tf.util.arraysEqual(dy.shape, x.shape)
  ) {
    throw new Error(
      'DistilljsBatchNormTrainingGrad: needs float32 x and dy of one shape and per-channel float32 mean, variance and scale',
    );
  }
  if (relu && (offset === undefined || !batchNormGradApplies(x, mean, variance, offset))) {
    throw new Error('DistilljsBatchNormTrainingGrad: with relu, needs a per-channel float32 offset');
  }
  const eps = epsilonOf(args.attrs);
  const size = tf.util.sizeFromShape(x.shape);
  const rows = c === 0 ? 0 : size / c;
  const simd = c % 4 === 0 && rows > 0 ? simdKernels(backend.wasm) : undefined;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  // Per channel: mean, a, b, d, then (relu) the forward pass's factor and offset.
  const params = backend.makeOutput([(relu ? 6 : 4) * c], 'float32');
  const outs: TensorInfo[] = [];
  try {
    const forward = relu ? applyParams(backend, mean, variance, scale, offset, eps, c) : undefined;
    if (forward !== undefined) {
      (backend.typedArrayFromHeap(params) as Float32Array).set(forward.subarray(0, c), 0);
      (backend.typedArrayFromHeap(params) as Float32Array).set(forward.subarray(c), 4 * c);
    }
    const p0 = at(params);
    // The forward pass's factor and offset are params' fifth and sixth vectors (byte 16c on).
    const mask =
      forward === undefined
        ? undefined
        : { params: forward, factorAt: p0 === undefined ? undefined : p0 + 16 * c };
    const { sumDy, sumDyX } = channelSums(backend, x, dy, mean, c, mask);
    outs.push(...[x.shape.slice(), [c], [c]].map((shape) => backend.makeOutput(shape, 'float32')));
    const [dxInfo, dScaleInfo, dOffsetInfo] = outs as [TensorInfo, TensorInfo, TensorInfo];
    const mv = backend.typedArrayFromHeap(mean) as Float32Array;
    const vv = backend.typedArrayFromHeap(variance) as Float32Array;
    const sv = backend.typedArrayFromHeap(scale) as Float32Array;
    const pv = backend.typedArrayFromHeap(params) as Float32Array;
    const ds = backend.typedArrayFromHeap(dScaleInfo) as Float32Array;
    const dof = backend.typedArrayFromHeap(dOffsetInfo) as Float32Array;
    for (let k = 0; k < c; k++) {
      const r = 1 / Math.sqrt((vv[k] as number) + eps);
      const g = sv[k] as number;
      pv[k] = mv[k] as number;
      pv[c + k] = g * r;
      pv[2 * c + k] = rows > 0 ? (-g * r * r * r * (sumDyX[k] as number)) / rows : 0;
      pv[3 * c + k] = rows > 0 ? (-g * r * (sumDy[k] as number)) / rows : 0;
      ds[k] = r * (sumDyX[k] as number);
      dof[k] = sumDy[k] as number;
    }
    const offsets = [x, dy, dxInfo, params].map(at);
    if (simd !== undefined && offsets.every((o) => o !== undefined)) {
      const [xo, dyo, dxo, po] = offsets as [number, number, number, number];
      runRows(
        backend.wasm,
        relu ? 'batchNormTrainDxRelu' : 'batchNormTrainDx',
        rows,
        c,
        (r0, r1) => [xo + r0 * c * 4, dyo + r0 * c * 4, dxo + r0 * c * 4, r1 - r0, c, po],
        relu
          ? (args) => simd.batchNormTrainDxRelu(...(args as Parameters<typeof simd.batchNormTrainDxRelu>))
          : (args) => simd.batchNormTrainDx(...(args as Parameters<typeof simd.batchNormTrainDx>)),
      );
    } else if (rows > 0) {
      const xv = backend.typedArrayFromHeap(x) as Float32Array;
      const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
      const g = forward === undefined ? dyv : maskedDy(xv, dyv, forward, c);
      trainDx(
        xv,
        g,
        backend.typedArrayFromHeap(params) as Float32Array,
        c,
        backend.typedArrayFromHeap(dxInfo) as Float32Array,
      );
    }
  } catch (error) {
    for (const t of outs) backend.disposeData(t.dataId);
    throw error;
  } finally {
    backend.disposeData(params.dataId);
  }
  return outs;
}

/**
 * `dx = a * g + b * (x - mean) + d` per channel in JavaScript, `params` holding mean, a, b, d (each [c]), as
 * the SIMD kernel `batchNormTrainDx` computes it.
 */
export function trainDx(
  xv: Float32Array,
  g: Float32Array,
  params: Float32Array,
  c: number,
  dx: Float32Array,
): void {
  for (let i = 0; i < g.length; i++) {
    const k = i % c;
    dx[i] =
      (params[c + k] as number) * (g[i] as number) +
      (params[2 * c + k] as number) * ((xv[i] as number) - (params[k] as number)) +
      (params[3 * c + k] as number);
  }
}

/** sum(dy) and sum(dy * (x - mean)) per channel in float64, in JavaScript. */
export function accumulate(
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
