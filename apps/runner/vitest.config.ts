import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: {
    conditions: ['@distilljs/source'],
    alias: {
      '@distilljs/models/node': fileURLToPath(new URL('../../packages/models/src/node.ts', import.meta.url)),
    },
  },
  ssr: { resolve: { conditions: ['@distilljs/source'] } },
  test: { name: 'runner', environment: 'node', testTimeout: 180_000, hookTimeout: 180_000 },
});
