import type * as tf from '@tensorflow/tfjs-core';
import { sumChunkPartials } from './chunk-partials.js';
import { isDenseStride1 } from './conv2d-backprop-filter-gemm.js';
import { FEW_CHANNELS_BELOW, fewChannelLayout } from './conv2d-few-channels.js';
import { paddedGrid } from './conv2d-padded-grid.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/** Image chunks per filter gradient: enough for the threads to even out, few enough to sum cheaply. */
const CHUNKS = 16;
/** Bytes of dy per strip of output rows that every block of taps passes over (half a 32 KB L1 cache). */
const STRIP_BYTES = 16 * 1024;

/**
 * `Conv2DBackpropFilter` for stride 1, dilation 1 (NHWC), fewer than 16 input channels and output
 * channels a multiple of 8 (a network's first layer), in the SIMD kernel `filterFew`:
 *
 *   dW[(ky, kx, c), :] = sum over b, y, x of xp[b, c, y + ky, x + kx] * dy[b, y, x, :]
 *
 * with each image of x laid out channel-major on the zero-padded grid as for the forward kernel `convFew`
 * (by the thread that takes it), dy read in place. Blocks of 4 taps by 8 output channels are held in registers while the kernel walks a strip of
 * output rows (so the strip of dy stays in the L1 cache across the blocks). The batch is cut into chunks
 * of images that the calling thread and the SIMD helper threads take in turn, each chunk summing into its
 * own partial dW; the partials are added in chunk order, so the result is the same bits whichever thread
 * took which chunk. Returns `undefined` where it does not apply; the caller then tries the other kernels.
 */
export function conv2DBackpropFilterFew(
  backend: KernelBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const { filterHeight: kh, filterWidth: kw, batchSize: n } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  if (!isDenseStride1(x, dy, info) || ci >= FEW_CHANNELS_BELOW || co % 8 !== 0 || ci === 0) return undefined;
  const grid = paddedGrid(info);
  if (grid === undefined) return undefined;
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
  const size = taps * co;
  const strip = Math.max(1, Math.floor(STRIP_BYTES / (ow * co * 4)));
  return withScratch(backend, (keep) => {
    const xp = keep(wb.makeOutput([n, ci, hp, wp], 'float32'));
    // The taps' offsets, then the chunk counter.
    const tab = keep(wb.makeOutput([taps + 1], 'int32'));
    const parts = keep(wb.makeOutput([chunks * size], 'float32'));
    // float64 totals (2 floats each, 8-byte aligned) for the sum over chunks.
    const acc = keep(wb.makeOutput([2 * size + 1], 'float32'));
    const out = wb.makeOutput([kh, kw, ci, co], 'float32');
    try {
      // Views after every allocation (an allocation may grow the heap).
      const layout = fewChannelLayout(wb, x, tab, info);
      (wb.typedArrayFromHeap(tab) as Int32Array)[taps] = 0;
      (wb.typedArrayFromHeap(parts) as Float32Array).fill(0);
      const args = [
        heapOffset(wb, xp),
        heapOffset(wb, dy),
        heapOffset(wb, parts),
        heapOffset(wb, tab),
        taps,
        n,
        ci * hp * wp * 4,
        wp * 4,
        oh,
        ow,
        co,
        strip,
        heapOffset(wb, tab) + taps * 4,
        chunk,
        size * 4,
        ...layout,
      ] as const;
      runChunked(helpers, 'filterFew', args, Math.min(helperCount, chunks - 1), () =>
        simd.filterFew(...args),
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
