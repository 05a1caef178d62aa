import type * as tf from '@tensorflow/tfjs-core';
import { convGrid, paddedGrid } from './conv2d-padded-grid.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/** Below this many input channels a stride-1 convolution goes to {@link conv2dFewChannels}. */
export const FEW_CHANNELS_BELOW = 16;

/** Image chunks per convolution: enough for the threads to even out when one of them is slowed. */
const CHUNKS = 16;

/**
 * Writes into `tab` (int32 [kh*kw*ci]) each filter tap's byte offset in an image of the channel-major,
 * zero-padded copy of x that the kernels lay out (`[n, ci, hp, wp]`), tap (ky, kx, c) ->
 * (c*hp*wp + ky*wp + kx) * 4, in the filter's row order; returns the kernels' layout arguments: the NHWC
 * source, h, w, ci and the byte offset of x[b, 0, 0] in its padded image, (top*wp + left) * 4.
 */
export function fewChannelLayout(
  wb: WasmBackendInternals,
  x: TensorInfo,
  tab: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): readonly [number, number, number, number, number] {
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { top, left } = info.padInfo;
  const { hp, wp } = paddedGrid(info) as { hp: number; wp: number };
  const plane = hp * wp;
  const tv = wb.typedArrayFromHeap(tab) as Int32Array;
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      for (let c = 0; c < ci; c++) tv[(ky * kw + kx) * ci + c] = (c * plane + ky * wp + kx) * 4;
    }
  }
  return [heapOffset(wb, x), h, w, ci, (top * wp + left) * 4];
}

/**
 * A stride-1, undilated NHWC convolution with fewer than 16 input channels (a network's first layer:
 * 1 channel for MNIST, 3 for CIFAR), output channels a multiple of 8, in the SIMD kernel `convFew`:
 * `out = conv(x, filter) + bias`, clamped at zero when `relu`. Each image is laid out channel-major on
 * the zero-padded grid (each channel a separate plane) by the thread that convolves it, so a block of consecutive output
 * positions reads each filter tap (ky, kx, c) at consecutive floats; the kernel then walks the
 * kh*kw*ci taps (9 for mnist-cnn, 27 for cifar-vgg-small) through a table of their offsets, in blocks of
 * 4 positions by 8 output channels held in registers. The batch is cut into chunks of images that the
 * calling thread and the SIMD helper threads take in turn; each output element is written by one thread.
 *
 * Returns `undefined` where it does not apply (strides, dilations, 16 or more input channels, output
 * channels not a multiple of 8, dtypes, a bias that is not one value per output channel, no SIMD) or where
 * XNNPACK would use more threads (a browser page with XNNPACK threads and no helper threads).
 */
export function conv2dFewChannels(
  backend: KernelBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  info: tf.backend_util.Conv2DInfo,
  relu: boolean,
): TensorInfo | undefined {
  const { filterHeight: kh, filterWidth: kw, batchSize: n } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const grid = convGrid(x, filter, bias, info);
  if (grid === undefined || ci >= FEW_CHANNELS_BELOW) return undefined;
  const { hp, wp } = grid;
  // Byte offsets into wasm memory are i32: stay well inside.
  if ((n * ci * hp * wp + n * oh * ow * co) * 4 > 2 ** 30) return undefined;
  const wb = backend as WasmBackendInternals;
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const { simd, helpers, helperCount } = kernels;
  const chunk = Math.max(1, Math.ceil(n / CHUNKS));
  const chunks = Math.ceil(n / chunk);
  const taps = kh * kw * ci;
  const plane = hp * wp;
  return withScratch(backend, (keep) => {
    const xp = keep(wb.makeOutput([n, ci, hp, wp], 'float32'));
    const tab = keep(wb.makeOutput([taps], 'int32'));
    const zeroBias = bias === undefined ? keep(wb.makeOutput([co], 'float32')) : undefined;
    const counter = keep(wb.makeOutput([1], 'int32'));
    const out = wb.makeOutput([n, oh, ow, co], 'float32');
    try {
      // Views after every allocation (an allocation may grow the heap).
      const layout = fewChannelLayout(wb, x, tab, info);
      if (zeroBias !== undefined) (wb.typedArrayFromHeap(zeroBias) as Float32Array).fill(0);
      (wb.typedArrayFromHeap(counter) as Int32Array)[0] = 0;
      const args = [
        heapOffset(wb, xp),
        heapOffset(wb, filter),
        heapOffset(wb, bias ?? (zeroBias as TensorInfo)),
        heapOffset(wb, out),
        heapOffset(wb, tab),
        taps,
        n,
        ci * plane * 4,
        wp * 4,
        oh,
        ow,
        co,
        heapOffset(wb, counter),
        chunk,
        relu ? 1 : 0,
        ...layout,
      ] as const;
      runChunked(helpers, 'convFew', args, Math.min(helperCount, chunks - 1), () => simd.convFew(...args));
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
