import type * as tf from '@tensorflow/tfjs-core';
import { filterGrid, isDenseStride1, writeChannelMajor } from './conv2d-backprop-filter-gemm.js';
import { simdKernels } from './simd/simd-kernels.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/**
 * Below this many input channels the filter gradient goes to the SIMD row kernel. Its matrix product has
 * kh*kw*ci rows and 10^5 positions to sum over; with few rows XNNPACK's tiles are mostly empty and its
 * packing of dy dominates (mnist-cnn's first layer, 1 -> 32 channels at 28x28, batch 128: XNNPACK about
 * 28-44 ms, this kernel see the backends README).
 */
export const ROWS_BELOW_CHANNELS = 16;

/**
 * `Conv2DBackpropFilter` for stride 1, dilation 1 (NHWC) and few input channels, on the wasm heap with the
 * SIMD kernel `filterRows` (scripts/build-simd-kernels.mjs):
 *
 *   dW[(ky, kx, c), :] = sum over b, y, x of xPad[c, b, y + ky, x + kx] * dy[b, y, x, :]
 *
 * where xPad is x laid out channel-major on the zero-padded grid ({@link FilterGrid}, the forward
 * padding applied), so each row of dW reads xPad at a fixed offset and
 * dy is read in place. Only output positions are visited, so no products are wasted on padding.
 * Returns `undefined` where it does not apply (strides or dilations above 1, ci >= 16, co not a multiple
 * of 4, no SIMD); the caller then uses the XNNPACK formulations.
 */
export function conv2DBackpropFilterRows(
  backend: KernelBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const { filterHeight: kh, filterWidth: kw } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const n = info.batchSize;
  if (!isDenseStride1(x, dy, info) || ci >= ROWS_BELOW_CHANNELS || co % 4 !== 0) return undefined;
  const wb = backend as WasmBackendInternals;
  const simd = simdKernels(wb.wasm);
  if (simd === undefined) return undefined;
  const grid = filterGrid(info);
  const { rowStride: wp, imageStride: plane } = grid;
  const rc = n * plane + grid.tail;
  const rows = kh * kw * ci;
  // Byte offsets into wasm memory are i32: stay well inside.
  if ((ci * rc + rows) * 4 > 2 ** 31) return undefined;

  return withScratch(backend, (keep) => {
    const xPad = keep(wb.makeOutput([ci * rc], 'float32'));
    const offs = keep(wb.makeOutput([rows], 'int32'));
    const out = wb.makeOutput([kh, kw, ci, co], 'float32');
    try {
      // Views are taken after the allocations (growing the heap replaces its buffer).
      (wb.typedArrayFromHeap(xPad) as Float32Array).fill(0);
      // x[b, y, x, c] -> xPad[c, b, y + top, x + left]
      writeChannelMajor(wb, x, info, grid, xPad, 0, 0, n, rc);
      const ov = wb.typedArrayFromHeap(offs) as Int32Array;
      for (let ky = 0; ky < kh; ky++) {
        for (let kx = 0; kx < kw; kx++) {
          for (let c = 0; c < ci; c++) ov[(ky * kw + kx) * ci + c] = (c * rc + ky * wp + kx) * 4;
        }
      }
      (wb.typedArrayFromHeap(out) as Float32Array).fill(0);
      const vectors = co % 32 === 0 ? 8 : co % 16 === 0 ? 4 : 1;
      simd.filterRows(
        vectors,
        heapOffset(wb, xPad),
        heapOffset(wb, offs),
        rows,
        heapOffset(wb, dy),
        co,
        n,
        oh,
        ow,
        wp,
        plane,
        heapOffset(wb, out),
      );
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
