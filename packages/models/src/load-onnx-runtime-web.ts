import { NotInstalledError } from '@distilljs/core';
import type { OrtModule } from './onnx-teacher.js';

/** The command that installs ONNX Runtime for browsers (its wasm files are inside the package). */
export const ONNXRUNTIME_WEB_INSTALL = 'npm install onnxruntime-web';

/** Where onnxruntime-web finds its files, and how many threads it runs. */
export interface OnnxRuntimeWebOptions {
  /**
   * `ort.env.wasm.wasmPaths`: a URL prefix of the folder holding onnxruntime-web's files, or the URLs of
   * the `.wasm` (and `.mjs`) files your bundler ships (e.g. Vite's
   * `import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url')`). Default: onnxruntime-web's own choice.
   */
  readonly wasmPaths?: string | { readonly wasm?: string; readonly mjs?: string };
  /**
   * Threads of the wasm engine. Default: up to 4 when the page is cross-origin isolated (threads need
   * SharedArrayBuffer), else 1.
   */
  readonly numThreads?: number;
}

interface OrtWebModule extends OrtModule {
  env: { wasm: { wasmPaths?: unknown; numThreads?: number } };
}

/** The default thread count: 1 unless cross-origin isolated. */
export function defaultOrtWebThreads(): number {
  const g = globalThis as { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } };
  if (!g.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, g.navigator?.hardwareConcurrency ?? 1));
}

/**
 * onnxruntime-web, loaded on demand for ONNX teachers in a browser (pass the module to
 * `onnxTeacherFromBytes`). `importer` is your literal `() => import('onnxruntime-web/wasm')`, so that your
 * bundler sees and ships it; this package never imports it, so apps without ONNX need not install it. When
 * the import fails, throws a {@link NotInstalledError} with the install command. Sets `env.wasm.wasmPaths`
 * and `env.wasm.numThreads` from `options`.
 */
export async function loadOnnxRuntimeWeb(
  importer: () => Promise<unknown>,
  options: OnnxRuntimeWebOptions = {},
): Promise<OrtModule> {
  let ort: OrtWebModule;
  try {
    const mod = (await importer()) as OrtWebModule & { default?: OrtWebModule };
    ort = mod.InferenceSession ? mod : (mod.default as OrtWebModule);
    if (!ort?.InferenceSession || !ort.env?.wasm) throw new Error('the module is not onnxruntime-web');
  } catch (cause) {
    throw new NotInstalledError(
      `An ONNX teacher in the browser needs onnxruntime-web, which could not be loaded (${String((cause as Error)?.message ?? cause).split('\n')[0]}).`,
      ONNXRUNTIME_WEB_INSTALL,
      { cause },
    );
  }
  if (options.wasmPaths !== undefined) ort.env.wasm.wasmPaths = options.wasmPaths;
  ort.env.wasm.numThreads = options.numThreads ?? defaultOrtWebThreads();
  return ort;
}
