import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('the generated SIMD kernels', () => {
  it('are what scripts/build-simd-kernels.mjs writes from its text today (kernels.wat and the binary)', () => {
    const script = fileURLToPath(new URL('../../../scripts/build-simd-kernels.mjs', import.meta.url));
    // Exits 1 and names the stale file when the committed files differ from a fresh compile.
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
