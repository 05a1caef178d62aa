import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@distilljs/source'] },
  ssr: { resolve: { conditions: ['@distilljs/source'] } },
  test: { name: 'trainer', environment: 'node', testTimeout: 60_000 },
});
