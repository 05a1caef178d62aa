import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './max-pool-grad.js';
import type { KernelBackendLike, KernelImpl, TensorInfo } from './wasm-kernel-utils.js';

/** Blocks shorter than this are copied element by element (a `set` call costs more than a few stores). */
const MIN_BLOCK_SET = 32;

/**
 * `Reverse` for float32 and int32 by block copies on the wasm heap. The input-gradient convolution flips
 * every filter along its two spatial axes (`[kh, kw, ci, co]` reversed on axes 0 and 1: nine blocks of
 * `ci * co` floats for a 3x3 filter); the wasm backend computes the source index of every element
 * separately (about 9 ms for a 3x3x128x128 filter, against 0.1 ms here).
 */
export function reverse(
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const rank = x.shape.length;
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || rank === 0) {
    const out = fallback(args);
    return Array.isArray(out) ? (out[0] as TensorInfo) : out;
  }
  const dims = (args.attrs?.dims ?? []) as number | number[];
  // Axes of size 1 reverse nothing.
  const axes = new Set(tf.util.parseAxisParam(dims, x.shape).filter((a) => (x.shape[a] as number) > 1));
  const backend = args.backend as HeapBackend;
  const out = backend.makeOutput([...x.shape], x.dtype);
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  if (dst.length === 0) return out;
  if (axes.size === 0) {
    dst.set(src);
    return out;
  }
  // Rows: everything after the last reversed axis is one contiguous block, copied whole. When the last
  // axis itself is reversed, rows are its lines, copied back to front.
  const flipLine = axes.has(rank - 1);
  const last = flipLine ? rank - 2 : Math.max(...axes);
  let block = 1;
  for (let i = last + 1; i < rank; i++) block *= x.shape[i] as number;
  const strides = new Array<number>(Math.max(last + 1, 0)).fill(block);
  for (let i = last - 1; i >= 0; i--) strides[i] = (strides[i + 1] as number) * (x.shape[i + 1] as number);
  const rows = dst.length / block;
  const index = new Array<number>(Math.max(last + 1, 0)).fill(0);
  for (let row = 0, at = 0; row < rows; row++, at += block) {
    let from = 0;
    for (let i = 0; i <= last; i++) {
      const k = index[i] as number;
      from += (axes.has(i) ? (x.shape[i] as number) - 1 - k : k) * (strides[i] as number);
    }
    if (flipLine) for (let j = 0, k = from + block - 1; j < block; j++, k--) dst[at + j] = src[k] as number;
    else if (block >= MIN_BLOCK_SET) dst.set(src.subarray(from, from + block), at);
    else for (let j = 0; j < block; j++) dst[at + j] = src[from + j] as number;
    for (let i = last; i >= 0; i--) {
      index[i] = (index[i] as number) + 1;
      if ((index[i] as number) < (x.shape[i] as number)) break;
      index[i] = 0;
    }
  }
  return out;
}
