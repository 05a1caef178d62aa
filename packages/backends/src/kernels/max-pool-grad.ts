import * as tf from '@tensorflow/tfjs-core';
import { runRows } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import type { KernelBackendLike, TensorInfo } from './wasm-kernel-utils.js';

/** The wasm backend's memory access (tfjs-backend-wasm 4.x `BackendWasm`). */
export interface HeapBackend extends KernelBackendLike {
  wasm?: unknown;
  dataIdMap?: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): tf.backend_util.TypedArray;
}

/**
 * `MaxPoolGrad` (NHWC) in one pass over the pooling windows, directly on the wasm heap: each window's
 * first maximum (row-major, as TensorFlow and the tfjs cpu backend choose it) receives that window's
 * incoming gradient. The wasm backend's own kernel is a scalar loop over every input pixel and every
 * window that may cover it, which dominated the training step of small CNNs. 2x2 windows with stride 2
 * over a multiple of 4 channels (every pooling layer of the zoo) run in a WebAssembly SIMD kernel, four
 * channels at a time and without branches, whole images shared with the SIMD helper threads; the
 * JavaScript loops below are the fallback.
 */
export function maxPoolGrad(args: {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackendLike;
  attrs?: Record<string, unknown>;
}): TensorInfo {
  const backend = args.backend as HeapBackend;
  const x = args.inputs.input as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const attrs = (args.attrs ?? {}) as unknown as tf.MaxPoolGradAttrs;
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const out = backend.makeOutput(x.shape.slice(), 'float32');
  // Views are taken after the allocation: growing the heap replaces its buffer.
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth } = info;
  const { strideHeight, strideWidth, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  const rowStride = inWidth * c;
  const pool2x2 =
    fh === 2 &&
    fw === 2 &&
    strideHeight === 2 &&
    strideWidth === 2 &&
    padTop === 0 &&
    padLeft === 0 &&
    2 * outHeight <= inHeight &&
    2 * outWidth <= inWidth;
  const simd = pool2x2 && c % 4 === 0 ? simdKernels(backend.wasm) : undefined;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  const [xo, dyo, dxo] = simd === undefined ? [] : [at(x), at(dy), at(out)];
  if (simd !== undefined && xo !== undefined && dyo !== undefined && dxo !== undefined) {
    // Every window writes its four positions; only rows and columns outside every window need zeros.
    if (2 * outHeight < inHeight || 2 * outWidth < inWidth) dx.fill(0);
    // Whole images shared with the SIMD helper threads: each writes only its own images' dx.
    const [xImage, dyImage] = [inHeight * rowStride * 4, outHeight * outWidth * c * 4];
    try {
      runRows(
        backend.wasm,
        'maxPoolGrad2x2',
        batchSize,
        inHeight * rowStride,
        (b0, b1) => [
          xo + b0 * xImage,
          dyo + b0 * dyImage,
          dxo + b0 * xImage,
          b1 - b0,
          inHeight,
          inWidth,
          c,
          outHeight,
          outWidth,
        ],
        (a) => simd.maxPoolGrad2x2(...(a as Parameters<typeof simd.maxPoolGrad2x2>)),
      );
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  }
  dx.fill(0);
  if (pool2x2) {
    // 2x2 windows with stride 2 inside the input (every pooling layer of the zoo): disjoint windows, four
    // comparisons per channel, no per-window scratch.
    let o = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let oy = 0; oy < outHeight; oy++) {
        let i00 = (b * inHeight + 2 * oy) * rowStride;
        for (let ox = 0; ox < outWidth; ox++) {
          for (let ch = 0; ch < c; ch++) {
            const i = i00 + ch;
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            const v00 = xv[i] as number;
            if (v00 > best) {
              best = v00;
              at = i;
            }
            const v01 = xv[i + c] as number;
            if (v01 > best) {
              best = v01;
              at = i + c;
            }
            const v10 = xv[i + rowStride] as number;
            if (v10 > best) {
              best = v10;
              at = i + rowStride;
            }
            const v11 = xv[i + rowStride + c] as number;
            if (v11 > best) at = i + rowStride + c;
            if (at >= 0) dx[at] = dyv[o + ch] as number;
          }
          o += c;
          i00 += 2 * c;
        }
      }
    }
    return out;
  }
  const best = new Float32Array(c);
  const bestAt = new Int32Array(c);
  for (let b = 0; b < batchSize; b++) {
    const xBatch = b * inHeight * rowStride;
    for (let oy = 0; oy < outHeight; oy++) {
      const y0 = oy * strideHeight - padTop;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(inHeight, y0 + fh);
      for (let ox = 0; ox < outWidth; ox++) {
        const x0 = ox * strideWidth - padLeft;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(inWidth, x0 + fw);
        best.fill(Number.NEGATIVE_INFINITY);
        bestAt.fill(-1);
        for (let yy = yStart; yy < yEnd; yy++) {
          for (let xx = xStart; xx < xEnd; xx++) {
            const base = xBatch + yy * rowStride + xx * c;
            for (let ch = 0; ch < c; ch++) {
              const v = xv[base + ch] as number;
              if (v > (best[ch] as number)) {
                best[ch] = v;
                bestAt[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((b * outHeight + oy) * outWidth + ox) * c;
        for (let ch = 0; ch < c; ch++) {
          const at = bestAt[ch] as number;
          if (at >= 0) dx[at] = (dx[at] as number) + (dyv[dyBase + ch] as number);
        }
      }
    }
  }
  return out;
}
