import { registerWasmTrainingKernels, selectBackend } from '@distilljs/backends';
import type { BackendRequest, BackendSelection } from '@distilljs/core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

/** The requests the page offers, in the order `auto` tries them. */
export const BROWSER_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

let wasmPathsSet = false;

/**
 * Switches tfjs to the requested backend through @distilljs/backends (`auto`: webgpu, webgl, wasm,
 * cpu, the first that initialises). The wasm binaries are served from `wasm/` next to the page; on wasm
 * the fast training kernels of @distilljs/backends are registered.
 */
export async function useBackend(request: BackendRequest): Promise<BackendSelection> {
  if (!wasmPathsSet) {
    setWasmPaths(new URL('wasm/', document.baseURI).toString());
    wasmPathsSet = true;
  }
  const selection = await selectBackend(request);
  if (selection.backend === 'wasm') registerWasmTrainingKernels(selection.tfjsName);
  return selection;
}
