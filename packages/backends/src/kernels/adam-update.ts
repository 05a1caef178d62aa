import type { AdamUpdateAttrs } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { HeapBackend } from './max-pool-grad.js';
import { runRows } from './simd/simd-helpers.js';
import { simdKernels } from './simd/simd-kernels.js';
import type { KernelBackendLike, TensorInfo } from './wasm-kernel-utils.js';

const FLUSH = 2 ** -100;

/**
 * `DistilljsAdamUpdate` (`ADAM_UPDATE_KERNEL` of @distilljs/core) on the wasm heap: one pass over the
 * variable, its gradient and both moments instead of the fifteen element-wise kernels the composed
 * update runs (each a full pass with its own output). The multiple-of-4 part runs in the SIMD kernel
 * `adamUpdate`, the rest (and everything where SIMD is missing) in JavaScript with every operation
 * rounded to float32; both give the bits of the composed ops. Variables of 65,536 floats or more are
 * shared with the SIMD helper threads in fixed shares. Outputs `[pNext, mNext, vNext]`.
 */
export function adamUpdate(args: {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackendLike;
  attrs?: Record<string, unknown>;
}): TensorInfo[] {
  const backend = args.backend as HeapBackend;
  const { p, g, m, v } = args.inputs as Record<string, TensorInfo>;
  const a = (args.attrs ?? {}) as unknown as AdamUpdateAttrs;
  const pInfo = p as TensorInfo;
  for (const [name, t] of Object.entries({ g, m, v })) {
    if (
      t === undefined ||
      t.dtype !== 'float32' ||
      pInfo.dtype !== 'float32' ||
      !tf.util.arraysEqual(t.shape, pInfo.shape)
    ) {
      throw new Error(
        `DistilljsAdamUpdate: input '${name}' must be float32 of the variable's shape [${pInfo.shape}], got ${t?.dtype} [${t?.shape}]`,
      );
    }
  }
  const size = tf.util.sizeFromShape(pInfo.shape);
  const outs = [0, 1, 2].map(() => backend.makeOutput(pInfo.shape.slice(), 'float32')) as [
    TensorInfo,
    TensorInfo,
    TensorInfo,
  ];
  const f = Math.fround;
  const params = [
    a.beta1,
    a.oneMinusBeta1,
    a.beta2,
    a.oneMinusBeta2,
    a.biasCorrection2,
    a.epsilon,
    a.stepSize,
    a.decay,
  ].map(f) as [number, number, number, number, number, number, number, number];
  const simd = size >= 4 ? simdKernels(backend.wasm) : undefined;
  const at = (t: TensorInfo) => backend.dataIdMap?.get(t.dataId)?.memoryOffset;
  let done = 0;
  if (simd !== undefined && [p, g, m, v, ...outs].every((t) => at(t as TensorInfo) !== undefined)) {
    const scratch = backend.makeOutput([8], 'float32');
    try {
      (backend.typedArrayFromHeap(scratch) as Float32Array).set(params);
      done = size - (size % 4);
      const bases = [pInfo, g, m, v, ...outs].map((t) => at(t as TensorInfo) as number);
      const paramsAt = at(scratch) as number;
      // Shares of 4-float groups with the SIMD helper threads (element-wise: the same bits however split).
      runRows(
        backend.wasm,
        'adamUpdate',
        done / 4,
        4,
        (from, to) => [...bases.map((b) => b + 16 * from), 4 * (to - from), paramsAt],
        (args) => (simd.adamUpdate as (...a: number[]) => void)(...args),
      );
    } finally {
      backend.disposeData(scratch.dataId);
    }
  }
  if (done < size) {
    const [b1, c1, b2, c2b, c2, eps, step, decay] = params;
    const [pv, gv, mv, vv, pn, mn, vn] = [p, g, m, v, ...outs].map(
      (t) => backend.typedArrayFromHeap(t as TensorInfo) as Float32Array,
    ) as [Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array, Float32Array];
    for (let i = done; i < size; i++) {
      const gi = gv[i] as number;
      const mi = f(f(f(f((mv[i] as number) * b1) + f(gi * c1)) + FLUSH) - FLUSH);
      const vi = f(f(f(f((vv[i] as number) * b2) + f(f(gi * gi) * c2b)) + FLUSH) - FLUSH);
      mn[i] = mi;
      vn[i] = vi;
      pn[i] = f(f((pv[i] as number) * decay) - f(f(mi / f(f(Math.sqrt(f(vi / c2))) + eps)) * step));
    }
  }
  return outs;
}
