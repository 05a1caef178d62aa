import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { copyWasmBinaries, packData } from './vite/pack-data.js';
import { precompressDir, precompressedMiddleware } from './vite/precompress.js';

const root = fileURLToPath(new URL('.', import.meta.url));

/** Cross-origin isolation, so the wasm backend may use threads (SharedArrayBuffer). */
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * Before dev or build: packs the MNIST digits (and a Fashion-MNIST subset when Debian's package is
 * installed) into public/data/, and copies tfjs-backend-wasm's .wasm binaries into public/wasm/.
 */
function playgroundAssets(): Plugin {
  let publicDir = '';
  let log: (message: string) => void = () => {};
  let packed: Promise<void> | undefined;
  const pack = () => {
    packed ??= packData(`${publicDir}/data`, { log }).then(() => {
      copyWasmBinaries(`${publicDir}/wasm`);
    });
    return packed;
  };
  return {
    name: 'distilljs-playground-assets',
    configResolved(config) {
      publicDir = config.publicDir;
      log = (m) => config.logger.info(`[playground] ${m}`);
    },
    // Before the build reads public/ (and before the dev server serves it).
    buildStart: () => pack(),
    configureServer: () => pack(),
  };
}

/**
 * onnxruntime-web is an optional dependency: without it the page still builds, and picking an .onnx teacher
 * says how to install it (the import of any `onnxruntime-web` module fails, and @distilljs/models turns
 * that into the install command).
 */
function optionalOnnxRuntime(): Plugin {
  const installed = existsSync(join(root, 'node_modules', 'onnxruntime-web', 'package.json'));
  const missing = '\0onnxruntime-web-missing';
  return {
    name: 'distilljs-playground-optional-onnxruntime',
    enforce: 'pre',
    resolveId: (id) => (!installed && id.startsWith('onnxruntime-web') ? missing : undefined),
    load: (id) =>
      id === missing
        ? "throw new Error('onnxruntime-web is not installed (an optional dependency of the playground)');\nexport default undefined;"
        : undefined,
  };
}

/**
 * After a build, writes brotli and gzip twins of the text and wasm files; the preview server sends them to
 * browsers that accept them (the dev server is left as it is).
 */
function precompressedAssets(): Plugin {
  let outDir = '';
  let log: (message: string) => void = () => {};
  return {
    name: 'distilljs-playground-precompress',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      log = (m) => config.logger.info(`[playground] ${m}`);
    },
    closeBundle: {
      order: 'post',
      handler() {
        if (!outDir) return;
        const r = precompressDir(outDir);
        const mib = (n: number) => (n / 2 ** 20).toFixed(2);
        log(
          `precompressed ${r.files} files: ${mib(r.raw)} MiB, ${mib(r.brotli)} MiB with brotli (and .gz twins)`,
        );
      },
    },
    configurePreviewServer(server) {
      server.middlewares.use(precompressedMiddleware(outDir, isolationHeaders));
    },
  };
}

export default defineConfig({
  root,
  // Relative asset URLs, so dist/ can be served from any path.
  base: './',
  plugins: [playgroundAssets(), optionalOnnxRuntime(), precompressedAssets()],
  // Read sibling packages from their sources: no rebuild needed to see a change.
  resolve: { conditions: ['@distilljs/source', ...defaultClientConditions] },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  worker: { format: 'es' },
  // onnxruntime-web is served as it is (pre-bundling would break its file lookups), loaded only for .onnx teachers.
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});
