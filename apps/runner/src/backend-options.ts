import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SelectBackendOptions } from '@distilljs/backends';

/**
 * The options every backend selection of the runner uses:
 * - relaxed SIMD for the wasm training kernels (on Node 20 this sets V8's `--experimental-wasm-relaxed-simd`);
 * - the wasm, cpu and webgpu backends through literal `import()`s, so that the single-file build carries
 *   them inside (the npm package resolves them at run time; webgpu is an optional peer dependency);
 * - a `dawn.node` lying beside the runner's own file (the single-file build's directory), used in place
 *   of the `webgpu` package.
 */
export function runnerBackendOptions(): SelectBackendOptions {
  const dawnNode = join(dirname(fileURLToPath(import.meta.url)), 'dawn.node');
  return {
    relaxedSimd: 'enable',
    loaders: {
      wasm: () => import('@tensorflow/tfjs-backend-wasm'),
      cpu: () => import('@tensorflow/tfjs-backend-cpu'),
      webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
    },
    ...(existsSync(dawnNode) ? { dawnNode } : {}),
  };
}
