import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './max-pool-grad.js';
import { reduceRows } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import {
  type KernelBackendLike,
  type KernelImpl,
  run1,
  type TensorInfo,
  withScratch,
} from './wasm-kernel-utils.js';

/** The backend kernels the batch statistics are composed of where the SIMD pass does not apply. */
export interface BatchNormMomentsParts {
  /** The `Mean` kernel in effect (this package's leading-axes reduction). */
  readonly mean: KernelImpl;
  readonly sub: KernelImpl;
  readonly square: KernelImpl;
}

/**
 * `DistilljsBatchNormMoments` (`BATCH_NORM_MOMENTS_KERNEL` of @distilljs/core): the batch mean and biased
 * variance over every axis but the last, the values `tf.mean(x, axes)` and
 * `tf.mean(tf.square(tf.sub(x, mean)), axes)` give on this backend, bit for bit. The mean is the `Mean`
 * kernel's; the variance, where the SIMD kernels run and c is a multiple of 4, is one read-only pass
 * (`colSqDevSums`: the same float32 differences and squares, summed in the same blocks and shares as
 * `Mean`), instead of writing `x - mean` and its square (three passes, two of them writes).
 */
export function batchNormMoments(
  parts: BatchNormMomentsParts,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo[] {
  const x = args.inputs.x as TensorInfo | undefined;
  if (x === undefined || x.dtype !== 'float32' || x.shape.length < 2) {
    throw new Error(
      `DistilljsBatchNormMoments: needs a float32 input x of rank 2 or more (channels last), got ${
        x === undefined ? 'no x' : `${x.dtype} [${x.shape.join(', ')}]`
      }`,
    );
  }
  const backend = args.backend as HeapBackend;
  const rank = x.shape.length;
  const axes = Array.from({ length: rank - 1 }, (_, i) => i);
  const c = x.shape[rank - 1] as number;
  const rows = tf.util.sizeFromShape(x.shape) / Math.max(c, 1);
  const mean = run1(parts.mean, backend, { x }, { axis: axes, keepDims: false });
  try {
    const simd = c % 4 === 0 && c > 0 && rows > 0 ? simdKernels(backend.wasm) : undefined;
    const xOffset = backend.dataIdMap?.get(x.dataId)?.memoryOffset;
    const meanOffset = backend.dataIdMap?.get(mean.dataId)?.memoryOffset;
    if (simd !== undefined && xOffset !== undefined && meanOffset !== undefined) {
      const sums = reduceRows(
        backend as Parameters<typeof reduceRows>[0],
        c % 16 === 0 ? 'colSqDevSums4' : 'colSqDevSums1',
        rows,
        c,
        c,
        (r0, r1, accOffset) => [xOffset + r0 * c * 4, r1 - r0, c, accOffset, meanOffset],
        (a) => simd.colSqDevSums(...(a as Parameters<typeof simd.colSqDevSums>)),
      );
      const variance = backend.makeOutput([c], 'float32');
      const vv = backend.typedArrayFromHeap(variance) as Float32Array;
      // As `Mean` scales its sums.
      const scale = 1 / rows;
      for (let k = 0; k < c; k++) vv[k] = (sums[k] as number) * scale;
      return [mean, variance];
    }
    const variance = withScratch(backend, (keep) => {
      const xc = keep(run1(parts.sub, backend, { a: x, b: mean }));
      const squared = keep(run1(parts.square, backend, { x: xc }));
      return run1(parts.mean, backend, { x: squared }, { axis: axes, keepDims: false });
    });
    return [mean, variance];
  } catch (error) {
    backend.disposeData(mean.dataId);
    throw error;
  }
}
