import { InvalidArgumentError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterFew } from './conv2d-backprop-filter-few.js';
import { conv2DBackpropFilterGemm } from './conv2d-backprop-filter-gemm.js';
import { conv2DBackpropFilterRows } from './conv2d-backprop-filter-rows.js';
import { conv2DBackpropFilterTaps } from './conv2d-backprop-filter-taps.js';
import { conv2DBackpropFilterWinograd } from './conv2d-backprop-filter-winograd.js';
import { conv2DBackpropFilterWinogradTiles } from './conv2d-backprop-filter-winograd-tiles.js';
import { winogradConvolutions } from './conv2d-direct.js';
import {
  type KernelBackendLike,
  type KernelImpl,
  requireKernel,
  run1,
  type TensorInfo,
  withScratch,
} from './wasm-kernel-utils.js';

/** The backend kernels the filter gradient is built from. */
export interface Conv2DBackpropFilterParts {
  readonly conv2d: KernelImpl;
  readonly transpose: KernelImpl;
  readonly slice: KernelImpl;
}

/** Captures the backend kernels the filter gradient needs. */
export function conv2DBackpropFilterParts(backendName: string): Conv2DBackpropFilterParts {
  return {
    conv2d: requireKernel('Conv2D', backendName),
    transpose: requireKernel('Transpose', backendName),
    slice: requireKernel('Slice', backendName),
  };
}

/**
 * Whether the Winograd filter gradient is the faster: its products per 2x2 tile grow as ci * co, its
 * transforms of x and dy as ci + co, and too few tiles per image make its summation runs short. Measured
 * (one thread, batch 128, `scripts/conv-bench.mjs --no-read`): 2.5x the tap kernel's time saved for 32 -> 64
 * channels on 14x14 (ci co / (ci + co) = 21), 1.8x for 32 -> 32 on 32x32 (16); 2x2 and 4x4 outputs (1 and 4
 * tiles an image) are faster in the tap kernel.
 */
/** Fewest 2x2 tiles per image for the Winograd filter gradient. */
const MIN_TILES = 16;

function winogradPays(info: tf.backend_util.Conv2DInfo): boolean {
  const { inChannels: ci, outChannels: co, outHeight: oh, outWidth: ow } = info;
  // An image's tiles are the kernel's summation run: too few (a 2x2 or 4x4 output) and loading and
  // storing the partial sums costs more than the products.
  return (ci * co) / (ci + co) >= 16 && (oh / 2) * (ow / 2) >= MIN_TILES;
}

/**
 * `Conv2DBackpropFilter` (the gradient of a 2-D convolution with respect to its filter, NHWC, dilation 1).
 * Stride-1 3x3 convolutions with 16 or more input channels, even output sizes and enough channels for the
 * transforms to pay ({@link winogradPays}) go to {@link conv2DBackpropFilterWinograd} (Winograd's
 * F(4x4, 3x3) where the output is whole 4x4 tiles, 4x fewer multiply-adds; else F(2x2, 3x3), 2.25x fewer).
 * Stride-1 convolutions with fewer than 16 input channels go to {@link conv2DBackpropFilterFew} (output
 * channels a multiple of 8) or {@link conv2DBackpropFilterRows} (SIMD kernels that sum over the output
 * positions). Other stride-1 convolutions whose padded grid is not much larger than the output go to
 * {@link conv2DBackpropFilterGemm} (one XNNPACK matrix product per tap, no transposes). The others are
 * computed as one forward convolution, so they run in the backend's XNNPACK convolution:
 *
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of xPadded[n, oh*sh + kh, ow*sw + kw, ci] * dy[n, oh, ow, co]
 *
 * is a convolution of x transposed to [ci, h, w, n] (the batch becomes the channels) with dy transposed to
 * [oh, ow, n, co] used as the filter, dilated by the forward stride, stride 1, padded by the forward
 * padding at the top/left and so that the output is [ci, kh, kw, co]; a transpose gives [kh, kw, ci, co].
 * Rows and columns the forward pass never read (valid padding with a stride that does not divide) are
 * cropped first.
 */
export function conv2DBackpropFilter(
  parts: Conv2DBackpropFilterParts,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const { backend } = args;
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (dataFormat !== 'channelsLast') {
    throw new InvalidArgumentError(
      `Conv2DBackpropFilter (wasm, @distilljs/backends): dataFormat '${attrs.dataFormat}' is not supported; use 'NHWC'.`,
      { where: 'Conv2DBackpropFilter(dataFormat)' },
    );
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat,
  );
  const direct =
    (winogradConvolutions() && winogradPays(info)
      ? conv2DBackpropFilterWinograd(backend, x, dy, info)
      : undefined) ??
    (winogradConvolutions() ? conv2DBackpropFilterWinogradTiles(backend, x, dy, info) : undefined) ??
    conv2DBackpropFilterFew(backend, x, dy, info) ??
    conv2DBackpropFilterRows(backend, x, dy, info) ??
    conv2DBackpropFilterTaps(backend, x, dy, info) ??
    conv2DBackpropFilterGemm(backend, x, dy, info);
  if (direct !== undefined) return direct;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, inChannels: ci, batchSize: n } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  // Padding after the data so that the output is exactly kh x kw; negative means crop.
  const bottom = kh + (oh - 1) * sh - h - top;
  const right = kw + (ow - 1) * sw - w - left;

  return withScratch(backend, (keep) => {
    let xUsed = x;
    if (bottom < 0 || right < 0) {
      xUsed = keep(
        run1(
          parts.slice,
          backend,
          { x },
          { begin: [0, 0, 0, 0], size: [n, h + Math.min(bottom, 0), w + Math.min(right, 0), ci] },
        ),
      );
    }
    const xT = keep(run1(parts.transpose, backend, { x: xUsed }, { perm: [3, 1, 2, 0] }));
    const dyT = keep(run1(parts.transpose, backend, { x: dy }, { perm: [1, 2, 0, 3] }));
    const pad = [
      [0, 0],
      [top, Math.max(bottom, 0)],
      [left, Math.max(right, 0)],
      [0, 0],
    ];
    const grad = keep(
      run1(
        parts.conv2d,
        backend,
        { x: xT, filter: dyT },
        { strides: [1, 1], pad, dataFormat: 'NHWC', dilations: [sh, sw], dimRoundingMode: undefined },
      ),
    );
    return run1(parts.transpose, backend, { x: grad }, { perm: [1, 2, 0, 3] });
  });
}
