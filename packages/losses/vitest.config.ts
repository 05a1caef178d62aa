import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@distilljs/source'] },
  ssr: { resolve: { conditions: ['@distilljs/source'] } },
  test: {
    name: 'losses',
    environment: 'node',
    testTimeout: 60_000,
    // The loss tests are pure functions over tensors that set their backend explicitly, so they can share
    // one module graph per worker: tfjs, its backends and the wasm binary load once, not once per file.
    isolate: false,
  },
});
