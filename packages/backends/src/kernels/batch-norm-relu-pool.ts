import * as tf from '@tensorflow/tfjs-core';
import { applyParams, batchNormRef, batchNormReluRef, epsilonOf } from './batch-norm.js';
import { accumulate, trainDx } from './batch-norm-grad.js';
import type { HeapBackend } from './max-pool-grad.js';
import { reduceRows, runRows } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import type { KernelBackendLike, TensorInfo } from './wasm-kernel-utils.js';

type KernelArgs = {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackendLike;
  attrs?: Record<string, unknown>;
};

/** [n, h, w, c] of a float32 NHWC x with even h and w and c > 0, or a one-line error naming `kernel`. */
function poolShape(kernel: string, x: TensorInfo | undefined): [number, number, number, number] {
  const [n = 0, h = 0, w = 0, c = 0] = x?.shape ?? [];
  if (
    x === undefined ||
    x.dtype !== 'float32' ||
    x.shape.length !== 4 ||
    h % 2 !== 0 ||
    w % 2 !== 0 ||
    c === 0
  ) {
    throw new Error(
      `${kernel}: needs float32 NHWC x with even height and width (a 2x2, stride-2 pooling that covers it), got ${x?.dtype} [${x?.shape.join(', ')}]`,
    );
  }
  return [n, h, w, c];
}

/** Per-channel float32 `[c]` tensors, or a one-line error naming `kernel`. */
function checkPerChannel(kernel: string, c: number, tensors: Record<string, TensorInfo | undefined>): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t === undefined || t.dtype !== 'float32' || tf.util.sizeFromShape(t.shape) !== c) {
      throw new Error(`${kernel}: needs a per-channel float32 ${name} of ${c} values`);
    }
  }
}

/**
 * `DistilljsBatchNormReluPool` (`BATCH_NORM_RELU_POOL_KERNEL` of @distilljs/core): `DistilljsBatchNormRelu`
 * followed by a 2x2, stride-2 max pooling, writing only the pooled output: the SIMD kernel
 * `batchNormApplyReluPool` (c a multiple of 4; whole pooled rows shared with the helper threads), with the
 * instructions of `batchNormApplyRelu` and `maxPool2x2`, so the bits of the two kernels run one after the
 * other. Else the same float32 operations in JavaScript ({@link batchNormReluRef}, then the first maximum
 * of each window from -Infinity by `>`, as `MaxPool`). Needs even height and width.
 */
export function batchNormReluPool(args: KernelArgs): TensorInfo {
  const kernel = 'DistilljsBatchNormReluPool';
  const backend = args.backend as HeapBackend;
  const { x, mean, variance, offset, scale } = args.inputs as Record<string, TensorInfo | undefined>;
  const [n, h, w, c] = poolShape(kernel, x);
  checkPerChannel(kernel, c, { mean, variance, offset, scale });
  const params = applyParams(
    backend,
    mean as TensorInfo,
    variance as TensorInfo,
    scale,
    offset,
    epsilonOf(args.attrs),
    c,
  );
  const out = backend.makeOutput([n, h / 2, w / 2, c], 'float32');
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  const simd = c % 4 === 0 && n > 0 ? simdKernels(backend.wasm) : undefined;
  const [xo, oo] = [at(x as TensorInfo), at(out)];
  if (simd !== undefined && xo !== undefined && oo !== undefined) {
    const pInfo = backend.makeOutput([3 * c], 'float32');
    try {
      (backend.typedArrayFromHeap(pInfo) as Float32Array).set(params);
      const p = at(pInfo) as number;
      runRows(
        backend.wasm,
        'batchNormApplyReluPool',
        (n * h) / 2,
        2 * w * c,
        (j0, j1) => [xo + j0 * 8 * w * c, oo + j0 * 2 * w * c, j1 - j0, w, c, p, p + 4 * c, p + 8 * c],
        (a) => simd.batchNormApplyReluPool(...(a as Parameters<typeof simd.batchNormApplyReluPool>)),
      );
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    } finally {
      backend.disposeData(pInfo.dataId);
    }
    return out;
  }
  const xv = backend.typedArrayFromHeap(x as TensorInfo) as Float32Array;
  const ov = backend.typedArrayFromHeap(out) as Float32Array;
  forEachWindow(n, h, w, c, (o, k, window) => {
    let best = Number.NEGATIVE_INFINITY;
    for (const i of window) {
      const r = batchNormReluRef(xv[i] as number, params, k, c);
      if (r > best) best = r;
    }
    ov[o] = best;
  });
  return out;
}

