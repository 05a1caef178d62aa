import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@distilljs/source'] },
  ssr: { resolve: { conditions: ['@distilljs/source'] } },
  test: { name: 'runner', environment: 'node', testTimeout: 180_000, hookTimeout: 180_000 },
});
