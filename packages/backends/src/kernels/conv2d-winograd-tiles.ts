import type * as tf from '@tensorflow/tfjs-core';
import { convGrid } from './conv2d-padded-grid.js';
import { winogradLargeTiles } from './conv2d-winograd.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import { type KernelBackendLike, type TensorInfo, withScratch } from './wasm-kernel-utils.js';
import {
  runTileInput,
  runTileProducts,
  type TileGrid,
  tileLayout,
  tilePlaneBytes,
} from './winograd-tile-products.js';

/** Outputs at most this wide take the batched kernels (wider ones have rows of tiles enough for `convWino`). */
export const TILES_MAX_WIDTH = 6;

/**
 * Whether a stride-1 3x3 convolution's output is small enough for the batched Winograd kernels: even
 * height and width, at most {@link TILES_MAX_WIDTH} wide, 16 or more input channels (a multiple of 4).
 */
export function winogradTilesApply(info: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, inChannels: ci } = info;
  return (
    kh === 3 &&
    kw === 3 &&
    ci >= 16 &&
    ci % 4 === 0 &&
    oh % 2 === 0 &&
    ow % 2 === 0 &&
    ow <= TILES_MAX_WIDTH &&
    oh > 0 &&
    ow > 0
  );
}

/**
 * A stride-1, undilated 3x3 NHWC convolution with a small output (4x4, 2x2: 1-4 tiles an image) by
 * Winograd's minimal filtering with the tiles of the whole batch together, so that each product of the
 * transform is a matrix product of T = n * tiles rows: V[xi] [T, ci] by U[xi] [ci, co] in the SIMD `gemm`
 * kernel (`gemmBatch`). Outputs of whole 4x4 tiles use F(4x4, 3x3) (36 products: 4x fewer multiply-adds
 * than the direct convolution), others F(2x2, 3x3) (16: 2.25x fewer); see `tileVariant`. The filter
 * transform runs in a SIMD kernel (`winoFilter2`/`winoFilter4`), the input transforms (`winoTilesInput`,
 * `winoTiles4Input`) read x in place, positions outside the image as zeros, and the output transform
 * (`winoTilesOutput`, `winoTiles4Output`) adds the bias and clamps at zero for ReLU. Every phase but the
 * filter transform is shared with the SIMD helper threads, each output element computed by one thread.
 * Output channels a multiple of 8. Returns `undefined` where it does not apply (see
 * {@link winogradTilesApply}).
 */
export function conv2dWinogradTiles(
  backend: KernelBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  info: tf.backend_util.Conv2DInfo,
  relu: boolean,
): TensorInfo | undefined {
  const { inHeight: h, inWidth: w, batchSize: n } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const padding = convGrid(x, filter, bias, info);
  if (padding === undefined || !winogradTilesApply(info)) return undefined;
  const wb = backend as WasmBackendInternals;
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const { simd, helpers, helperCount } = kernels;
  const { variant, tilesY, tilesX, tiles, vPlane, chunk, used } = tileLayout(
    n,
    oh,
    ow,
    ci,
    winogradLargeTiles(),
    helperCount,
  );
  const { planes } = variant;
  const mPlane = tilePlaneBytes(tiles, co);
  return withScratch(backend, (keep) => {
    const zeroBias = bias === undefined ? keep(wb.makeOutput([co], 'float32')) : undefined;
    const counters = keep(wb.makeOutput([36], 'int32'));
    const u = keep(wb.makeOutput([planes, ci, co], 'float32'));
    const v = keep(wb.makeOutput([(planes * vPlane) / 4], 'float32'));
    const m = keep(wb.makeOutput([(planes * mPlane) / 4], 'float32'));
    const out = wb.makeOutput([n, oh, ow, co], 'float32');
    try {
      // Views after every allocation (an allocation may grow the heap).
      // The filter transform in a SIMD kernel (float32; the float64 JavaScript transform used before took
      // about 2 ms for F(4x4, 3x3) and 128 x 128 channels).
      simd[variant.filter](heapOffset(wb, filter), heapOffset(wb, u), ci * co);
      if (zeroBias !== undefined) (wb.typedArrayFromHeap(zeroBias) as Float32Array).fill(0);
      const grid: TileGrid = { n, h, w, tilesY, tilesX, top: padding.top, left: padding.left };
      runTileInput(variant, wb, kernels, counters, x, ci, grid, heapOffset(wb, v), vPlane);
      runTileProducts(wb, kernels, counters, {
        a: heapOffset(wb, v),
        aStride: vPlane,
        ars: ci * 4,
        acs: 4,
        b: heapOffset(wb, u),
        bStride: ci * co * 4,
        brs: co * 4,
        out: heapOffset(wb, m),
        outStride: mPlane,
        ors: co * 4,
        rows: tiles,
        cols: co,
        depth: ci,
        planes,
      });
      (wb.typedArrayFromHeap(counters) as Int32Array)[0] = 0;
      const output = [
        heapOffset(wb, m),
        heapOffset(wb, bias ?? (zeroBias as TensorInfo)),
        heapOffset(wb, out),
        n,
        co,
        tilesY,
        tilesX,
        mPlane,
        relu ? 1 : 0,
        heapOffset(wb, counters),
        chunk,
      ] as const;
      runChunked(helpers, variant.output, output, used, () => simd[variant.output](...output));
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
