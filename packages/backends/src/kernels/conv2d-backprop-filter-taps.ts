import type * as tf from '@tensorflow/tfjs-core';
import { isDenseStride1 } from './conv2d-backprop-filter-gemm.js';
import { simdHelpers } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/** The wasm module's thread count (XNNPACK's pool), where the backend exposes it. */
function xnnpackThreads(wb: WasmBackendInternals): number {
  const tfjs = (wb.wasm as { tfjs?: { getThreadsCount?: () => number } }).tfjs;
  try {
    return tfjs?.getThreadsCount?.() ?? 1;
  } catch {
    return 1;
  }
}

/**
 * `Conv2DBackpropFilter` for stride 1 and dilation 1 (NHWC), input channels a multiple of 4 and output
 * channels a multiple of 8, in the SIMD kernel `filterTaps`:
 *
 *   dW[ky, kx, c, o] = sum over b, y, x of x[b, y + ky - top, x + kx - left, c] * dy[b, y, x, o]
 *
 * over only the output positions whose input position is inside the image, reading x and dy in place.
 * Unlike the XNNPACK formulation ({@link conv2DBackpropFilterGemm}) it makes no padded copies, no products
 * with padding, and does not pay XNNPACK's single-threaded packing of dy (about a quarter of that
 * formulation's time). The output channels are split between the calling thread and the SIMD helper
 * threads ({@link simdHelpers}); about 19 GFLOP/s per thread here.
 *
 * Returns `undefined` where it does not apply (strides or dilations above 1, channel counts, no SIMD) or
 * would be slower: when XNNPACK has several threads but no helper thread runs (a browser), XNNPACK's
 * formulation uses them all.
 */
export function conv2DBackpropFilterTaps(
  backend: KernelBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const n = info.batchSize;
  if (!isDenseStride1(x, dy, info) || ci % 4 !== 0 || co % 8 !== 0) return undefined;
  const wb = backend as WasmBackendInternals;
  const simd = simdKernels(wb.wasm);
  if (simd === undefined) return undefined;
  const helpers = simdHelpers(wb.wasm);
  const helperCount = helpers?.count ?? 0;
  if (helperCount === 0 && xnnpackThreads(wb) > 1) return undefined;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // One table row per tap that reads inside the image: shift, y0, y1, x0, x1, first row of dW.
  const table: number[] = [];
  for (let ky = 0; ky < kh; ky++) {
    const y0 = Math.max(0, top - ky);
    const y1 = Math.min(oh, h + top - ky);
    for (let kx = 0; kx < kw; kx++) {
      const x0 = Math.max(0, left - kx);
      const x1 = Math.min(ow, w + left - kx);
      if (y1 > y0 && x1 > x0)
        table.push(((ky - top) * w + (kx - left)) * ci, y0, y1, x0, x1, (ky * kw + kx) * ci);
    }
  }
  const taps = table.length / 6;
  const oBlocks = co / 8;
  const parts = Math.min(1 + helperCount, oBlocks);

  return withScratch(backend, (keep) => {
    const tab = keep(wb.makeOutput([Math.max(1, table.length)], 'int32'));
    const out = wb.makeOutput([kh, kw, ci, co], 'float32');
    let running = 0;
    try {
      (wb.typedArrayFromHeap(tab) as Int32Array).set(table);
      (wb.typedArrayFromHeap(out) as Float32Array).fill(0);
      const args = [heapOffset(wb, x), heapOffset(wb, dy), heapOffset(wb, out), n, h, w, ci, oh, ow, co];
      const tabOffset = heapOffset(wb, tab);
      // Output-channel blocks [from(p), from(p + 1)) for part p; part 0 is this thread's.
      const from = (p: number) => Math.round((p * oBlocks) / parts);
      for (let p = 1; p < parts; p++) {
        helpers?.start(p - 1, 'filterTaps', [...args, tabOffset, taps, 0, ci / 4, from(p), from(p + 1)]);
        running = p;
      }
      const [xo, dyo, oo] = args as [number, number, number];
      simd.filterTaps(xo, dyo, oo, n, h, w, ci, oh, ow, co, tabOffset, taps, 0, ci / 4, 0, from(1));
    } catch (error) {
      for (let p = 1; p <= running; p++) {
        try {
          helpers?.join(p - 1);
        } catch {
          // The first failure is the one reported.
        }
      }
      backend.disposeData(out.dataId);
      throw error;
    }
    try {
      for (let p = 1; p <= running; p++) helpers?.join(p - 1);
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
