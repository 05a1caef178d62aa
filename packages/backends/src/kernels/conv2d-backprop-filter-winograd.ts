import type * as tf from '@tensorflow/tfjs-core';
import { isDenseStride1 } from './conv2d-backprop-filter-gemm.js';
import { winogradLargeTiles } from './conv2d-winograd.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/**
 * Image chunks per filter gradient: enough for two threads to even out, few enough that the chunks' partial
 * sums (36 ci co floats each for F(4x4, 3x3), zeroed, accumulated in L2 and summed) stay cheap: 8 instead
 * of 16 made cifar-vgg-small's Winograd filter gradients 8-25% faster (one thread).
 */
const CHUNKS = 8;
/** Bound (floats) on the chunks' partial sums together, as there. */
const PARTIALS_MAX_FLOATS = 1 << 23;
/** Bytes of a block's transforms (of x and dy): a share of a core's L2 cache. */
const TRANSFORM_BYTES = 256 * 1024;
/** Bytes of the partial sums a caller of `sumChunks` adds at a time. */
const SUM_BLOCK_BYTES = 64 * 1024;
/** The same for F(4x4, 3x3), whose blocks may span images: longer runs measured 2-10% faster. */
const TRANSFORM_BYTES4 = 512 * 1024;

/**
 * Fewest 4x4 tiles an image for F(4x4, 3x3)'s filter gradient. Its blocks span whole images, so an 8x8
 * output's 4 tiles still make runs of 16 or more: cifar-vgg-small's 8x8 layer 14.5 -> 12.4 ms (one thread).
 */
const MIN_TILES4 = 4;

/** One of the two Winograd filter gradients: its kernel, tile, planes and final transform. */
interface FilterVariant {
  readonly kernel: 'filterWino' | 'filterWino4';
  readonly tile: number;
  readonly planes: number;
  /** The SIMD kernel of its final transform, dW = G^T P G (see `winoFilterGrad` in the generator). */
  readonly finish: 'winoFilterGrad2' | 'winoFilterGrad4';
}

const FILTER_WINO: FilterVariant = {
  kernel: 'filterWino',
  tile: 2,
  planes: 16,
  finish: 'winoFilterGrad2',
};
const FILTER_WINO4: FilterVariant = {
  kernel: 'filterWino4',
  tile: 4,
  planes: 36,
  finish: 'winoFilterGrad4',
};

/** F(4x4, 3x3) where the output is whole 4x4 tiles, at least {@link MIN_TILES4} an image; else F(2x2, 3x3). */
function filterVariant(oh: number, ow: number): FilterVariant {
  return winogradLargeTiles() && oh % 4 === 0 && ow % 4 === 0 && (oh / 4) * (ow / 4) >= MIN_TILES4
    ? FILTER_WINO4
    : FILTER_WINO;
}

/**
 * `Conv2DBackpropFilter` of a stride-1 3x3 convolution by Winograd's F(2x2, 3x3) in the SIMD kernel
 * `filterWino`: per 2x2 block of outputs and channel pair 16 multiply-adds instead of 36, the transforms of
 * x and dy being additions, then dW = G^T P G per channel pair; or by F(4x4, 3x3) in `filterWino4` (36
 * per 4x4 block instead of 144) where the output is whole 4x4 tiles, 4 or more an image. For 16 or more input channels (a multiple
 * of 4), output channels a multiple of 8 and an even output height and width; the input is padded per image
 * in the kernel. The batch is cut into up to 16 chunks of images taken by the calling thread and the SIMD
 * helper threads, each with its own partial P and scratch; the partials are added in chunk order, so the
 * result does not depend on which thread took which chunk. `blockBytes` bounds a block's transforms (default
 * 256 KB for F(2x2, 3x3), 512 KB for F(4x4, 3x3)). Returns `undefined` where it does not apply.
 */
