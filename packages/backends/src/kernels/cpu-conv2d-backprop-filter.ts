import { InvalidArgumentError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { KernelImpl, TensorInfo } from './wasm-kernel-utils.js';

/** The part of the tfjs `cpu` backend this kernel uses. */
interface CpuBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): TensorInfo;
}

/**
 * `Conv2DBackpropFilter` for the tfjs `cpu` backend (NHWC, dilation 1): the gradient of a 2-D convolution
 * with respect to its filter,
 *
 *   dW[kh, kw, ci, co] = sum over n, oh, ow of xPadded[n, oh*sh + kh, ow*sw + kw, ci] * dy[n, oh, ow, co]
 *
 * computed in one pass over flat arrays: for every output position and filter tap, one `x` value times the
 * contiguous row `dy[n, oh, ow, :]` is added to the contiguous row `dW[kh, kw, ci, :]`. Sums are kept in
 * float64 (the stock kernel sums each entry in a JavaScript number too). The stock kernel of tfjs-backend-cpu
 * 4.22 reads both tensors element by element through `TensorBuffer.get`, about 100x slower than the forward
 * convolution of the same FLOPs; this one costs about as much as the forward convolution.
 *
 * `NCHW` data is handed to `stock` (the kernel this one replaces).
 */
export function cpuConv2DBackpropFilter(
  stock: KernelImpl | undefined,
  args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> },
): TensorInfo | TensorInfo[] {
  const x = args.inputs.x as TensorInfo;
  const dy = args.inputs.dy as TensorInfo;
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs;
  const dataFormat = tf.backend_util.convertConv2DDataFormat(attrs.dataFormat);
  if (dataFormat !== 'channelsLast') {
    if (stock !== undefined) return stock(args as Parameters<KernelImpl>[0]);
    throw new InvalidArgumentError(
      `Conv2DBackpropFilter (cpu, @distilljs/backends): dataFormat '${attrs.dataFormat}' is not supported; use 'NHWC'.`,
      { where: 'Conv2DBackpropFilter(dataFormat)' },
    );
  }
  const backend = args.backend as CpuBackendLike;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { inChannels: ci, outChannels: co, batchSize: n } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const xs = backend.readSync(x.dataId);
  const dys = backend.readSync(dy.dataId);
  const acc = new Float64Array(kh * kw * ci * co);
  const rowX = w * ci;
  const imageX = h * rowX;
  for (let b = 0; b < n; b++) {
    for (let yr = 0; yr < oh; yr++) {
      const r0 = yr * sh - top;
      for (let yc = 0; yc < ow; yc++) {
        const c0 = yc * sw - left;
        const dyOff = ((b * oh + yr) * ow + yc) * co;
        for (let fr = 0; fr < kh; fr++) {
          const xr = r0 + fr;
          if (xr < 0 || xr >= h) continue;
          for (let fc = 0; fc < kw; fc++) {
            const xc = c0 + fc;
            if (xc < 0 || xc >= w) continue;
            const xOff = b * imageX + xr * rowX + xc * ci;
            let wOff = (fr * kw + fc) * ci * co;
            for (let d1 = 0; d1 < ci; d1++) {
              const xv = xs[xOff + d1] as number;
              for (let d2 = 0; d2 < co; d2++) {
                acc[wOff + d2] = (acc[wOff + d2] as number) + xv * (dys[dyOff + d2] as number);
              }
              wOff += co;
            }
          }
        }
      }
    }
  }
  return backend.makeTensorInfo([kh, kw, ci, co], 'float32', Float32Array.from(acc));
}

/**
 * The {@link cpuConv2DBackpropFilter} kernel as a tfjs `KernelConfig` for `backendName`, falling back to
 * `stock` (the kernel it replaces, if any) for NCHW data.
 */
export function cpuConv2DBackpropFilterConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  const stockImpl = stock?.kernelFunc as unknown as KernelImpl | undefined;
  return {
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    kernelFunc: ((args: Parameters<KernelImpl>[0]) =>
      cpuConv2DBackpropFilter(stockImpl, args)) as unknown as tf.KernelFunc,
  };
}
