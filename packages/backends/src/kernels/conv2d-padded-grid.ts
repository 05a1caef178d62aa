import * as tf from '@tensorflow/tfjs-core';
import type { TensorInfo } from './wasm-kernel-utils.js';

/** Where a stride-1 convolution's input lies on its zero-padded grid. */
export interface PaddedGrid {
  readonly top: number;
  readonly left: number;
  /** Padded height and width: the output plus the filter less one. */
  readonly hp: number;
  readonly wp: number;
  /** False when there is no padding (the input is its own grid). */
  readonly padded: boolean;
}

/**
 * The zero-padded grid of a stride-1, undilated convolution, or `undefined` where the padding is negative
 * or the grid does not give the output size.
 */
export function paddedGrid(info: tf.backend_util.Conv2DInfo): PaddedGrid | undefined {
  const { top, left, bottom, right } = info.padInfo;
  const hp = info.inHeight + top + bottom;
  const wp = info.inWidth + left + right;
  if (top < 0 || left < 0 || bottom < 0 || right < 0) return undefined;
  if (hp - info.filterHeight + 1 !== info.outHeight || wp - info.filterWidth + 1 !== info.outWidth)
    return undefined;
  return { top, left, hp, wp, padded: top + left + bottom + right > 0 };
}

/**
 * The padded grid of a forward convolution the SIMD kernels take (`convDirect`, `convWino`, `convFew`):
 * channels last, stride 1, undilated, float32 input and filter, output channels a multiple of 8, a bias of
 * one float32 per output channel (or none), a non-empty output and a {@link paddedGrid}; `undefined` for
 * any other.
 */
export function convGrid(
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  info: tf.backend_util.Conv2DInfo,
): PaddedGrid | undefined {
  const { batchSize: n, outHeight: oh, outWidth: ow, inChannels: ci, outChannels: co } = info;
  if (
    info.dataFormat !== 'channelsLast' ||
    info.strideHeight !== 1 ||
    info.strideWidth !== 1 ||
    info.dilationHeight !== 1 ||
    info.dilationWidth !== 1 ||
    x.dtype !== 'float32' ||
    filter.dtype !== 'float32' ||
    co % 8 !== 0 ||
    n * oh * ow * ci === 0 ||
    (bias !== undefined && (bias.dtype !== 'float32' || tf.util.sizeFromShape(bias.shape) !== co))
  ) {
    return undefined;
  }
  return paddedGrid(info);
}
