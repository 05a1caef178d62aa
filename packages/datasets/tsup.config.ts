import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entries sharing chunks: index (Node: fs, zlib, downloads) and browser (fetch, DecompressionStream).
  entry: ['src/index.ts', 'src/browser.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  target: 'es2022',
});