export function conv2DBackpropFilterWinograd(
  backend: KernelBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  blockBytes?: number,
): TensorInfo | undefined {
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const n = info.batchSize;
  if (
    !isDenseStride1(x, dy, info) ||
    info.dataFormat !== 'channelsLast' ||
    kh !== 3 ||
    kw !== 3 ||
    ci < 16 ||
    ci % 4 !== 0 ||
    co % 8 !== 0 ||
    oh % 2 !== 0 ||
    ow % 2 !== 0
  ) {
    return undefined;
  }
  const { top, left, bottom, right } = info.padInfo;
  const hp = h + top + bottom;
  const wp = w + left + right;
  if (top < 0 || left < 0 || bottom < 0 || right < 0 || hp - 2 !== oh || wp - 2 !== ow) return undefined;
  const wb = backend as WasmBackendInternals;
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const { simd, helpers, helperCount } = kernels;
  const variant = filterVariant(oh, ow);
  const { tile, planes } = variant;
  const size = planes * ci * co;
  const wanted = Math.max(1 + helperCount, Math.min(CHUNKS, Math.floor(PARTIALS_MAX_FLOATS / size)));
  const chunk = Math.max(1, Math.ceil(n / wanted));
  const chunks = Math.ceil(n / chunk);
  const padded = top + left + bottom + right > 0;
  // Tile rows per block: their transforms within TRANSFORM_BYTES (blocks of even height); per chunk the
  // scratch holds V [planes, tiles, ci] and D [planes, tiles, co] of one block.
  const tileRows = oh / tile;
  const budget = blockBytes ?? (tile === 4 ? TRANSFORM_BYTES4 : TRANSFORM_BYTES);
  const fit = Math.max(1, Math.floor(budget / (planes * (ow / tile) * (ci + co) * 4)));
  // filterWino4's blocks may span images (whole ones: the products' runs are then longer than an image's
  // tiles); filterWino's lie within an image.
  const rowsPerBlock =
    tile === 4 && fit >= 2 * tileRows
      ? Math.min(fit - (fit % tileRows), chunk * tileRows)
      : Math.ceil(tileRows / Math.ceil(tileRows / fit));
  const slotFloats = planes * (rowsPerBlock * (ow / tile) * (ci + co) + 32);
  return withScratch(backend, (keep) => {
    const xp = padded ? keep(wb.makeOutput([n, hp, wp, ci], 'float32')) : x;
    const counter = keep(wb.makeOutput([1], 'int32'));
    const parts = keep(wb.makeOutput([chunks * size], 'float32'));
    const scratch = keep(wb.makeOutput([chunks * slotFloats], 'float32'));
    const out = wb.makeOutput([3, 3, ci, co], 'float32');
    try {
      // Views after every allocation (an allocation may grow the heap).
      // filterWino4 writes each chunk's partial from zeros itself (no serial fill of up to 9 MB here).
      if (variant.kernel === 'filterWino') (wb.typedArrayFromHeap(parts) as Float32Array).fill(0);
      (wb.typedArrayFromHeap(counter) as Int32Array)[0] = 0;
      const args = [
        heapOffset(wb, xp),
        heapOffset(wb, dy),
        heapOffset(wb, parts),
        n,
        hp,
        wp,
        ci,
        oh,
        ow,
        co,
        heapOffset(wb, counter),
        chunk,
        size * 4,
        heapOffset(wb, x),
        h,
        w,
        top,
        left,
        heapOffset(wb, scratch),
        slotFloats * 4,
        rowsPerBlock,
      ] as const;
      const threads = Math.min(helperCount, chunks - 1);
      if (variant.kernel === 'filterWino4') {
        runChunked(helpers, 'filterWino4', args, threads, () => simd.filterWino4(...args));
      } else {
        runChunked(helpers, 'filterWino', args, threads, () => simd.filterWino(...args));
      }
      // The chunks' partials added into the first in chunk order (float32), blocks shared with the helpers;
      // then dW = G^T P G.
      (wb.typedArrayFromHeap(counter) as Int32Array)[0] = 0;
      const sums = [
        heapOffset(wb, parts),
        chunks,
        size * 4,
        size * 4,
        heapOffset(wb, counter),
        SUM_BLOCK_BYTES,
      ] as const;
      runChunked(
        helpers,
        'sumChunks',
        sums,
        Math.min(helperCount, Math.ceil((size * 4) / SUM_BLOCK_BYTES) - 1),
        () => simd.sumChunks(...sums),
      );
      simd[variant.finish](heapOffset(wb, parts), heapOffset(wb, out), ci * co);
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
