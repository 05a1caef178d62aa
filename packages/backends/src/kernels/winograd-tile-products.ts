import type { chunkedKernels } from './simd/simd-helpers.js';
import { runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import type { TensorInfo } from './wasm-kernel-utils.js';

/** Row chunks per product, as in simd-mat-mul.ts. */
const CHUNKS = 8;
/** Image chunks of the tile transforms. */
const IMAGE_CHUNKS = 16;
/** One cache line more between transform planes than the tiles need (planes a power of two apart alias in L1). */
const PLANE_PAD_BYTES = 64;

/** The SIMD kernels and helper threads of {@link chunkedKernels}. */
export type ChunkedKernels = NonNullable<ReturnType<typeof chunkedKernels>>;

/** Bytes between the 16 planes of a transform of `tiles` tiles by `channels` channels. */
export function tilePlaneBytes(tiles: number, channels: number): number {
  return tiles * channels * 4 + PLANE_PAD_BYTES;
}

/** Images per chunk of the tile transforms, and the chunk count. */
export function imageChunks(n: number): { chunk: number; chunks: number } {
  const chunk = Math.max(1, Math.ceil(n / IMAGE_CHUNKS));
  return { chunk, chunks: Math.ceil(n / chunk) };
}

/**
 * 16 matrix products `out[xi] = A[xi] B[xi]` ([rows, depth] by [depth, cols]), product xi on heap bytes
 * a + xi*aStride, b + xi*bStride, out + xi*outStride, A(i, p) at byte i*ars + p*acs, B's and the output's
 * rows `brs` and `ors` bytes apart, in the SIMD kernel `gemmBatch`: rows shared in chunks with the helper
 * threads, which go on to the next product without waiting for the others. `counters` is 16 int32.
 */
export interface TileProducts {
  readonly a: number;
  readonly aStride: number;
  readonly ars: number;
  readonly acs: number;
  readonly b: number;
  readonly bStride: number;
  readonly brs: number;
  readonly out: number;
  readonly outStride: number;
  readonly ors: number;
  readonly rows: number;
  readonly cols: number;
  readonly depth: number;
}

/** Runs the 16 {@link TileProducts} on the calling thread and the helpers. */
export function runTileProducts(
  wb: WasmBackendInternals,
  kernels: ChunkedKernels,
  counters: TensorInfo,
  p: TileProducts,
): void {
  const { simd, helpers, helperCount } = kernels;
  (wb.typedArrayFromHeap(counters) as Int32Array).fill(0);
  const chunk = Math.max(4, Math.ceil(p.rows / CHUNKS / 4) * 4);
  const rowChunks = Math.ceil(p.rows / chunk);
  const args = [
    p.a,
    p.aStride,
    p.ars,
    p.acs,
    p.b,
    p.bStride,
    p.brs,
    p.out,
    p.outStride,
    p.ors,
    p.rows,
    p.cols,
    p.depth,
    16,
    heapOffset(wb, counters),
    chunk,
    rowChunks,
    p.cols,
  ] as const;
  runChunked(helpers, 'gemmBatch', args, Math.min(helperCount, 16 * rowChunks - 1), () =>
    simd.gemmBatch(...args),
  );
}

/** Where the tiles of a batch lie: image and tile counts, the input's size and its padding at the top/left. */
export interface TileGrid {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly tilesY: number;
  readonly tilesX: number;
  readonly top: number;
  readonly left: number;
}

/**
 * The input transforms of every tile of NHWC `x` ([n, h, w, ci]) into the 16 planes at heap byte `v`,
 * `planeBytes` apart, in the SIMD kernel `winoTilesInput` (chunks of images shared with the helpers);
 * `counters[0]` is its chunk counter.
 */
export function runTileInput(
  wb: WasmBackendInternals,
  kernels: ChunkedKernels,
  counters: TensorInfo,
  x: TensorInfo,
  ci: number,
  grid: TileGrid,
  v: number,
  planeBytes: number,
): void {
  const { simd, helpers, helperCount } = kernels;
  const { chunk, chunks } = imageChunks(grid.n);
  (wb.typedArrayFromHeap(counters) as Int32Array)[0] = 0;
  const args = [
    heapOffset(wb, x),
    v,
    grid.n,
    grid.h,
    grid.w,
    ci,
    grid.tilesY,
    grid.tilesX,
    grid.top,
    grid.left,
    planeBytes,
    heapOffset(wb, counters),
    chunk,
  ] as const;
  runChunked(helpers, 'winoTilesInput', args, Math.min(helperCount, chunks - 1), () =>
    simd.winoTilesInput(...args),
  );
}
