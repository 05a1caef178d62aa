import { defineConfig } from 'vitest/config';

// One run covers every package and app (each has its own vitest.config.ts) plus the repo-wide checks in
// tests/ (publint, pack-and-install). Under CI a JSON report is written so .ci/run can print the totals.
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/*',
      {
        test: {
          name: 'repo',
          include: ['tests/**/*.test.ts'],
          environment: 'node',
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
    reporters: process.env.VITEST_JSON ? ['default', 'json'] : ['default'],
    outputFile: process.env.VITEST_JSON ? { json: process.env.VITEST_JSON } : undefined,
  },
});
