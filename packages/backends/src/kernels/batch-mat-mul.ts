import * as tf from '@tensorflow/tfjs-core';
import {
  type KernelBackendLike,
  type KernelImpl,
  requireKernel,
  run1,
  swapLastTwo,
  type TensorInfo,
  withScratch,
} from './wasm-kernel-utils.js';

/**
 * Below this many multiply-adds per matrix, a batched product is left to the backend's own loop:
 * creating one XNNPACK operator per slice costs more than it saves.
 */
const PER_SLICE_MIN_WORK = 32 * 32 * 32;

/** The backend kernels the fast matmul is built from (captured before any replacement). */
export interface MatMulParts {
  readonly transpose: KernelImpl;
  readonly reshape: KernelImpl;
  readonly slice: KernelImpl;
  readonly concat: KernelImpl;
}

/** Captures the backend kernels the fast matmul needs. */
export function matMulParts(backendName: string): MatMulParts {
  return {
    transpose: requireKernel('Transpose', backendName),
    reshape: requireKernel('Reshape', backendName),
    slice: requireKernel('Slice', backendName),
    concat: requireKernel('Concat', backendName),
  };
}

/**
 * Materialises the transposes of a (batched) matrix product and calls `multiply` on untransposed
 * operands. The wasm backend's BatchMatMul only takes XNNPACK's fast path for untransposed single
 * matrices; any transpose falls to a scalar loop that is 10-30x slower. An explicit transpose costs one
 * pass over the operand, which is small next to the O(m k n) product.
 *
 * Batched products (outer dimensions > 1) are split into one untransposed product per matrix when the
 * matrices are large enough, for the same reason. A single `a b^T` whose `b` is the larger operand (a
 * dense layer's input gradient `dy W^T`) is computed as `(b a^T)^T`, which transposes and packs only the
 * small operand and the result.
 *
 * @param multiply the backend's kernel for untransposed operands, called with `{ a, b }` and
 *   `transposeA: false, transposeB: false`; extra inputs and attributes pass through unchanged.
 */
export function fastMatMul(
  parts: MatMulParts,
  multiply: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const { backend } = args;
  const attrs = args.attrs ?? {};
  const a0 = args.inputs.a as TensorInfo;
  const b0 = args.inputs.b as TensorInfo;
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const aOuter = a0.shape.slice(0, -2);
  const bOuter = b0.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(aOuter);
  const batchB = tf.util.sizeFromShape(bOuter);
  const batched = batchA > 1 || batchB > 1;
  if (!transposeA && !transposeB && !batched) return run1(multiply, backend, args.inputs, attrs);
  const hasExtraInputs = Object.keys(args.inputs).some((name) => name !== 'a' && name !== 'b');
  if (!transposeA && transposeB && !batched && !hasExtraInputs) {
    // a [m, k] times b^T, b [n, k]: when b is the larger operand (the weights in a dense layer's input
    // gradient, dy W^T), compute (b a^T)^T instead: transposing and packing a and transposing the [n, m]
    // result moves fewer elements than transposing and packing b.
    const m = a0.shape[a0.shape.length - 2] as number;
    const k = a0.shape[a0.shape.length - 1] as number;
    const n = b0.shape[b0.shape.length - 2] as number;
    if (2 * m * k + m * n < 2 * n * k) {
      return withScratch(backend, (keep) => {
        const aT = keep(run1(parts.transpose, backend, { x: a0 }, { perm: swapLastTwo(a0.shape.length) }));
        const cT = keep(
          run1(multiply, backend, { a: b0, b: aT }, { ...attrs, transposeA: false, transposeB: false }),
        );
        const c = run1(parts.transpose, backend, { x: cT }, { perm: swapLastTwo(cT.shape.length) });
        // Outer dimensions of size 1 keep the broadcast shape the caller expects.
        const outShape = [...tf.backend_util.assertAndGetBroadcastShape(aOuter, bOuter), m, n];
        return tf.util.arraysEqual(c.shape, outShape)
          ? c
          : run1(parts.reshape, backend, { x: keep(c) }, { shape: outShape });
      });
    }
  }

  return withScratch(backend, (keep) => {
    const a = transposeA
      ? keep(run1(parts.transpose, backend, { x: a0 }, { perm: swapLastTwo(a0.shape.length) }))
      : a0;
    const b = transposeB
      ? keep(run1(parts.transpose, backend, { x: b0 }, { perm: swapLastTwo(b0.shape.length) }))
      : b0;
    const plain = { ...attrs, transposeA: false, transposeB: false };
    const m = a.shape[a.shape.length - 2] as number;
    const k = a.shape[a.shape.length - 1] as number;
    const n = b.shape[b.shape.length - 1] as number;
    const sameOrOne = batchA === batchB || batchA === 1 || batchB === 1;
    if (!batched || m * k * n < PER_SLICE_MIN_WORK || !sameOrOne || hasExtraInputs) {
      return run1(multiply, backend, { ...args.inputs, a, b }, plain);
    }
    // One XNNPACK product per matrix of the batch, then concatenated.
    const outOuter = tf.backend_util.assertAndGetBroadcastShape(aOuter, bOuter);
    const batch = Math.max(batchA, batchB);
    const a3 = keep(run1(parts.reshape, backend, { x: a }, { shape: [batchA, m, k] }));
    const b3 = keep(run1(parts.reshape, backend, { x: b }, { shape: [batchB, k, n] }));
    const pieces: TensorInfo[] = [];
    for (let i = 0; i < batch; i++) {
      const ai = keep(
        run1(parts.slice, backend, { x: a3 }, { begin: [batchA === 1 ? 0 : i, 0, 0], size: [1, m, k] }),
      );
      const bi = keep(
        run1(parts.slice, backend, { x: b3 }, { begin: [batchB === 1 ? 0 : i, 0, 0], size: [1, k, n] }),
      );
      pieces.push(keep(run1(multiply, backend, { a: ai, b: bi }, plain)));
    }
    const joined = keep(
      run1(parts.concat, backend, pieces as unknown as Record<string, TensorInfo>, { axis: 0 }),
    );
    return run1(parts.reshape, backend, { x: joined }, { shape: [...outOuter, m, n] });
  });
}
