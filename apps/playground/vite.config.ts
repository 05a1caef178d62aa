import { fileURLToPath } from 'node:url';
import { defaultClientConditions, defineConfig, type Plugin } from 'vite';
import { copyWasmBinaries, packData } from './vite/pack-data.js';

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
 * @distilljs/trainer loads its file-system checkpoint store with a dynamic import, only when a run is
 * given a checkpoint `dir` (Node). The page never does; this swaps the module for one that says so
 * instead of bundling node:fs into the page.
 */
function nodeOnlyModules(): Plugin {
  const stubId = '\0playground:file-checkpoint-store';
  return {
    name: 'distilljs-playground-node-only',
    enforce: 'pre',
    resolveId(source, importer) {
      if (source === './file-checkpoint-store.js' && importer?.includes('trainer')) return stubId;
      return null;
    },
    load(id) {
      if (id !== stubId) return null;
      return `export class FileCheckpointStore {
  constructor() {
    throw new Error('FileCheckpointStore writes checkpoint files and runs in Node only; in the browser pass checkpoint.store');
  }
}`;
    },
  };
}

export default defineConfig({
  root,
  // Relative asset URLs, so dist/ can be served from any path.
  base: './',
  plugins: [playgroundAssets(), nodeOnlyModules()],
  // Read sibling packages from their sources: no rebuild needed to see a change.
  resolve: { conditions: ['@distilljs/source', ...defaultClientConditions] },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  worker: { format: 'es' },
});