/**
 * Calls `visit(o, k, window)` for each pooled output index o (channel k) of a 2x2, stride-2 pooling over
 * NHWC [n, h, w, c] with even h and w; `window` holds the four input indices in row-major order.
 */
function forEachWindow(
  n: number,
  h: number,
  w: number,
  c: number,
  visit: (o: number, k: number, window: readonly number[]) => void,
): void {
  const row = w * c;
  const window = [0, 0, 0, 0];
  let o = 0;
  for (let j = 0; j < (n * h) / 2; j++) {
    for (let ox = 0; ox < w / 2; ox++) {
      for (let k = 0; k < c; k++) {
        const i = 2 * j * row + 2 * ox * c + k;
        window[0] = i;
        window[1] = i + c;
        window[2] = i + row;
        window[3] = i + row + c;
        visit(o++, k, window);
      }
    }
  }
}

/**
 * The gradient of {@link batchNormReluPool} (`DistilljsBatchNormTrainingGrad` with `relu: true, pool:
 * true`; dy of the pooled shape), outputs `[dx, dScale, dOffset]` as that kernel's: each window's dy goes
 * to its first maximum of relu(batchNorm(x)) (row-major, as `MaxPoolGrad`), is masked by the ReLU's
 * gradient (NaN where y is NaN), then the batch norm's training gradient, in two passes over x reading only
 * the pooled dy (SIMD `batchNormSumsReluPool` and `batchNormTrainDxReluPool`, both recomputing y and each
 * window's maximum from x with the forward pass's instructions), so neither MaxPoolGrad nor the full-size
 * gradient between them exist. c not a multiple of 4: the same selection and mask in JavaScript.
 */
