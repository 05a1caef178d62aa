import type * as tf from '@tensorflow/tfjs-core';
import { sumChunkPartials } from './chunk-partials.js';
import { isDenseStride1 } from './conv2d-backprop-filter-gemm.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/** Image chunks per filter gradient: enough for the threads to even out, few enough to sum cheaply. */
const CHUNKS = 16;
/**
 * Bound (floats) on the chunks' partial sums together: with wide layers (3x3x512x512 is 2.4M floats per
 * partial) fewer chunks are used, but never fewer than one per thread.
 */
const PARTIALS_MAX_FLOATS = 1 << 23;
/** The part of a core's L1 data cache (48 KB on current x86 server cores, 32 KB on older) a block of rows uses. */
const L1_BYTES = 32 * 1024;

/**
 * `Conv2DBackpropFilter` for stride 1 and dilation 1 (NHWC), input channels a multiple of 4 and output
 * channels a multiple of 8, in the SIMD kernel `filterTaps`:
 *
 *   dW[ky, kx, c, o] = sum over b, y, x of x[b, y + ky - top, x + kx - left, c] * dy[b, y, x, o]
 *
 * over only the output positions whose input position is inside the image, reading x and dy in place.
 * Unlike the XNNPACK formulation ({@link conv2DBackpropFilterGemm}) it makes no padded copies, no products
 * with padding, and does not pay XNNPACK's single-threaded packing of dy (about a quarter of that
 * formulation's time). The batch is cut into up to 16 chunks of images that the calling thread and the SIMD
 * helper threads ({@link simdHelpers}) take in turn, so a thread slowed by other work takes fewer; each
 * chunk has its own partial sums, added in chunk order, so the result is the same whichever thread took
 * which chunk. About 19 GFLOP/s per thread here.
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
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const { simd, helpers, helperCount } = kernels;
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
  // Output rows per block: their dy and the input rows they read (about as many) in the L1 cache; blocks
  // of even height.
  const blocks = Math.ceil(oh / Math.max(1, Math.floor(L1_BYTES / (ow * (ci + co) * 4))));
  const rowBlock = Math.ceil(oh / blocks);
  const size = kh * kw * ci * co;
  // Chunks of images, taken in turn by this thread and the helpers; each has its own partial sums, added in
  // chunk order afterwards, so the result does not depend on the threads' timing.
  const wanted = Math.max(1 + helperCount, Math.min(CHUNKS, Math.floor(PARTIALS_MAX_FLOATS / size)));
  const chunk = Math.max(1, Math.ceil(n / wanted));
  const chunks = Math.ceil(n / chunk);
  return withScratch(backend, (keep) => {
    const tab = keep(wb.makeOutput([table.length + 1], 'int32'));
    const parts = keep(wb.makeOutput([chunks * size], 'float32'));
    // float64 totals (2 floats each, 8-byte aligned) for the sum over chunks.
    const acc = keep(wb.makeOutput([2 * size + 1], 'float32'));
    const out = wb.makeOutput([kh, kw, ci, co], 'float32');
    try {
      const tv = wb.typedArrayFromHeap(tab) as Int32Array;
      tv.set(table);
      tv[table.length] = 0; // the chunk counter
      (wb.typedArrayFromHeap(parts) as Float32Array).fill(0);
      const counter = heapOffset(wb, tab) + table.length * 4;
      const args = [
        heapOffset(wb, x),
        heapOffset(wb, dy),
        heapOffset(wb, parts),
        n,
        h,
        w,
        ci,
        oh,
        ow,
        co,
        heapOffset(wb, tab),
        taps,
        counter,
        chunk,
        size * 4,
        rowBlock,
      ] as const;
      runChunked(helpers, 'filterTaps', args, Math.min(helperCount, chunks - 1), () =>
        simd.filterTaps(...args),
      );
      const totals = sumChunkPartials(wb, simd, parts, acc, chunks, size);
      // float64 to float32, rounded to nearest as the element-by-element copy did.
      (wb.typedArrayFromHeap(out) as Float32Array).set(totals);
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
