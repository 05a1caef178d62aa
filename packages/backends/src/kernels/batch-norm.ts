import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './max-pool-grad.js';
import { runRows } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import type { KernelBackendLike, KernelImpl, TensorInfo } from './wasm-kernel-utils.js';

/**
 * `FusedBatchNorm` (`y = (x - mean) * scale / sqrt(variance + epsilon) + offset`) for per-channel
 * statistics over a multiple of 4 channels (every batch-normalisation layer of the zoo), in the SIMD
 * kernel `batchNormApply`: one pass, four channels at a time, with `scale / sqrt(variance + epsilon)`
 * computed once per channel. The wasm backend's own kernel computes a square root, a division and four
 * modulo indices per element (about 10x slower on [128, 32, 32, 32]). Other cases go to `fallback`.
 */
export function batchNorm(
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  return normalize(args, false) ?? first(fallback(args));
}

/**
 * `DistilljsBatchNormRelu` (`BATCH_NORM_RELU_KERNEL` of @distilljs/core): `FusedBatchNorm` followed by a
 * ReLU (`y < 0 ? 0 : y`) in the same pass, the SIMD kernel `batchNormApplyRelu`, where tfjs runs a second
 * kernel that reads and writes the whole activation again. Needs per-channel float32 statistics, scale and
 * offset; a channel count that is not a multiple of 4 runs the same float32 operations in JavaScript (see
 * {@link batchNormReluRef}), so the values, and the mask its gradient recomputes, are the same either way.
 */
export function batchNormRelu(args: {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackendLike;
  attrs?: Record<string, unknown>;
}): TensorInfo {
  const out = normalize(args, true);
  if (out !== undefined) return out;
  const backend = args.backend as HeapBackend;
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  if (
    x === undefined ||
    mean === undefined ||
    variance === undefined ||
    offset === undefined ||
    scale === undefined ||
    !applies(x, [mean, variance, offset, scale])
  ) {
    throw new Error(
      'DistilljsBatchNormRelu: needs float32 x and per-channel float32 mean, variance, offset and scale',
    );
  }
  const c = x.shape[x.shape.length - 1] as number;
  const params = applyParams(backend, mean, variance, scale, offset, epsilonOf(args.attrs), c);
  const result = backend.makeOutput(x.shape.slice(), 'float32');
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const ov = backend.typedArrayFromHeap(result) as Float32Array;
  for (let i = 0; i < xv.length; i++) ov[i] = batchNormReluRef(xv[i] as number, params, i % c, c);
  return result;
}

/**
 * One element of {@link batchNormRelu} in JavaScript, with the float32 operations of the SIMD kernel:
 * `y = ((x - mean) * factor) + offset`, each step rounded to float32, then `y < 0 ? 0 : y`. `params` holds
 * mean, factor and offset, each `[c]` (see {@link applyParams}).
 */
export function batchNormReluRef(x: number, params: Float32Array, k: number, c: number): number {
  const y = batchNormRef(x, params, k, c);
  // biome-ignore lint/complexity/useMathMinMax: Math.max(-0, 0) is +0; the SIMD kernel's pmax keeps -0.
  return y < 0 ? 0 : y;
}

/** The batch norm of one element as {@link batchNormReluRef} computes it, before the ReLU. */
export function batchNormRef(x: number, params: Float32Array, k: number, c: number): number {
  const f = Math.fround;
  return f(f(f(x - (params[k] as number)) * (params[c + k] as number)) + (params[2 * c + k] as number));
}

/** The `varianceEpsilon` attribute (tfjs's default 0.001). */
export function epsilonOf(attrs: Record<string, unknown> | undefined): number {
  return Number(attrs?.varianceEpsilon ?? 0.001);
}

/**
 * Per channel, as float32: the mean, the factor `scale / sqrt(variance + epsilon)` (scale 1 when absent)
 * and the offset (0 when absent), each `[c]`, as the batch-norm kernels and their ReLU mask use them.
 */
export function applyParams(
  backend: HeapBackend,
  mean: TensorInfo,
  variance: TensorInfo,
  scale: TensorInfo | undefined,
  offset: TensorInfo | undefined,
  eps: number,
  c: number,
): Float32Array {
  const pv = new Float32Array(3 * c);
  const mv = backend.typedArrayFromHeap(mean) as Float32Array;
  const vv = backend.typedArrayFromHeap(variance) as Float32Array;
  const sv = scale === undefined ? undefined : (backend.typedArrayFromHeap(scale) as Float32Array);
  const ov = offset === undefined ? undefined : (backend.typedArrayFromHeap(offset) as Float32Array);
  for (let k = 0; k < c; k++) {
    pv[k] = mv[k] as number;
    pv[c + k] = (sv === undefined ? 1 : (sv[k] as number)) / Math.sqrt((vv[k] as number) + eps);
    pv[2 * c + k] = ov === undefined ? 0 : (ov[k] as number);
  }
  return pv;
}

function first(out: TensorInfo | TensorInfo[]): TensorInfo {
  return Array.isArray(out) ? (out[0] as TensorInfo) : out;
}

/** float32 x with a multiple of 4 channels and float32 per-channel `perChannel` tensors (undefined: absent). */
function applies(x: TensorInfo, perChannel: (TensorInfo | undefined)[]): boolean {
  const c = x.shape[x.shape.length - 1] ?? 0;
  return (
    x.dtype === 'float32' &&
    tf.util.sizeFromShape(x.shape) > 0 &&
    perChannel.every(
      (t) => t === undefined || (t.dtype === 'float32' && tf.util.sizeFromShape(t.shape) === c),
    )
  );
}

/**
 * The batch norm (with `relu`, followed by a ReLU) in the SIMD kernel `batchNormApply` (`batchNormApplyRelu`)
 * shared with the helper threads, or undefined when it does not apply (no SIMD, not a multiple of 4
 * channels, no statistics, other dtypes or shapes).
 */
function normalize(
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
  relu: boolean,
): TensorInfo | undefined {
  const backend = args.backend as HeapBackend;
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const xInfo = x as TensorInfo;
  const c = xInfo.shape[xInfo.shape.length - 1] ?? 0;
  const size = tf.util.sizeFromShape(xInfo.shape);
  const simd =
    c > 0 &&
    c % 4 === 0 &&
    mean !== undefined &&
    variance !== undefined &&
    applies(xInfo, [mean, variance, offset, scale])
      ? simdKernels(backend.wasm)
      : undefined;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  if (simd === undefined || at(xInfo) === undefined) return undefined;
  const pv = applyParams(
    backend,
    mean as TensorInfo,
    variance as TensorInfo,
    scale,
    offset,
    epsilonOf(args.attrs),
    c,
  );
  const out = backend.makeOutput(xInfo.shape.slice(), 'float32');
  // Per channel: mean, factor, offset.
  const params = backend.makeOutput([3 * c], 'float32');
  try {
    (backend.typedArrayFromHeap(params) as Float32Array).set(pv);
    const p = at(params) as number;
    const [xo, oo] = [at(xInfo) as number, at(out) as number];
    const name = relu ? 'batchNormApplyRelu' : 'batchNormApply';
    const kernel = relu ? simd.batchNormApplyRelu : simd.batchNormApply;
    runRows(
      backend.wasm,
      name,
      size / c,
      c,
      (r0, r1) => [xo + r0 * c * 4, oo + r0 * c * 4, r1 - r0, c, p, p + 4 * c, p + 8 * c],
      (args) => kernel(...(args as Parameters<typeof simd.batchNormApply>)),
    );
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  } finally {
    backend.disposeData(params.dataId);
  }
  return out;
}
