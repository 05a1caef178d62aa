import type * as tf from '@tensorflow/tfjs-core';
import { convGrid } from './conv2d-padded-grid.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';

/** Image chunks per convolution, as in conv2d-direct.ts. */
const CHUNKS = 16;

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
 * A stride-1, undilated 3x3 NHWC convolution by Winograd's minimal filtering F(2x2, 3x3) in the SIMD kernel
 * `convWino`: 16 multiply-adds per 2x2 block of outputs and channel pair instead of 36 (2.25x fewer), the
 * input and output transforms being additions. For the layers where multiply-adds are the cost: at least
 * 16 input channels (a multiple of 4), output channels a multiple of 8, an even output height and width
 * with at least 4 blocks of 2 columns a row (8 wide), per-channel bias, linear or ReLU. Each output differs
 * from the direct convolution's by rounding only (the transforms add and subtract inputs and filter taps
 * before the products): within a few float32 ulps of the sums' magnitude. The batch is cut into chunks of
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
  if (
    grid === undefined ||
    kh !== 3 ||
    kw !== 3 ||
    ci < 16 ||
    ci % 4 !== 0 ||
    oh % 2 !== 0 ||
    ow % 2 !== 0 ||
    ow < 8
  )
    return undefined;
  const { top, left, hp, wp, padded } = grid;
  const wb = backend as WasmBackendInternals;
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const { simd, helpers, helperCount } = kernels;
  const chunk = Math.max(1, Math.ceil(n / CHUNKS));
  const chunks = Math.ceil(n / chunk);
  // Per chunk: V [16, ow / 2, ci] and M [16, 4, 8] floats.
  const slotFloats = 16 * ((ow / 2) * ci + 16) + 16 * 4 * 8;
  return withScratch(backend, (keep) => {
    const xp = padded ? keep(wb.makeOutput([n, hp, wp, ci], 'float32')) : x;
    const zeroBias = bias === undefined ? keep(wb.makeOutput([co], 'float32')) : undefined;
    const counter = keep(wb.makeOutput([1], 'int32'));
    const u = keep(wb.makeOutput([16, ci, co], 'float32'));
    const scratch = keep(wb.makeOutput([chunks * slotFloats], 'float32'));
    const out = wb.makeOutput([n, oh, ow, co], 'float32');
    try {
      // Views after every allocation (an allocation may grow the heap).
      winogradFilter(
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
      runChunked(helpers, 'convWino', args, Math.min(helperCount, chunks - 1), () => simd.convWino(...args));
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
