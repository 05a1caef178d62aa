import type * as tf from '@tensorflow/tfjs-core';
import { isDenseStride1 } from './conv2d-backprop-filter-gemm.js';
import { paddedGrid } from './conv2d-padded-grid.js';
import { winogradLargeTiles } from './conv2d-winograd.js';
import { winogradTilesApply } from './conv2d-winograd-tiles.js';
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

/**
 * `Conv2DBackpropFilter` of a stride-1 3x3 convolution with a small output (4x4, 2x2: 1-4 tiles an image)
 * by Winograd's minimal filtering with the tiles of the whole batch together (F(4x4, 3x3) for outputs of
 * whole 4x4 tiles, else F(2x2, 3x3); see `tileVariant`): the transforms of x (`winoTilesInput`,
 * `winoTiles4Input`: read in place, zeros outside the image) and of dy (`winoTilesDy`, `winoTiles4Dy`) into
 * 16 or 36 planes each, then one matrix product per plane, P[xi] = V[xi]^T D[xi] ([ci, co], summed over
 * the T = n * tiles tiles, in the SIMD `gemm` kernel with V read down its columns), then dW = G^T P G per
 * channel pair (`winoFilterGrad2`/`winoFilterGrad4`). Every element of P is summed by one thread in tile
 * order, so the result does not depend on the threads. Output channels a multiple of 4; see
 * {@link winogradTilesApply} for the rest. Returns `undefined` where it does not apply.
 */
export function conv2DBackpropFilterWinogradTiles(
  backend: KernelBackendLike,
  x: TensorInfo,
  dy: TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): TensorInfo | undefined {
  const { inHeight: h, inWidth: w, batchSize: n } = info;
  const { outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  const grid = paddedGrid(info);
  if (
    grid === undefined ||
    !isDenseStride1(x, dy, info) ||
    info.dataFormat !== 'channelsLast' ||
    co % 4 !== 0 ||
    !winogradTilesApply(info)
  ) {
    return undefined;
  }
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
  const dPlane = tilePlaneBytes(tiles, co);
  return withScratch(backend, (keep) => {
    const counters = keep(wb.makeOutput([36], 'int32'));
    const v = keep(wb.makeOutput([(planes * vPlane) / 4], 'float32'));
    const d = keep(wb.makeOutput([(planes * dPlane) / 4], 'float32'));
    const p = keep(wb.makeOutput([planes, ci, co], 'float32'));
    const out = wb.makeOutput([3, 3, ci, co], 'float32');
    try {
      const tileGrid: TileGrid = { n, h, w, tilesY, tilesX, top: grid.top, left: grid.left };
      runTileInput(variant, wb, kernels, counters, x, ci, tileGrid, heapOffset(wb, v), vPlane);
      (wb.typedArrayFromHeap(counters) as Int32Array)[0] = 0;
      const dyArgs = [
        heapOffset(wb, dy),
        heapOffset(wb, d),
        n,
        co,
        tilesY,
        tilesX,
        dPlane,
        heapOffset(wb, counters),
        chunk,
      ] as const;
      runChunked(helpers, variant.dy, dyArgs, used, () => simd[variant.dy](...dyArgs));
      runTileProducts(wb, kernels, counters, {
        a: heapOffset(wb, v),
        aStride: vPlane,
        ars: 4,
        acs: ci * 4,
        b: heapOffset(wb, d),
        bStride: dPlane,
        brs: co * 4,
        out: heapOffset(wb, p),
        outStride: ci * co * 4,
        ors: co * 4,
        rows: ci,
        cols: co,
        depth: tiles,
        planes,
      });
      simd[variant.filterGrad](heapOffset(wb, p), heapOffset(wb, out), ci * co);
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}
