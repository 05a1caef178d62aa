import { defineConfig } from 'tsup';

export default defineConfig({
  // Two entries sharing chunks: index (Node: fs, zlib, downloads) and browser (fetch, DecompressionStream);
  // ESM for import, CJS (.cjs, .d.cts) for require.
  entry: ['src/index.ts', 'src/browser.ts'],
  format: ['esm', 'cjs'],
  shims: true,
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: true,
  target: 'es2022',
});
