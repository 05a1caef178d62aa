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

export default defineConfig({
  root,
  // Relative asset URLs, so dist/ can be served from any path.
  base: './',
  plugins: [playgroundAssets()],
  // Read sibling packages from their sources: no rebuild needed to see a change.
  resolve: { conditions: ['@distilljs/source', ...defaultClientConditions] },
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  build: { target: 'es2022', chunkSizeWarningLimit: 4000 },
  worker: { format: 'es' },
});