export function batchNormReluPoolGrad(args: KernelArgs): TensorInfo[] {
  const kernel = 'DistilljsBatchNormTrainingGrad (pool)';
  if (args.attrs?.relu !== true) throw new Error(`${kernel}: pool needs relu: true`);
  const backend = args.backend as HeapBackend;
  const { x, mean, variance, scale, offset, dy } = args.inputs as Record<string, TensorInfo | undefined>;
  const [n, h, w, c] = poolShape(kernel, x);
  checkPerChannel(kernel, c, { mean, variance, scale, offset });
  if (dy === undefined || dy.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, [n, h / 2, w / 2, c])) {
    throw new Error(`${kernel}: needs float32 dy of the pooled shape [${[n, h / 2, w / 2, c].join(', ')}]`);
  }
  const eps = epsilonOf(args.attrs);
  const forward = applyParams(backend, mean as TensorInfo, variance as TensorInfo, scale, offset, eps, c);
  const rows = n * h * w;
  const prows = (n * h) / 2;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  const simd = c % 4 === 0 && n > 0 ? simdKernels(backend.wasm) : undefined;
  // Per channel: mean, a, b, d, then the forward pass's factor and offset.
  const params = backend.makeOutput([6 * c], 'float32');
  const outs: TensorInfo[] = [];
  try {
    const pv0 = backend.typedArrayFromHeap(params) as Float32Array;
    pv0.set(forward.subarray(0, c), 0);
    pv0.set(forward.subarray(c), 4 * c);
    const offsets = [x as TensorInfo, dy, params].map(at);
    const onHeap = simd !== undefined && offsets.every((o) => o !== undefined);
    const [xo, dyo, po] = offsets as [number, number, number];
    let sums: { sumDy: Float64Array; sumDyX: Float64Array };
    let g: Float32Array | undefined;
    if (onHeap) {
      const all = reduceRows(
        backend as Parameters<typeof reduceRows>[0],
        'batchNormSumsReluPool',
        prows,
        2 * w * c,
        2 * c,
        (j0, j1, acc) => [
          xo + j0 * 8 * w * c,
          dyo + j0 * 2 * w * c,
          j1 - j0,
          w,
          c,
          po,
          acc,
          po + 16 * c,
          po + 20 * c,
        ],
        (a) => simd.batchNormSumsReluPool(...(a as Parameters<typeof simd.batchNormSumsReluPool>)),
      );
      sums = { sumDy: all.slice(0, c), sumDyX: all.slice(c, 2 * c) };
    } else {
      g = windowGradient(backend, x as TensorInfo, dy, forward, n, h, w, c);
      sums = { sumDy: new Float64Array(c), sumDyX: new Float64Array(c) };
      const xv = backend.typedArrayFromHeap(x as TensorInfo) as Float32Array;
      accumulate(xv, g, forward.subarray(0, c), rows, c, sums.sumDy, sums.sumDyX);
    }
    outs.push(...[[n, h, w, c], [c], [c]].map((shape) => backend.makeOutput(shape, 'float32')));
    const [dxInfo, dScaleInfo, dOffsetInfo] = outs as [TensorInfo, TensorInfo, TensorInfo];
    const vv = backend.typedArrayFromHeap(variance as TensorInfo) as Float32Array;
    const sv = backend.typedArrayFromHeap(scale as TensorInfo) as Float32Array;
    const pv = backend.typedArrayFromHeap(params) as Float32Array;
    const ds = backend.typedArrayFromHeap(dScaleInfo) as Float32Array;
    const dof = backend.typedArrayFromHeap(dOffsetInfo) as Float32Array;
    for (let k = 0; k < c; k++) {
      const r = 1 / Math.sqrt((vv[k] as number) + eps);
      const s = sv[k] as number;
      pv[c + k] = s * r;
      pv[2 * c + k] = rows > 0 ? (-s * r * r * r * (sums.sumDyX[k] as number)) / rows : 0;
      pv[3 * c + k] = rows > 0 ? (-s * r * (sums.sumDy[k] as number)) / rows : 0;
      ds[k] = r * (sums.sumDyX[k] as number);
      dof[k] = sums.sumDy[k] as number;
    }
    const dxo = at(dxInfo);
    if (onHeap && dxo !== undefined) {
      runRows(
        backend.wasm,
        'batchNormTrainDxReluPool',
        prows,
        2 * w * c,
        (j0, j1) => [xo + j0 * 8 * w * c, dyo + j0 * 2 * w * c, dxo + j0 * 8 * w * c, j1 - j0, w, c, po],
        (a) => simd.batchNormTrainDxReluPool(...(a as Parameters<typeof simd.batchNormTrainDxReluPool>)),
      );
    } else {
      trainDx(
        backend.typedArrayFromHeap(x as TensorInfo) as Float32Array,
        g ?? windowGradient(backend, x as TensorInfo, dy, forward, n, h, w, c),
        backend.typedArrayFromHeap(params) as Float32Array,
        c,
        backend.typedArrayFromHeap(dxInfo) as Float32Array,
      );
    }
  } catch (error) {
    for (const t of outs) backend.disposeData(t.dataId);
    throw error;
  } finally {
    backend.disposeData(params.dataId);
  }
  return outs;
}

/**
 * The gradient reaching the batch norm's output y in JavaScript (full size): each window's dy at its first
 * maximum of relu(y) (`>` from -Infinity, as `MaxPoolGrad`), times step(y) (1 for y > 0, 0 otherwise, NaN
 * for NaN, applied to every position as the ReLU's gradient applies it).
 */
function windowGradient(
  backend: HeapBackend,
  x: TensorInfo,
  dy: TensorInfo,
  params: Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
): Float32Array {
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const g = new Float32Array(xv.length);
  forEachWindow(n, h, w, c, (o, k, window) => {
    let best = Number.NEGATIVE_INFINITY;
    let first = -1;
    for (const i of window) {
      const r = batchNormReluRef(xv[i] as number, params, k, c);
      if (r > best) {
        best = r;
        first = i;
      }
    }
    for (const i of window) {
      const y = batchNormRef(xv[i] as number, params, k, c);
      const step = y > 0 ? 1 : Number.isNaN(y) ? Number.NaN : 0;
      g[i] = (i === first ? (dyv[o] as number) : 0) * step;
    }
  });
  return g;
}
