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
  const backend = args.backend as HeapBackend;
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const xInfo = x as TensorInfo;
  const c = xInfo.shape[xInfo.shape.length - 1] ?? 0;
  const perChannel = (t: TensorInfo | undefined) =>
    t === undefined || (t.dtype === 'float32' && tf.util.sizeFromShape(t.shape) === c);
  const size = tf.util.sizeFromShape(xInfo.shape);
  const simd =
    xInfo.dtype === 'float32' &&
    c > 0 &&
    c % 4 === 0 &&
    size > 0 &&
    mean !== undefined &&
    variance !== undefined &&
    perChannel(mean) &&
    perChannel(variance) &&
    perChannel(offset) &&
    perChannel(scale)
      ? simdKernels(backend.wasm)
      : undefined;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  if (simd === undefined || at(xInfo) === undefined) {
    const out = fallback(args);
    return Array.isArray(out) ? (out[0] as TensorInfo) : out;
  }
  const eps = Number(args.attrs?.varianceEpsilon ?? 0.001);
  const out = backend.makeOutput(xInfo.shape.slice(), 'float32');
  // Per channel: mean, factor, offset.
  const params = backend.makeOutput([3 * c], 'float32');
  try {
    const pv = backend.typedArrayFromHeap(params) as Float32Array;
    const mv = backend.typedArrayFromHeap(mean as TensorInfo) as Float32Array;
    const vv = backend.typedArrayFromHeap(variance as TensorInfo) as Float32Array;
    const sv = scale === undefined ? undefined : (backend.typedArrayFromHeap(scale) as Float32Array);
    const ov = offset === undefined ? undefined : (backend.typedArrayFromHeap(offset) as Float32Array);
    for (let k = 0; k < c; k++) {
      pv[k] = mv[k] as number;
      pv[c + k] = (sv === undefined ? 1 : (sv[k] as number)) / Math.sqrt((vv[k] as number) + eps);
      pv[2 * c + k] = ov === undefined ? 0 : (ov[k] as number);
    }
    const p = at(params) as number;
    const [xo, oo] = [at(xInfo) as number, at(out) as number];
    runRows(
      backend.wasm,
      'batchNormApply',
      size / c,
      c,
      (r0, r1) => [xo + r0 * c * 4, oo + r0 * c * 4, r1 - r0, c, p, p + 4 * c, p + 8 * c],
      (args) => simd.batchNormApply(...(args as Parameters<typeof simd.batchNormApply>)),
    );
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  } finally {
    backend.disposeData(params.dataId);
  }
  return out;
}
