import { chmodSync, copyFileSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLED_WASM_FILES } from '@distilljs/backends';
import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';
import { packMnistDigits } from './src/mnist-digits-pack.js';

// The single-file build: `pnpm --filter @distilljs/runner bundle` writes bundle/distill.mjs (every package
// inlined, tfjs and its webgpu backend included, the Chart.js bundle and the embedded digits inside) and,
// beside it, the wasm backend's files. `node distill.mjs ...` then runs from a directory holding nothing
// else. Left out, found beside it at run time when present: Dawn (`dawn.node`, or node_modules/webgpu) and
// the native tfjs-node(-gpu) packages.

const OUT = 'bundle';
const runnerRequire = createRequire(join(import.meta.dirname, 'package.json'));
const datasetsRequire = createRequire(runnerRequire.resolve('@distilljs/datasets/package.json'));
const wasmDir = dirname(runnerRequire.resolve('@tensorflow/tfjs-backend-wasm/package.json'));

function mnistDigitsGz(): Uint8Array {
  const dir = join(dirname(datasetsRequire.resolve('mnist/package.json')), 'src', 'digits');
  const digits = Array.from({ length: 10 }, (_, d) =>
    JSON.parse(readFileSync(join(dir, `${d}.json`), 'utf8')),
  );
  return gzipSync(packMnistDigits(digits), { level: 9 });
}

/** `bundled:chart-js` and `bundled:mnist-digits`, the modules src/bundle-cli.ts imports. */
const bundledModules: Plugin = {
  name: 'distill-bundled-modules',
  setup(build) {
    build.onResolve({ filter: /^bundled:/ }, (args) => ({ path: args.path, namespace: 'bundled' }));
    build.onLoad({ filter: /.*/, namespace: 'bundled' }, (args) => {
      if (args.path === 'bundled:chart-js') {
        const dist = dirname(runnerRequire.resolve('chart.js'));
        return { contents: readFileSync(join(dist, 'chart.umd.min.js'), 'utf8'), loader: 'text' };
      }
      if (args.path === 'bundled:mnist-digits') return { contents: mnistDigitsGz(), loader: 'binary' };
      return undefined;
    });
  },
};

export default defineConfig({
  entry: { distill: 'src/bundle-cli.ts' },
  outDir: OUT,
  format: ['esm'],
  outExtension: () => ({ js: '.mjs' }),
  platform: 'node',
  target: 'node20',
  clean: true,
  dts: false,
  sourcemap: false,
  minify: true,
  splitting: false,
  // Everything inlined except the native packages, which are looked for beside the bundle at run time.
  noExternal: [/./],
  external: ['webgpu', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'onnxruntime-node', 'sharp'],
  esbuildPlugins: [bundledModules],
  // CommonJS packages (tfjs, Emscripten's glue) call require() and read __dirname inside an ES module.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __distillCreateRequire } from 'node:module';",
      "import { fileURLToPath as __distillFileURLToPath } from 'node:url';",
      'const require = __distillCreateRequire(import.meta.url);',
      'const __filename = __distillFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join('\n'),
  },
  async onSuccess() {
    // The wasm binaries and the threaded build's two CommonJS scripts, with the names selectBackend
    // looks for beside a bundled app (BUNDLED_WASM_FILES of @distilljs/backends).
    for (const f of BUNDLED_WASM_FILES.wasm) copyFileSync(join(wasmDir, 'dist', f), join(OUT, f));
    copyFileSync(
      join(wasmDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js'),
      join(OUT, BUNDLED_WASM_FILES.threadedFactory),
    );
    copyFileSync(
      join(wasmDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js'),
      join(OUT, BUNDLED_WASM_FILES.threadedWorker),
    );
    chmodSync(join(OUT, 'distill.mjs'), 0o755);
    const mb = (f: string) => (statSync(join(OUT, f)).size / 2 ** 20).toFixed(2);
    console.log(`bundle/distill.mjs: ${mb('distill.mjs')} MiB`);
  },
});
