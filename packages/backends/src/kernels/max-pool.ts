import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './max-pool-grad.js';
import { runRows } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import type { KernelBackendLike, KernelImpl, TensorInfo } from './wasm-kernel-utils.js';

/**
 * `MaxPool` (NHWC) with 2x2 windows, stride 2 and no padding ('valid', or 'same' on even sizes: every
 * pooling layer of the zoo) over a multiple of 4 channels, in the SIMD kernel `maxPool2x2`, whole images
 * shared with the SIMD helper threads. NaN is skipped as the tfjs cpu backend skips it. The wasm
 * backend's own kernel (XNNPACK) runs on one thread in Node.js. Other poolings go to `fallback`.
 */
export function maxPool(
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const backend = args.backend as HeapBackend;
  const x = args.inputs.x as TensorInfo;
  const attrs = (args.attrs ?? {}) as unknown as tf.MaxPoolAttrs;
  const info =
    x.shape.length === 4 && x.dtype === 'float32'
      ? tf.backend_util.computePool2DInfo(
          x.shape as [number, number, number, number],
          attrs.filterSize,
          attrs.strides,
          1,
          attrs.pad,
          attrs.dimRoundingMode,
        )
      : undefined;
  const simd =
    info !== undefined && pool2x2(info) && info.outHeight * info.outWidth * info.batchSize > 0
      ? simdKernels(backend.wasm)
      : undefined;
  const xo = backend.dataIdMap?.get(x.dataId)?.memoryOffset;
  if (info === undefined || simd === undefined || xo === undefined) {
    const out = fallback(args);
    return Array.isArray(out) ? (out[0] as TensorInfo) : out;
  }
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const out = backend.makeOutput([n, oh, ow, c], 'float32');
  const oo = backend.dataIdMap?.get(out.dataId)?.memoryOffset as number;
  const [xImage, outImage] = [h * w * c * 4, oh * ow * c * 4];
  try {
    runRows(
      backend.wasm,
      'maxPool2x2',
      n,
      h * w * c,
      (b0, b1) => [xo + b0 * xImage, oo + b0 * outImage, b1 - b0, h, w, c, oh, ow],
      (a) => simd.maxPool2x2(...(a as Parameters<typeof simd.maxPool2x2>)),
    );
  } catch (error) {
    backend.disposeData(out.dataId);
    throw error;
  }
  return out;
}

/** True for 2x2 windows, stride 2, no dilation, no padding before, every window inside the input, c % 4 = 0. */
function pool2x2(info: tf.backend_util.Conv2DInfo): boolean {
  return (
    info.filterHeight === 2 &&
    info.filterWidth === 2 &&
    info.strideHeight === 2 &&
    info.strideWidth === 2 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.padInfo.top === 0 &&
    info.padInfo.left === 0 &&
    2 * info.outHeight <= info.inHeight &&
    2 * info.outWidth <= info.inWidth &&
    info.inChannels % 4 === 0
  );
}
