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

/**
 * Which Winograd transform the batched tiles use: F(2x2, 3x3) (4x4 windows, 16 planes) or F(4x4, 3x3)
 * (6x6 windows, 36 planes: 2.25 multiply-adds per output and channel pair instead of 4), and its kernels.
 */
export interface TileVariant {
  /** Outputs per tile along each axis. */
  readonly size: 2 | 4;
  readonly planes: 16 | 36;
  readonly input: 'winoTilesInput' | 'winoTiles4Input';
  readonly output: 'winoTilesOutput' | 'winoTiles4Output';
  readonly dy: 'winoTilesDy' | 'winoTiles4Dy';
  /** The filter transform G g G^T and the filter gradient's G^T P G, in float32 SIMD kernels. */
  readonly filter: 'winoFilter2' | 'winoFilter4';
  readonly filterGrad: 'winoFilterGrad2' | 'winoFilterGrad4';
}

export const TILES_F2: TileVariant = {
  size: 2,
  planes: 16,
  input: 'winoTilesInput',
  output: 'winoTilesOutput',
  dy: 'winoTilesDy',
  filter: 'winoFilter2',
  filterGrad: 'winoFilterGrad2',
};
export const TILES_F4: TileVariant = {
  size: 4,
  planes: 36,
  input: 'winoTiles4Input',
  output: 'winoTiles4Output',
  dy: 'winoTiles4Dy',
  filter: 'winoFilter4',
  filterGrad: 'winoFilterGrad4',
};

/** F(4x4, 3x3) where the output is whole 4x4 tiles and `large` allows it, else F(2x2, 3x3). */
export function tileVariant(oh: number, ow: number, large: boolean): TileVariant {
  return large && oh % 4 === 0 && ow % 4 === 0 ? TILES_F4 : TILES_F2;
}

/** The SIMD kernels and helper threads of {@link chunkedKernels}. */
export type ChunkedKernels = NonNullable<ReturnType<typeof chunkedKernels>>;

/** Bytes between the planes of a transform of `tiles` tiles by `channels` channels. */
export function tilePlaneBytes(tiles: number, channels: number): number {
  return tiles * channels * 4 + PLANE_PAD_BYTES;
}

/** Images per chunk of the tile transforms, and the chunk count. */
export function imageChunks(n: number): { chunk: number; chunks: number } {
  const chunk = Math.max(1, Math.ceil(n / IMAGE_CHUNKS));
  return { chunk, chunks: Math.ceil(n / chunk) };
}

/** A batch's tiles for one variant: its tile counts, the input transform's plane bytes, and the image chunks. */
export interface TileLayout {
  readonly variant: TileVariant;
  readonly tilesY: number;
  readonly tilesX: number;
  /** Tiles of the whole batch. */
  readonly tiles: number;
  /** Bytes between the planes of the input transform (`ci` channels a tile). */
  readonly vPlane: number;
  /** Images per chunk of the transforms. */
  readonly chunk: number;
  /** Helper threads the transforms use: at most one fewer than the chunks. */
  readonly used: number;
}

/**
 * The tile layout of an [n, oh, ow] output with `ci` input channels (F(4x4, 3x3) where `large` allows it and
 * the output is whole 4x4 tiles), for `helperCount` helper threads: what the forward pass and the filter
 * gradient both start from.
 */
export function tileLayout(
  n: number,
  oh: number,
  ow: number,
  ci: number,
  large: boolean,
  helperCount: number,
): TileLayout {
  const variant = tileVariant(oh, ow, large);
  const tilesY = oh / variant.size;
  const tilesX = ow / variant.size;
  const tiles = n * tilesY * tilesX;
  const { chunk, chunks } = imageChunks(n);
  return {
    variant,
    tilesY,
    tilesX,
    tiles,
    vPlane: tilePlaneBytes(tiles, ci),
    chunk,
    used: Math.min(helperCount, chunks - 1),
  };
}

/**
 * The matrix products (one per plane) `out[xi] = A[xi] B[xi]` ([rows, depth] by [depth, cols]), product xi on heap bytes
 * a + xi*aStride, b + xi*bStride, out + xi*outStride, A(i, p) at byte i*ars + p*acs, B's and the output's
 * rows `brs` and `ors` bytes apart, in the SIMD kernel `gemmBatch`: rows shared in chunks with the helper
 * threads, which go on to the next product without waiting for the others. `counters` is 36 int32.
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
  /** The number of products (the variant's planes). */
  readonly planes: number;
}

/** Runs the {@link TileProducts} on the calling thread and the helpers. */
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
    p.planes,
    heapOffset(wb, counters),
    chunk,
    rowChunks,
    p.cols,
  ] as const;
  runChunked(helpers, 'gemmBatch', args, Math.min(helperCount, p.planes * rowChunks - 1), () =>
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
 * The input transforms of every tile of NHWC `x` ([n, h, w, ci]) into the variant's planes at heap byte
 * `v`, `planeBytes` apart, in its SIMD kernel (`winoTilesInput`, `winoTiles4Input`; chunks of images
 * shared with the helpers); `counters[0]` is its chunk counter.
 */
export function runTileInput(
  variant: TileVariant,
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
  runChunked(helpers, variant.input, args, Math.min(helperCount, chunks - 1), () =>
    simd[variant.input](...args),
  );
}
