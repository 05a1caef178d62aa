import { type SelectedBackend, selectBackend } from '@distilljs/backends';
import type { BackendRequest } from '@distilljs/core';

/** The requests the page offers, in the order `auto` tries them. */
export const BROWSER_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/**
 * Switches tfjs to the requested backend through @distilljs/backends (`auto`: webgpu, webgl, wasm, cpu,
 * the first that initialises). Each backend package is a separate chunk, loaded only when tried. The
 * wasm binaries are served from `wasm/` next to the page (copied there at build time); on wasm the fast
 * training kernels of @distilljs/backends are registered, and on this cross-origin-isolated page tfjs
 * may use threads.
 */
export function useBackend(request: BackendRequest): Promise<SelectedBackend> {
  return selectBackend(request, {
    wasmPaths: new URL('wasm/', document.baseURI).toString(),
    trainingKernels: true,
    loaders: {
      webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
      webgl: () => import('@tensorflow/tfjs-backend-webgl'),
      wasm: () => import('@tensorflow/tfjs-backend-wasm'),
      cpu: () => import('@tensorflow/tfjs-backend-cpu'),
    },
  });
}

/**
 * What runs and why, in words: "Running on wasm: auto picked wasm (...) after webgpu: ...; webgl: WebGL
 * runs on software rendering (...)". Names software rendering and software adapters outright.
 */
export function backendSentence(sel: Pick<SelectedBackend, 'backend' | 'engine' | 'reason'>): string {
  const reason = sel.reason.replace(/^requested explicitly: /, 'you asked for it: ');
  return `Running on ${sel.backend} (${sel.engine}). Why: ${reason}.`;
}
