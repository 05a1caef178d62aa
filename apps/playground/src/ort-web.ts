import { loadOnnxRuntimeWeb, type OrtModule } from '@distilljs/models';

let ort: Promise<OrtModule> | undefined;

/**
 * onnxruntime-web (an optional dependency of the playground), imported the first time an .onnx teacher is
 * picked. Its wasm engine is the file Vite ships with the page (`?url`: dist/assets in a build, served by
 * the dev server), so it works offline; it runs threads only when the page is cross-origin isolated.
 */
export function onnxRuntimeWeb(): Promise<OrtModule> {
  ort ??= (async () => {
    const wasm = await import('onnxruntime-web/ort-wasm-simd-threaded.wasm?url').then(
      (m) => m.default,
      () => undefined,
    );
    return loadOnnxRuntimeWeb(() => import('onnxruntime-web/wasm'), wasm ? { wasmPaths: { wasm } } : {});
  })();
  ort.catch(() => {
    ort = undefined;
  });
  return ort;
}
