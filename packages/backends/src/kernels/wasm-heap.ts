import { DistillError } from '@distilljs/core';
import type * as tf from '@tensorflow/tfjs-core';
import type { KernelBackendLike, TensorInfo } from './wasm-kernel-utils.js';

/** The Emscripten module of tfjs-backend-wasm 4.x, as far as the kernels of this package use it. */
interface WasmModule {
  HEAPF32: Float32Array;
  cwrap(name: string, returnType: null, argTypes: string[]): (...args: unknown[]) => void;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
  };
}

/** The parts of tfjs-backend-wasm 4.x's `BackendWasm` that the heap kernels use. */
export interface WasmBackendInternals extends KernelBackendLike {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): tf.backend_util.TypedArray;
}

/** An untransposed XNNPACK matrix product on raw heap ranges, through views that own no memory. */
export interface HeapMatMul {
  /**
   * `out[m, n] = a[m, k] × b[k, n]`, each a dense row-major float32 range of the wasm heap given by its
   * byte offset. Products that share `bOffset` within one {@link HeapMatMul.withWeights} call reuse one
   * XNNPACK operator (`b` is packed once).
   */
  withWeights(
    bOffset: number,
    k: number,
    n: number,
    fn: (mul: (aOffset: number, m: number, outOffset: number) => void) => void,
  ): void;
}

const cache = new WeakMap<object, HeapMatMul | null>();

/**
 * Access to the wasm backend's exported `BatchMatMul` on heap ranges, or `undefined` when the backend is
 * not the tfjs-backend-wasm 4.x this was written for (then callers use their composed fallbacks).
 *
 * The backend's kernel takes tensor ids; a range is passed by registering a temporary tensor id for it
 * (`registerTensor(id, size, offset)`) and unregistering it afterwards without freeing the memory, which
 * also deletes the XNNPACK operator cached for it.
 */
export function heapMatMul(backend: KernelBackendLike): HeapMatMul | undefined {
  const cached = cache.get(backend);
  if (cached !== undefined) return cached ?? undefined;
  const b = backend as Partial<WasmBackendInternals>;
  const wasm = b.wasm;
  let result: HeapMatMul | null = null;
  if (
    wasm !== undefined &&
    typeof wasm.cwrap === 'function' &&
    typeof wasm.tfjs?.registerTensor === 'function' &&
    typeof wasm.tfjs?.disposeData === 'function' &&
    typeof b.dataIdNextNumber === 'number'
  ) {
    const call = wasm.cwrap('BatchMatMul', null, [
      'number',
      'array',
      'number',
      'number',
      'array',
      'number',
      'number',
      'number',
      'number',
    ]);
    const full = b as WasmBackendInternals;
    const view = (offset: number, size: number): number => {
      const id = full.dataIdNextNumber++;
      wasm.tfjs.registerTensor(id, size, offset);
      return id;
    };
    const shape = (dims: number[]) => new Uint8Array(new Int32Array(dims).buffer);
    result = {
      withWeights(bOffset, k, n, fn) {
        const bId = view(bOffset, k * n);
        const bShape = shape([1, k, n]);
        try {
          fn((aOffset, m, outOffset) => {
            const aId = view(aOffset, m * k);
            const outId = view(outOffset, m * n);
            try {
              call(aId, shape([1, m, k]), 3, bId, bShape, 3, 0, 0, outId);
            } finally {
              wasm.tfjs.disposeData(aId);
              wasm.tfjs.disposeData(outId);
            }
          });
        } finally {
          wasm.tfjs.disposeData(bId);
        }
      },
    };
  }
  cache.set(backend, result);
  return result ?? undefined;
}

/** The byte offset of a tensor's data on the wasm heap. */
export function heapOffset(backend: WasmBackendInternals, t: TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) {
    throw new DistillError('registerWasmTrainingKernels: a kernel input has no data on the wasm backend', {
      code: 'backend-unavailable',
      where: 'heapOffset',
    });
  }
  return data.memoryOffset;
}

/** The wasm module's thread count (XNNPACK's pool), where the backend exposes it; else 1. */
export function xnnpackThreads(backend: WasmBackendInternals): number {
  const tfjs = (backend.wasm as { tfjs?: { getThreadsCount?: () => number } }).tfjs;
  try {
    return tfjs?.getThreadsCount?.() ?? 1;
  } catch {
    return 1;
  }
}
