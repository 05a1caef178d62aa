import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@distilljs/source'] },
  ssr: { resolve: { conditions: ['@distilljs/source'] } },
  test: { name: 'playground', environment: 'node', testTimeout: 240_000, hookTimeout: 240_000 },
});
