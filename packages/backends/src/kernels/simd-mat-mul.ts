import * as tf from '@tensorflow/tfjs-core';
import { chunkedKernels, runChunked } from './simd/simd-helpers.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import {
  type KernelBackendLike,
  type KernelImpl,
  run1,
  swapLastTwo,
  type TensorInfo,
  withScratch,
} from './wasm-kernel-utils.js';

/** Row chunks per product: enough for the threads to even out when one of them is slowed. */
const CHUNKS = 8;
/** Below this many multiply-adds the product runs on the calling thread alone: waking a helper costs more. */
const SPLIT_MIN_WORK = 1 << 18;
/** A B operand larger than this (bytes) is shared out by columns instead of rows. */
const B_SPLIT_BYTES = 1 << 20;
const FLAG_BIAS = 1;
const FLAG_RELU = 2;
const FLAG_TRANSPOSED_OUT = 4;

/** One call of the SIMD kernel `gemm`: operands as heap tensors, strides in floats. */
interface GemmCall {
  readonly a: TensorInfo;
  readonly ars: number;
  readonly acs: number;
  readonly b: TensorInfo;
  readonly brs: number;
  readonly ors: number;
  readonly ocs: number;
  readonly rows: number;
  readonly cols: number;
  readonly depth: number;
  readonly bias: TensorInfo | undefined;
  readonly flags: number;
}

function runGemm(
  wb: WasmBackendInternals,
  kernels: NonNullable<ReturnType<typeof chunkedKernels>>,
  call: GemmCall,
  out: TensorInfo,
  counter: TensorInfo,
): void {
  const { simd, helpers, helperCount } = kernels;
  // A large B (the weights of a forward product) is shared by columns, so that each thread's part of it
  // stays in its L2 cache while every row passes over it; otherwise by rows (B read by every chunk).
  const byColumns = call.depth * call.cols * 4 > B_SPLIT_BYTES && call.cols >= 8 * CHUNKS;
  const chunk = byColumns ? call.rows : Math.max(4, Math.ceil(call.rows / CHUNKS / 4) * 4);
  const rowChunks = Math.ceil(call.rows / chunk);
  const colChunk = byColumns ? Math.ceil(call.cols / CHUNKS / 8) * 8 : call.cols;
  const chunks = rowChunks * Math.ceil(call.cols / colChunk);
  const work = call.rows * call.cols * call.depth;
  (wb.typedArrayFromHeap(counter) as Int32Array)[0] = 0;
  const args = [
    heapOffset(wb, call.a),
    call.ars * 4,
    call.acs * 4,
    heapOffset(wb, call.b),
    call.brs * 4,
    heapOffset(wb, out),
    call.ors * 4,
    call.ocs * 4,
    call.rows,
    call.cols,
    call.depth,
    call.bias === undefined ? 0 : heapOffset(wb, call.bias),
    call.flags,
    heapOffset(wb, counter),
    chunk,
    rowChunks,
    colChunk,
  ] as const;
  const helpersUsed = work < SPLIT_MIN_WORK ? 0 : Math.min(helperCount, chunks - 1);
  runChunked(helpers, 'gemm', args, helpersUsed, () => simd.gemm(...args));
}

/**
 * A float32 matrix product `a b` (either operand transposed, not both) with an optional per-column bias
 * and ReLU, in the SIMD kernel `gemm`, reading the operands in place: the forward product of a dense layer
 * `x W + b` as it is, the weight gradient `x^T dy` with `x` read down its columns, and the input gradient
 * `dy W^T` as `(W dy^T)^T` with only `dy` (the small operand) transposed and the result written transposed
 * by the kernel, so the weights are never copied or packed. Rows of the result are shared in chunks with
 * the SIMD helper threads.
 *
 * Returns `undefined` where it does not apply (batched products, other dtypes or activations, a bias with
 * a transposed `b`, both operands transposed, no SIMD, or XNNPACK threads with no helper threads), for the
 * caller's fallback.
 */
export function simdMatMul(
  backend: KernelBackendLike,
  transpose: KernelImpl,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  bias: TensorInfo | undefined,
  activation: string,
): TensorInfo | undefined {
  const aOuter = a.shape.slice(0, -2);
  const bOuter = b.shape.slice(0, -2);
  if (
    a.dtype !== 'float32' ||
    b.dtype !== 'float32' ||
    a.shape.length < 2 ||
    b.shape.length < 2 ||
    tf.util.sizeFromShape(aOuter) !== 1 ||
    tf.util.sizeFromShape(bOuter) !== 1 ||
    (transposeA && transposeB) ||
    (activation !== 'linear' && activation !== 'relu')
  ) {
    return undefined;
  }
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k || m * n === 0) return undefined;
  if (bias !== undefined && (transposeB || bias.dtype !== 'float32' || bias.shape.at(-1) !== n))
    return undefined;
  if (bias !== undefined && tf.util.sizeFromShape(bias.shape) !== n) return undefined;
  const wb = backend as WasmBackendInternals;
  const kernels = chunkedKernels(wb);
  if (kernels === undefined) return undefined;
  const outShape = [...tf.backend_util.assertAndGetBroadcastShape(aOuter, bOuter), m, n];
  const flags = (bias === undefined ? 0 : FLAG_BIAS) | (activation === 'relu' ? FLAG_RELU : 0);
  return withScratch(backend, (keep) => {
    const counter = keep(wb.makeOutput([1], 'int32'));
    // C^T[n, m] = b[n, :] . a[m, :]: a transposed (the small operand of dy W^T), the result written transposed.
    const aT = transposeB
      ? keep(run1(transpose, backend, { x: a }, { perm: swapLastTwo(a.shape.length) }))
      : undefined;
    const out = wb.makeOutput(outShape, 'float32');
    try {
      const call: GemmCall = transposeB
        ? {
            a: b,
            ars: k,
            acs: 1,
            b: aT as TensorInfo,
            brs: m,
            ors: 1,
            ocs: n,
            rows: n,
            cols: m,
            depth: k,
            bias,
            flags: flags | FLAG_TRANSPOSED_OUT,
          }
        : transposeA
          ? { a, ars: 1, acs: m, b, brs: n, ors: n, ocs: 1, rows: m, cols: n, depth: k, bias, flags }
          : { a, ars: k, acs: 1, b, brs: n, ors: n, ocs: 1, rows: m, cols: n, depth: k, bias, flags };
      runGemm(wb, kernels, call, out, counter);
    } catch (error) {
      backend.disposeData(out.dataId);
      throw error;
    }
    return out;
  });
}

/**
 * `BatchMatMul` / `_FusedMatMul`: {@link simdMatMul} where it applies, else `fallback` (the explicit
 * transposes and XNNPACK products of `fastMatMul`).
 */
export function matMulKernel(
  transpose: KernelImpl,
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const { a, b, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const attrs = args.attrs ?? {};
  if (a !== undefined && b !== undefined && preluActivationWeights === undefined) {
    const out = simdMatMul(
      args.backend,
      transpose,
      a,
      b,
      attrs.transposeA === true,
      attrs.transposeB === true,
      bias,
      (attrs.activation as string | undefined) ?? 'linear',
    );
    if (out !== undefined) return out;
  }
  return run1(fallback, args.backend, args.inputs, attrs);
}
