import type * as tf from '@tensorflow/tfjs-core';
import { simdKernels } from './simd/simd-kernels.js';
import { heapMatMul, heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/**
 * The filter gradient is computed on a zero-padded grid ({@link FilterGrid}); beyond this many grid
 * positions per output position the wasted products cost more than the convolution formulation saves
 * (measured on 3x3 filters: 1.13 and 1.31 win, 1.56 and 2.25 lose).
 */
const MAX_GRID_OVERHEAD = 1.45;
/** Below this many input channels, the taps are gathered into one product with kh*kw*ci rows. */
const GATHER_BELOW_CHANNELS = 16;
/** Upper bound (floats) of the gathered rows of one chunk of images. */
export const GATHER_MAX_FLOATS = 1 << 23;

/** Stride 1, dilation 1, float32 and nothing empty: what the heap filter-gradient kernels handle. */
export function isDenseStride1(x: TensorInfo, dy: TensorInfo, info: tf.backend_util.Conv2DInfo): boolean {
  const { strideHeight, strideWidth, dilationHeight, dilationWidth, batchSize, outHeight, outWidth } = info;
  return (
    strideHeight === 1 &&
    strideWidth === 1 &&
    dilationHeight === 1 &&
    dilationWidth === 1 &&
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    batchSize > 0 &&
    outHeight > 0 &&
    outWidth > 0
  );
}

/**
 * The zero-padded grid the heap filter-gradient kernels lay x and dy out on (stride 1). Position
 * `b * imageStride + y * rowStride + x` holds dy[b, y, x] for y < oh, x < ow (zero elsewhere), and
 * position `b * imageStride + (i + top) * rowStride + (j + left)` holds x[b, i, j], so that filter tap
 * (ky, kx) reads x at a fixed offset `ky * rowStride + kx` from each dy position. Consecutive rows share
 * their zero columns and consecutive images their zero rows: a row needs `max(left, right)` zeros after
 * its data, not `left + right` (3x3 'same' on 14x14: 15 x 15 positions per image instead of 16 x 16).
 * `tail` zeros after the last image keep the last reads inside the grid.
 */
export interface FilterGrid {
  readonly rowStride: number;
  readonly imageStride: number;
  readonly tail: number;
  readonly top: number;
  readonly left: number;
  /** The largest tap offset, `(kh - 1) * rowStride + kw - 1`. */
  readonly maxOffset: number;
}

/** The {@link FilterGrid} of a stride-1 convolution. */
export function filterGrid(info: tf.backend_util.Conv2DInfo): FilterGrid {
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const bottom = Math.max(0, oh + kh - 1 - h - top);
  const right = Math.max(0, ow + kw - 1 - w - left);
  const rowStride = Math.max(ow, w + Math.max(left, right));
  const imageStride = Math.max(oh, h + Math.max(top, bottom)) * rowStride;
  const maxOffset = (kh - 1) * rowStride + (kw - 1);
  const lastRead = (oh - 1) * rowStride + (ow - 1) + maxOffset;
  return { rowStride, imageStride, tail: Math.max(0, lastRead + 1 - imageStride), top, left, maxOffset };
}

/**
 * Writes images [b0, b0 + count) of x (NHWC, float32) channel-major onto the grid at `dst` (a float32
 * range of the heap, already zeroed): x[b, i, j, c] goes to dst[c * channelStride + (b - b0) * imageStride
 * + (i + top) * rowStride + j + left]. In the SIMD kernel `toChannelMajor` where available.
 */
export function writeChannelMajor(
  wb: WasmBackendInternals,
  x: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  grid: FilterGrid,
  dst: TensorInfo,
  dstFloat: number,
  b0: number,
  count: number,
  channelStride: number,
): void {
  const { inHeight: h, inWidth: w, inChannels: ci } = info;
  const { rowStride: wp, imageStride: plane, top, left } = grid;
  const simd = simdKernels(wb.wasm);
  const first = dstFloat + top * wp + left;
  if (simd !== undefined) {
    simd.toChannelMajor(
      heapOffset(wb, x) + b0 * h * w * ci * 4,
      count,
      h,
      w,
      ci,
      h * w * ci * 4,
      w * ci * 4,
      heapOffset(wb, dst) + first * 4,
      channelStride * 4,
      plane * 4,
      wp * 4,
    );
    return;
  }
  const xv = wb.typedArrayFromHeap(x) as Float32Array;
  const xp = wb.typedArrayFromHeap(dst) as Float32Array;
  for (let b = 0; b < count; b++) {
    for (let y = 0; y < h; y++) {
      const rowBase = first + b * plane + y * wp;
      let src = ((b0 + b) * h + y) * w * ci;
      if (ci === 1) {
        xp.set(xv.subarray(src, src + w), rowBase);
        continue;
      }
      for (let xx = 0; xx < w; xx++) {
        let d = rowBase + xx;
        for (let c = 0; c < ci; c++) {
          xp[d] = xv[src + c] as number;
          d += channelStride;
        }
        src += ci;
      }
    }
  }
}

/**
 * `Conv2DBackpropFilter` for stride 1 and dilation 1 (NHWC) as untransposed XNNPACK matrix products on
 * the wasm heap, with no transposes of tensors:
 *
 *   dW[kh, kw] = X_(kh, kw) × DY,  X_(kh, kw)[ci, p] = xPad[ci, p + kh * Wp + kw],  DY[p, co] = dyPad[p, co]
 *
 * where `p` runs over the zero-padded {@link FilterGrid} (Wp its row stride), `xPad` is x laid out
 * channel-major on that grid (the forward padding applied) and `dyPad` is dy on the same grid (zero
 * outside the output positions). Each tap's operand is then a window of `xPad` at a fixed offset: a dense
 * [ci, positions] matrix whose rows continue into the next channel for the last few positions, where
 * `dyPad` is zero. So every tap is one product of a heap range with the same `DY` (packed once by
 * XNNPACK), written straight into `dW[kh, kw]`; with few input channels the taps' rows are first copied
 * into one [kh * kw * ci, positions] matrix so the product is large enough to run at full speed.
 *
 * `maxGatherFloats` bounds the gathered matrix (in floats); larger batches are done in chunks of images
 * whose products are summed. Returns `undefined` where this does not apply (strides or dilations above 1,
 * a padded grid much larger than the output, another backend); the caller then uses the convolution
 * formulation.
 *
 * Padding and the rows' continuation are multiplied by zeros rather than skipped, so a non-finite value
 * in x or dy (a training run that has already diverged) can turn more entries of dW into NaN than the
 * cpu kernel does; finite inputs give the same sums.
 */
export function conv2DBackpropFilterGemm(
  backend: KernelBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  maxGatherFloats = GATHER_MAX_FLOATS,
): TensorInfo | undefined {
  if (!isDenseStride1(x, dy, info)) return undefined;
  const { filterHeight: kh, filterWidth: kw } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const n = info.batchSize;
  const grid = filterGrid(info);
  const { rowStride: wp, imageStride: plane, tail, maxOffset } = grid;
  const taps = kh * kw;
  const gather = ci < GATHER_BELOW_CHANNELS;
  // Images per chunk: all of them (the fewest products: each is one parallel region of XNNPACK's thread
  // pool, and on a busy machine every region waits for its slowest thread; chunks of 4096 positions were
  // 10% faster on one thread but twice as slow on two), unless the gathered rows would be too large.
  const nb = gather
    ? Math.max(1, Math.min(n, Math.floor((maxGatherFloats / (taps * ci) - tail) / plane)))
    : n;
  const chunks = Math.ceil(n / nb);
  // Positions per chunk: the product's inner dimension, and the distance between channels in xPad.
  const rc = nb * plane + tail;
  if (rc > MAX_GRID_OVERHEAD * nb * oh * ow) return undefined;
  const mm = heapMatMul(backend);
  if (mm === undefined) return undefined;
  const wb = backend as WasmBackendInternals;

  return withScratch(backend, (keep) => {
    const xPad = keep(wb.makeOutput([chunks * ci * rc + maxOffset], 'float32'));
    const dyPad = keep(wb.makeOutput([chunks * rc * co], 'float32'));
    const rows = gather ? keep(wb.makeOutput([taps * ci * rc], 'float32')) : undefined;
    const partial = chunks > 1 ? keep(wb.makeOutput([taps * ci * co], 'float32')) : undefined;
    const out = wb.makeOutput([kh, kw, ci, co], 'float32');
    try {
      // Views are taken after the allocations (growing the heap replaces its buffer) and again after
      // each product (creating an XNNPACK operator allocates).
      (wb.typedArrayFromHeap(xPad) as Float32Array).fill(0);
      // x[b, y, x, c] -> xPad[chunk, c, image in chunk, y + top, x + left]
      for (let chunk = 0; chunk < chunks; chunk++) {
        const b0 = chunk * nb;
        writeChannelMajor(wb, x, info, grid, xPad, chunk * ci * rc, b0, Math.min(nb, n - b0), rc);
      }
      // dy[b, y, x, :] -> dyPad[chunk, image in chunk, y, x, :] on the grid, zero elsewhere.
      let heap = wb.wasm.HEAPF32;
      const dyOffset = heapOffset(wb, dy) >> 2;
      const dyPadOffset = heapOffset(wb, dyPad) >> 2;
      heap.fill(0, dyPadOffset, dyPadOffset + chunks * rc * co);
      const rowLength = ow * co;
      for (let b = 0; b < n; b++) {
        const chunk = Math.floor(b / nb);
        const imageBase = dyPadOffset + (chunk * rc + (b - chunk * nb) * plane) * co;
        for (let y = 0; y < oh; y++) {
          const src = dyOffset + (b * oh + y) * rowLength;
          heap.copyWithin(imageBase + y * wp * co, src, src + rowLength);
        }
      }
      const xPadOffset = heapOffset(wb, xPad);
      const outOffset = heapOffset(wb, out);
      const rowsOffset = rows === undefined ? 0 : heapOffset(wb, rows);
      const partialOffset = partial === undefined ? 0 : heapOffset(wb, partial);
      for (let chunk = 0; chunk < chunks; chunk++) {
        const target = chunk === 0 ? outOffset : partialOffset;
        const chunkBase = xPadOffset + chunk * ci * rc * 4;
        mm.withWeights(dyPadOffset * 4 + chunk * rc * co * 4, rc, co, (mul) => {
          heap = wb.wasm.HEAPF32;
          if (rows !== undefined) {
            // Row (tap, c) of the gathered matrix: channel c's window at the tap's offset.
            const src0 = chunkBase >> 2;
            const dst0 = rowsOffset >> 2;
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const tap = ky * kw + kx;
                const shift = ky * wp + kx;
                for (let c = 0; c < ci; c++) {
                  const s = src0 + c * rc + shift;
                  heap.copyWithin(dst0 + (tap * ci + c) * rc, s, s + rc);
                }
              }
            }
            mul(rowsOffset, taps * ci, target);
          } else {
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const tap = ky * kw + kx;
                mul(chunkBase + (ky * wp + kx) * 4, ci, target + tap * ci * co * 4);
              }
            }
          }
        });
        heap = wb.wasm.HEAPF32;
        if (chunk > 0) {
          const o = outOffset >> 2;
          const p = partialOffset >> 2;
          for (let i = 0; i < taps * ci * co; i++)
            heap[o + i] = (heap[o + i] as number) + (heap[p + i] as number);
        }
      }
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
