import * as tf from '@tensorflow/tfjs-core';
import { conv2dFewChannels } from './conv2d-few-channels.js';
import { convGrid } from './conv2d-padded-grid.js';
import { conv2dWinograd } from './conv2d-winograd.js';
import { conv2dWinogradTiles } from './conv2d-winograd-tiles.js';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import {
  type KernelBackendLike,
  type KernelImpl,
  run1,
  type TensorInfo,
  withScratch,
} from './wasm-kernel-utils.js';

/** Image chunks per convolution: enough for the threads to even out when one of them is slowed. */
const CHUNKS = 16;

let winogradEnabled = true;
/**
 * Whether 3x3 convolutions may use the Winograd kernels ({@link conv2dWinograd}, and
 * conv2DBackpropFilterWinograd for their filter gradients; default true). For A/B
 * measurements and tests; returns the previous setting.
 */
export function setWinogradConvolutions(enabled: boolean): boolean {
  const previous = winogradEnabled;
  winogradEnabled = enabled;
  return previous;
}

/** Whether 3x3 convolutions and their filter gradients may use the Winograd kernels. */
export function winogradConvolutions(): boolean {
  return winogradEnabled;
}

/**
 * A stride-1, undilated NHWC convolution with at least 16 input channels, output channels a multiple of 8
 * and output rows at least 4 wide, in the SIMD kernel
 * `convDirect`: `out = conv(x, filter) + bias`, clamped at zero when `relu`. Each image is first copied
 * into a zero-padded buffer (unless there is no padding), by the thread that convolves it, with bulk
 * memory copies; then each output row is computed in blocks of 4
 * positions by 8 output channels, the kernel walking one filter row (kw taps of ci channels) as one run of
 * consecutive input channels. Here it runs about as fast as XNNPACK's convolution with plain SIMD
 * (0.95-1.1x) and 1.2-1.4x as fast with relaxed SIMD's fused multiply-adds. The batch is cut into chunks of images that the
 * calling thread and the SIMD helper threads take in turn; each output element is written by one thread.
 *
 * Returns `undefined` where it does not apply (strides, dilations, channel counts, dtypes, a bias that is
 * not one value per output channel, no SIMD) or where XNNPACK would use more threads (a browser page with
 * XNNPACK threads and no helper threads).
 */
export function conv2dDirect(
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
  // XNNPACK is faster for few input channels (a network's first layer: short runs per filter row) and for
  // rows narrower than one block of 4 positions.
  if (grid === undefined || ci < 16 || ow < 4) return undefined;
  const { top, left, hp, wp, padded } = grid;
  const wb = backend as WasmBackendInternals;
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const { simd, helpers, helperCount } = kernels;
  const chunk = Math.max(1, Math.ceil(n / CHUNKS));
  const chunks = Math.ceil(n / chunk);
  return withScratch(backend, (keep) => {
    const xp = padded ? keep(wb.makeOutput([n, hp, wp, ci], 'float32')) : x;
    const zeroBias = bias === undefined ? keep(wb.makeOutput([co], 'float32')) : undefined;
    const counter = keep(wb.makeOutput([1], 'int32'));
    const out = wb.makeOutput([n, oh, ow, co], 'float32');
    try {
      // Views after every allocation (an allocation may grow the heap).
      if (zeroBias !== undefined) (wb.typedArrayFromHeap(zeroBias) as Float32Array).fill(0);
      (wb.typedArrayFromHeap(counter) as Int32Array)[0] = 0;
      const args = [
        heapOffset(wb, xp),
        heapOffset(wb, filter),
        heapOffset(wb, bias ?? (zeroBias as TensorInfo)),
        heapOffset(wb, out),
        n,
        hp,
        wp,
        ci,
        oh,
        ow,
        co,
        kh,
        kw,
        heapOffset(wb, counter),
        chunk,
        relu ? 1 : 0,
        // The kernel lays each image out on the padded grid itself, in the thread that convolves it.
        heapOffset(wb, x),
        h,
        w,
        top,
        left,
      ] as const;
      runChunked(helpers, 'convDirect', args, Math.min(helperCount, chunks - 1), () =>
        simd.convDirect(...args),
      );
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}

/** The convolution info of a `Conv2D`/`FusedConv2D` call from its inputs and attributes. */
function convInfo(
  x: TensorInfo,
  filter: TensorInfo,
  attrs: Record<string, unknown>,
): tf.backend_util.Conv2DInfo {
  const a = attrs as unknown as tf.Conv2DAttrs;
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    a.strides,
    a.dilations ?? 1,
    a.pad,
    a.dimRoundingMode,
    false,
    tf.backend_util.convertConv2DDataFormat(a.dataFormat ?? 'NHWC'),
  );
}

/**
 * {@link conv2dWinograd} (3x3 filters, 16 or more input channels, even output sizes), else
 * {@link conv2dDirect} (16 or more input channels) or {@link conv2dFewChannels} (fewer) where one applies,
 * else `undefined`.
 */
function conv2dSimd(
  backend: KernelBackendLike,
  x: TensorInfo,
  filter: TensorInfo,
  bias: TensorInfo | undefined,
  info: tf.backend_util.Conv2DInfo,
  relu: boolean,
): TensorInfo | undefined {
  if (winogradEnabled) {
    const out =
      conv2dWinograd(backend, x, filter, bias, info, relu) ??
      conv2dWinogradTiles(backend, x, filter, bias, info, relu);
    if (out !== undefined) return out;
  }
  return (
    conv2dDirect(backend, x, filter, bias, info, relu) ??
    conv2dFewChannels(backend, x, filter, bias, info, relu)
  );
}

/** `Conv2D`: {@link conv2dSimd} where it applies, else `fallback` (XNNPACK). */
export function conv2d(
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs ?? {};
  return (
    conv2dSimd(args.backend, x, filter, undefined, convInfo(x, filter, attrs), false) ??
    run1(fallback, args.backend, args.inputs, attrs)
  );
}

/** `FusedConv2D` with a per-channel bias (or none) and a linear or ReLU activation: {@link conv2dSimd}. */
export function fusedConv2d(
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs ?? {};
  const activation = (attrs.activation as string | undefined) ?? 'linear';
  if (x !== undefined && filter !== undefined && preluActivationWeights === undefined) {
    if (activation === 'linear' || activation === 'relu') {
      const out = conv2dSimd(
        args.backend,
        x,
        filter,
        bias,
        convInfo(x, filter, attrs),
        activation === 'relu',
      );
      if (out !== undefined) return out;
    }
  }
  return run1(fallback, args.backend, args.inputs, attrs);
}
