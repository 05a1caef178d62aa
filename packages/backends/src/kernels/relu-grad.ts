import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './max-pool-grad.js';
import { runRows } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import type { KernelBackendLike, TensorInfo } from './wasm-kernel-utils.js';

/** Name of the ReLU gradient kernel this package registers for the wasm backend. */
export const RELU_GRAD_KERNEL = '_DistilljsReluGrad';

/**
 * The gradient of `Relu`, `dy * step(x)` (step: 1 for x > 0, 0 otherwise, NaN for NaN, as tfjs's `Step`),
 * in one pass: the SIMD kernel `reluGrad` when the size is a multiple of 4, else a JavaScript loop. tfjs's
 * own gradient runs `Step`, then `Cast`, then `Multiply`: two passes over the activation and a temporary
 * of its size. Inputs `dy` and `x` (float32, same shape); output the shape of x.
 */
export function reluGrad(args: {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackendLike;
}): TensorInfo {
  const backend = args.backend as HeapBackend;
  const dy = args.inputs.dy as TensorInfo;
  const x = args.inputs.x as TensorInfo;
  const size = tf.util.sizeFromShape(x.shape);
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  const simd = size % 4 === 0 && size > 0 ? simdKernels(backend.wasm) : undefined;
  const [dyo, xo, oo] = [at(dy), at(x), at(out)];
  if (simd !== undefined && dyo !== undefined && xo !== undefined && oo !== undefined) {
    // Rows of 4 floats, shared with the helper threads.
    runRows(
      backend.wasm,
      'reluGrad',
      size / 4,
      4,
      (r0, r1) => [dyo + r0 * 16, xo + r0 * 16, oo + r0 * 16, (r1 - r0) * 4],
      (args) => simd.reluGrad(...(args as Parameters<typeof simd.reluGrad>)),
    );
    return out;
  }
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  const dv = backend.typedArrayFromHeap(dy) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  for (let i = 0; i < size; i++) {
    const v = xv[i] as number;
    ov[i] = (dv[i] as number) * (v > 0 ? 1 : Number.isNaN(v) ? Number.NaN : 0);
  }
  return out;
}
