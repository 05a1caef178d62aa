import type { HeapBackend } from './max-pool-grad.js';
import type { KernelBackendLike, KernelImpl, TensorInfo } from './wasm-kernel-utils.js';

/**
 * `Tile` for float32 and int32 by block copies on the wasm heap. Batch-norm gradients tile per-channel
 * statistics to the full activation shape (`[1, 1, 1, c]` by `[n, h, w, 1]`); the wasm backend computes the
 * source index of every output element separately. Here each innermost row is copied whole, and a result
 * that is its input repeated end to end (only leading axes tiled) is built by doubling copies.
 */
export function tile(
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const reps = (args.attrs?.reps ?? []) as number[];
  const rank = x.shape.length;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank === 0 || reps.length !== rank) {
    const out = fallback(args);
    return Array.isArray(out) ? (out[0] as TensorInfo) : out;
  }
  const backend = args.backend as HeapBackend;
  const outShape = x.shape.map((d, i) => d * (reps[i] as number));
  const out = backend.makeOutput(outShape, x.dtype);
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const size = src.length;
  if (dst.length === 0) return out;
  // When every axis up to the last tiled one has size 1, the output is the input repeated end to end.
  let lastTiled = -1;
  for (let i = 0; i < rank; i++) if ((reps[i] as number) > 1) lastTiled = i;
  if (x.shape.slice(0, lastTiled + 1).every((d) => d === 1)) {
    dst.set(src, 0);
    let filled = size;
    while (filled < dst.length) {
      const n = Math.min(filled, dst.length - filled);
      dst.copyWithin(filled, 0, n);
      filled += n;
    }
    return out;
  }
  // General case: copy each innermost row of the output from its source row, repeated along the last axis.
  const last = x.shape[rank - 1] as number;
  const lastReps = reps[rank - 1] as number;
  const outRows = dst.length / (last * lastReps);
  const index = new Array<number>(rank - 1).fill(0);
  const srcStrides = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--)
    srcStrides[i] = (srcStrides[i + 1] as number) * (x.shape[i + 1] as number);
  let at = 0;
  for (let row = 0; row < outRows; row++) {
    let srcRow = 0;
    for (let i = 0; i < rank - 1; i++)
      srcRow += ((index[i] as number) % (x.shape[i] as number)) * (srcStrides[i] as number);
    const piece = src.subarray(srcRow, srcRow + last);
    for (let r = 0; r < lastReps; r++) {
      dst.set(piece, at);
      at += last;
    }
    for (let i = rank - 2; i >= 0; i--) {
      index[i] = (index[i] as number) + 1;
      if ((index[i] as number) < (outShape[i] as number)) break;
      index[i] = 0;
    }
  }
  return out;
}
