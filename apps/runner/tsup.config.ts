import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/cli.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
  async onSuccess() {
    // dist/cli.js keeps the `#!/usr/bin/env node` line of src/cli.ts; make it executable as `distill`.
    const { readFileSync, chmodSync } = await import('node:fs');
    if (!readFileSync('dist/cli.js', 'utf8').startsWith('#!/usr/bin/env node')) {
      throw new Error('dist/cli.js lost its #!/usr/bin/env node line');
    }
    chmodSync('dist/cli.js', 0o755);
  },
});
