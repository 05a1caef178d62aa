import type * as tf from '@tensorflow/tfjs-core';
import { convGrid } from './conv2d-padded-grid.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/** Image chunks per convolution, as in conv2d-direct.ts. */
const CHUNKS = 16;

/** Whether {@link conv2dWinograd} may use F(4x4, 3x3) (default true; false: F(2x2, 3x3) only, for A/B runs). */
let largeTiles = true;

/** Whether the Winograd kernels may use F(4x4, 3x3) (see {@link setWinogradLargeTiles}). */
export function winogradLargeTiles(): boolean {
  return largeTiles;
}

/**
 * Sets whether F(4x4, 3x3) may be used, by the convolution and its filter gradient; returns the previous
 * setting.
 */
export function setWinogradLargeTiles(enabled: boolean): boolean {
  const previous = largeTiles;
  largeTiles = enabled;
  return previous;
}

/** One of the two Winograd kernels: its tile, its filter transform and the size of a chunk's scratch. */
interface WinogradVariant {
  readonly kernel: 'convWino' | 'convWino4';
  /** Transform planes: (tile + 2)^2. */
  readonly planes: number;
  /** The SIMD kernel of its filter transform, U = G g G^T (see `winoFilter` in the generator). */
  readonly filter: 'winoFilter2' | 'winoFilter4';
  /** Tiles transformed at a time (convWino: a row of 2x2 tiles; convWino4: a band of 4x4 tiles). */
  readonly band: number;
}

/** Fewest 4x4 tiles in a band of convWino4: one block of the products. */
const MIN_BAND = 4;

/**
 * F(4x4, 3x3) where the output is whole 4x4 tiles, at least {@link MIN_BAND} of them an image (bands of a
 * tile row, or of enough rows for 4 tiles); else F(2x2, 3x3) where the output is whole 2x2 tiles, at
 * least 4 a row; else none.
 */
function winogradVariant(oh: number, ow: number): WinogradVariant | undefined {
  const tiles4 = (oh / 4) * (ow / 4);
  if (largeTiles && oh % 4 === 0 && ow % 4 === 0 && tiles4 >= MIN_BAND) {
    return {
      kernel: 'convWino4',
      planes: 36,
      filter: 'winoFilter4',
      band: Math.min(tiles4, Math.max(MIN_BAND, ow / 4)),
    };
  }
  if (oh % 2 === 0 && ow % 2 === 0 && ow >= 8) {
    return { kernel: 'convWino', planes: 16, filter: 'winoFilter2', band: ow / 2 };
  }
  return undefined;
}

/**
 * A stride-1, undilated 3x3 NHWC convolution by Winograd's minimal filtering, in the SIMD kernel `convWino4`
 * (F(4x4, 3x3): 36 multiply-adds per 4x4 block of outputs and channel pair instead of 144, 4x fewer) where
 * the output is whole 4x4 tiles, at least 4 an image, else `convWino` (F(2x2, 3x3): 16 per 2x2 block instead
 * of 36, 2.25x fewer) where it is whole 2x2 tiles, at least 4 a row (see {@link winogradVariant}); the
 * transforms are additions and multiplications by small powers of two (and the filter's, once a call, by
 * 1/4, 1/6, 1/12 and 1/24). For the layers where multiply-adds are the cost: at least 16 input channels (a
 * multiple of 4), output channels a multiple of 8, per-channel bias, linear or ReLU. Each output differs
 * from the direct convolution's by rounding only: within a few float32 ulps of the sums' magnitude for
 * F(2x2, 3x3), about ten times that for F(4x4, 3x3), whose transforms scale terms by up to 8 and 1/24
 * before they cancel (as in cuDNN's and NNPACK's F(4x4, 3x3)). The batch is cut into chunks of
 * images that the calling thread and the SIMD helper threads take in turn, each with its own scratch;
 * every output element is written by one thread, so the result does not depend on the threads' timing.
 *
 * Returns `undefined` where it does not apply (then the direct kernel or XNNPACK runs).
 */
export function conv2dWinograd(
  backend: KernelBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  info: tf.backend_util.Conv2DInfo,
  relu: boolean,
): TensorInfo | undefined {
  const { filterHeight: kh, filterWidth: kw, inHeight: h, inWidth: w, batchSize: n } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const grid = convGrid(x, filter, bias, info);
  if (grid === undefined || kh !== 3 || kw !== 3 || ci < 16 || ci % 4 !== 0) return undefined;
  const variant = winogradVariant(oh, ow);
  if (variant === undefined) return undefined;
  const { planes, band } = variant;
  const { top, left, hp, wp, padded } = grid;
  const wb = backend as WasmBackendInternals;
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const { simd, helpers, helperCount } = kernels;
  const chunk = Math.max(1, Math.ceil(n / CHUNKS));
  const chunks = Math.ceil(n / chunk);
  // Per chunk: V [planes, band, ci] (each plane a cache line longer) and M [planes, 4, 8] floats.
  const slotFloats = planes * (band * ci + 16) + planes * 4 * 8;
  return withScratch(backend, (keep) => {
    const xp = padded ? keep(wb.makeOutput([n, hp, wp, ci], 'float32')) : x;
    const zeroBias = bias === undefined ? keep(wb.makeOutput([co], 'float32')) : undefined;
    const counter = keep(wb.makeOutput([1], 'int32'));
    const u = keep(wb.makeOutput([planes, ci, co], 'float32'));
    const scratch = keep(wb.makeOutput([chunks * slotFloats], 'float32'));
    const out = wb.makeOutput([n, oh, ow, co], 'float32');
    try {
      // Views after every allocation (an allocation may grow the heap).
      simd[variant.filter](heapOffset(wb, filter), heapOffset(wb, u), ci * co);
      if (zeroBias !== undefined) (wb.typedArrayFromHeap(zeroBias) as Float32Array).fill(0);
      (wb.typedArrayFromHeap(counter) as Int32Array)[0] = 0;
      const args = [
        heapOffset(wb, xp),
        heapOffset(wb, u),
        heapOffset(wb, bias ?? (zeroBias as TensorInfo)),
        heapOffset(wb, out),
        n,
        hp,
        wp,
        ci,
        oh,
        ow,
        co,
        heapOffset(wb, counter),
        chunk,
        relu ? 1 : 0,
        heapOffset(wb, x),
        h,
        w,
        top,
        left,
        heapOffset(wb, scratch),
        slotFloats * 4,
      ] as const;
      const threads = Math.min(helperCount, chunks - 1);
      if (variant.kernel === 'convWino4') {
        const args4 = [...args, band] as const;
        runChunked(helpers, 'convWino4', args4, threads, () => simd.convWino4(...args4));
      } else {
        runChunked(helpers, 'convWino', args, threads, () => simd.convWino(...args));
      }
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
