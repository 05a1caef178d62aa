import { DistillError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';

/** The tensor handle kernels exchange with a backend (no engine bookkeeping). */
export type TensorInfo = tf.TensorInfo;

/** The part of a tfjs backend that the kernels of this package use. */
export interface KernelBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

/** A kernel implementation as tfjs calls it. */
export type KernelImpl = (args: {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackendLike;
  attrs?: Record<string, unknown>;
}) => TensorInfo | TensorInfo[];

/**
 * Returns the kernel function tfjs has registered for `kernelName` on `backendName`, or throws a clear
 * error when it is missing (an older or trimmed build of the backend).
 */
export function requireKernel(kernelName: string, backendName: string): KernelImpl {
  const config = tf.getKernel(kernelName, backendName);
  if (config === undefined) {
    throw new DistillError(
      `registerWasmTrainingKernels: the '${backendName}' backend has no '${kernelName}' kernel registered; ` +
        `import '@tensorflow/tfjs-backend-wasm' (4.22.0, the version these kernels were written for) first.`,
      { code: 'backend-unavailable', where: `registerWasmTrainingKernels(${backendName})` },
    );
  }
  return config.kernelFunc as unknown as KernelImpl;
}

/** Calls a kernel that returns one tensor. */
export function run1(
  kernel: KernelImpl,
  backend: KernelBackendLike,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {},
): TensorInfo {
  const out = kernel({ inputs, backend, attrs });
  return Array.isArray(out) ? (out[0] as TensorInfo) : out;
}

/**
 * Runs `fn` with a scratch list of intermediate tensor handles and frees every one of them afterwards
 * (on success and on error), except the value `fn` returns.
 */
export function withScratch<T extends TensorInfo>(
  backend: KernelBackendLike,
  fn: (keep: <U extends TensorInfo>(t: U) => U) => T,
): T {
  const scratch: TensorInfo[] = [];
  let result: T | undefined;
  try {
    result = fn((t) => {
      scratch.push(t);
      return t;
    });
    return result;
  } finally {
    for (const t of scratch) {
      if (t !== result) backend.disposeData(t.dataId);
    }
  }
}

/** The permutation that swaps the last two axes of a tensor of the given rank. */
export function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 1] = rank - 2;
  perm[rank - 2] = rank - 1;
  return perm;
}
