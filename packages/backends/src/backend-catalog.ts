import type { BackendName } from '@distilljs/core';
import type { Runtime } from './runtime.js';

/** What distilljs knows about one backend. */
export interface BackendInfo {
  /** Our name for it. */
  readonly backend: BackendName;
  /** The name tfjs registers it under. */
  readonly tfjsName: string;
  /** The npm package that provides it. */
  readonly packageName: string;
  /** Where it can run. */
  readonly runtimes: readonly Runtime[];
  /** One line for people. */
  readonly description: string;
  /** Other packages it needs in Node.js, with their versions (webgpu: Dawn, `webgpu@0.6.2`). */
  readonly nodePackages?: readonly string[];
}

/** Every backend distilljs can select, fastest first within each runtime. */
export const BACKENDS: readonly BackendInfo[] = [
  {
    backend: 'tensorflow-gpu',
    tfjsName: 'tensorflow',
    packageName: '@tensorflow/tfjs-node-gpu',
    runtimes: ['node'],
    description: 'libtensorflow with CUDA (NVIDIA GPUs, Linux)',
  },
  {
    backend: 'tensorflow',
    tfjsName: 'tensorflow',
    packageName: '@tensorflow/tfjs-node',
    runtimes: ['node'],
    description: 'libtensorflow on the CPU (native, multi-threaded)',
  },
  {
    backend: 'webgpu',
    tfjsName: 'webgpu',
    packageName: '@tensorflow/tfjs-backend-webgpu',
    runtimes: ['node', 'browser'],
    description: 'WebGPU compute shaders (in Node.js through Dawn, the `webgpu` package, on Vulkan)',
    nodePackages: ['webgpu@0.6.2'],
  },
  {
    backend: 'webgl',
    tfjsName: 'webgl',
    packageName: '@tensorflow/tfjs-backend-webgl',
    runtimes: ['browser'],
    description: 'WebGL 2 shaders',
  },
  {
    backend: 'wasm',
    tfjsName: 'wasm',
    packageName: '@tensorflow/tfjs-backend-wasm',
    runtimes: ['node', 'browser'],
    description: 'WebAssembly + XNNPACK (SIMD, optional threads), with distilljs training kernels',
  },
  {
    backend: 'cpu',
    tfjsName: 'cpu',
    packageName: '@tensorflow/tfjs-backend-cpu',
    runtimes: ['node', 'browser'],
    description: 'plain JavaScript (slow; always works)',
  },
];

/**
 * The order `auto` tries backends in. In Node.js, `auto` takes webgpu only on a hardware adapter (never
 * SwiftShader, lavapipe or llvmpipe, which are slower than wasm).
 */
export const AUTO_ORDER: Readonly<Record<Runtime, readonly BackendName[]>> = {
  node: ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'],
  browser: ['webgpu', 'webgl', 'wasm', 'cpu'],
};

/** Catalog entry for a backend name. */
export function backendInfo(backend: BackendName): BackendInfo {
  const info = BACKENDS.find((b) => b.backend === backend);
  if (info === undefined) throw new Error(`backendInfo: unknown backend '${backend}'`);
  return info;
}
