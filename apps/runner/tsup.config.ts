import { defineConfig } from 'tsup';

// Two builds that run side by side (the build script empties dist/ first): ESM for the CLI and `import`,
// and CJS (.cjs, .d.cts) of the library entry for `require`.
export default defineConfig([
  {
    entry: ['src/index.ts', 'src/cli.ts'],
    format: ['esm'],
    dts: { entry: 'src/index.ts' },
    sourcemap: true,
    target: 'node20',
    async onSuccess() {
      // dist/cli.js keeps the `#!/usr/bin/env node` line of src/cli.ts; make it executable as `distill`.
      const { readFileSync, chmodSync } = await import('node:fs');
      if (!readFileSync('dist/cli.js', 'utf8').startsWith('#!/usr/bin/env node')) {
        throw new Error('dist/cli.js lost its #!/usr/bin/env node line');
      }
      chmodSync('dist/cli.js', 0o755);
    },
  },
  {
    entry: ['src/index.ts'],
    format: ['cjs'],
    shims: true,
    dts: true,
    sourcemap: true,
    target: 'node20',
  },
]);
