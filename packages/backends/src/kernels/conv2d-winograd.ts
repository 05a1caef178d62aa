import type * as tf from '@tensorflow/tfjs-core';
import { convGrid } from './conv2d-padded-grid.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/** Image chunks per convolution, as in conv2d-direct.ts. */
const CHUNKS = 16;
/** The transforms' fractions as products (float64 divisions are several times slower). */
const Q4 = 1 / 4;
const Q6 = 1 / 6;
const Q12 = 1 / 12;
const Q24 = 1 / 24;
/** Channel pairs a block of the F(4x4, 3x3) filter transform. */
const BLOCK = 256;

/**
 * Winograd's filter transform for F(2x2, 3x3): U[xi][c][o] = (G g G^T)[xi] for each 3x3 slice
 * g = filter[., ., c, o] of an HWIO filter, with G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2],
 * [0, 0, 1]], computed in float64 and rounded once; `u` is float32 [16, ci, co].
 */
export function winogradFilter(filter: Float32Array, ci: number, co: number, u: Float32Array): void {
  const plane = ci * co;
  const gg = new Float64Array(12);
  for (let c = 0; c < ci; c++) {
    for (let o = 0; o < co; o++) {
      const at = c * co + o;
      // G g: 4 rows of 3, column s of g being taps (., s).
      for (let s = 0; s < 3; s++) {
        const g0 = filter[(0 * 3 + s) * plane + at] as number;
        const g1 = filter[(1 * 3 + s) * plane + at] as number;
        const g2 = filter[(2 * 3 + s) * plane + at] as number;
        gg[s] = g0;
        gg[3 + s] = (g0 + g1 + g2) / 2;
        gg[6 + s] = (g0 - g1 + g2) / 2;
        gg[9 + s] = g2;
      }
      // (G g) G^T: each row (a, b, d) -> (a, (a + b + d) / 2, (a - b + d) / 2, d).
      for (let r = 0; r < 4; r++) {
        const a = gg[3 * r] as number;
        const b = gg[3 * r + 1] as number;
        const d = gg[3 * r + 2] as number;
        u[4 * r * plane + at] = a;
        u[(4 * r + 1) * plane + at] = (a + b + d) / 2;
        u[(4 * r + 2) * plane + at] = (a - b + d) / 2;
        u[(4 * r + 3) * plane + at] = d;
      }
    }
  }
}

/**
 * Winograd's filter transform for F(4x4, 3x3): U[xi][c][o] = (G g G^T)[xi] (36 planes), with
 * G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]
 * (interpolation points 0, 1, -1, 2, -2 and infinity, matching the kernel's B^T and A^T), in float64 and
 * rounded once; `u` is float32 [36, ci, co].
 */
export function winogradFilter4(filter: Float32Array, ci: number, co: number, u: Float32Array): void {
  const plane = ci * co;
  // Blocks of BLOCK channel pairs, plane by plane (45 planes a plane apart at once would thrash the L1
  // cache); t[(3 r + s) * BLOCK + i] = (G g)[r][s] of pair at + i.
  const t = new Float64Array(18 * BLOCK);
  for (let at = 0; at < plane; at += BLOCK) {
    const len = Math.min(BLOCK, plane - at);
    for (let s = 0; s < 3; s++) {
      for (let i = 0; i < len; i++) {
        const a = filter[s * plane + at + i] as number;
        const b = filter[(3 + s) * plane + at + i] as number;
        const d = filter[(6 + s) * plane + at + i] as number;
        t[s * BLOCK + i] = a * Q4;
        t[(3 + s) * BLOCK + i] = -(a + b + d) * Q6;
        t[(6 + s) * BLOCK + i] = -(a - b + d) * Q6;
        t[(9 + s) * BLOCK + i] = a * Q24 + b * Q12 + d * Q6;
        t[(12 + s) * BLOCK + i] = a * Q24 - b * Q12 + d * Q6;
        t[(15 + s) * BLOCK + i] = d;
      }
    }
    // (G g) G^T: each row of 3 -> 6.
    for (let r = 0; r < 6; r++) {
      const o = 6 * r * plane + at;
      for (let i = 0; i < len; i++) {
        const a = t[3 * r * BLOCK + i] as number;
        const b = t[(3 * r + 1) * BLOCK + i] as number;
        const d = t[(3 * r + 2) * BLOCK + i] as number;
        u[o + i] = a * Q4;
        u[o + plane + i] = -(a + b + d) * Q6;
        u[o + 2 * plane + i] = -(a - b + d) * Q6;
        u[o + 3 * plane + i] = a * Q24 + b * Q12 + d * Q6;
        u[o + 4 * plane + i] = a * Q24 - b * Q12 + d * Q6;
        u[o + 5 * plane + i] = d;
      }
    }
  }
}

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
  readonly filter: (filter: Float32Array, ci: number, co: number, u: Float32Array) => void;
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
      filter: winogradFilter4,
      band: Math.min(tiles4, Math.max(MIN_BAND, ow / 4)),
    };
  }
  if (oh % 2 === 0 && ow % 2 === 0 && ow >= 8) {
    return { kernel: 'convWino', planes: 16, filter: winogradFilter, band: ow / 2 };
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
      variant.filter(
        wb.typedArrayFromHeap(filter) as Float32Array,
        ci,
        co,
        wb.typedArrayFromHeap(u) as Float32Array,
      );
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
