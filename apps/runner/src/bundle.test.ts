import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appDir, bundleDir, ensureBundle } from './testing/built-cli.js';

// The single-file build (tsup.bundle.config.ts): bundle/distill.mjs and the wasm files beside it, copied
// alone into an empty directory and run there as a user of an air-gapped or GPU machine would.
let work = '';

function run(args: string[], timeout = 170_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['distill.mjs', ...args],
      { cwd: work, env: { ...process.env, CI: 'true' }, timeout, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  await ensureBundle();
  work = mkdtempSync(join(tmpdir(), 'distill-bundle-'));
  for (const f of readdirSync(bundleDir)) copyFileSync(join(bundleDir, f), join(work, f));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill.mjs, the single-file build', () => {
  it('runs `demo --quick` from a directory holding only itself and its wasm files', async () => {
    const files = readdirSync(work).sort();
    expect(files).toEqual([
      'distill.mjs',
      'tfjs-backend-wasm-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.cjs',
      'tfjs-backend-wasm-threaded-simd.wasm',
      'tfjs-backend-wasm-threaded-simd.worker.cjs',
      'tfjs-backend-wasm.wasm',
    ]);
    const size = files.reduce((s, f) => s + statSync(join(work, f)).size, 0);
    console.log(
      `distill.mjs ${(statSync(join(work, 'distill.mjs')).size / 2 ** 20).toFixed(2)} MiB; with its wasm files ${(size / 2 ** 20).toFixed(2)} MiB`,
    );
    // about 100 s alone on 2 cores; more on a loaded machine
    const r = await run(['demo', '--quick'], 420_000);
    expect(r.code, r.stderr).toBe(0);
    // wasm with its threads (the threaded build's files beside the bundle) and training kernels
    expect(r.stderr).toMatch(/backend: wasm \[tfjs 4\.22\.0 wasm \(simd, \d threads?, distilljs kernels/);
    expect(r.stdout).toMatch(/distilled student/);
    expect(r.stdout).toMatch(/report: .*report\.html/);
  }, 450_000);

  it('carries the embedded digits: the same dataset as the npm package reads', async () => {
    const inBundle = await run(['data', 'inspect', 'mnist-embedded', '--json']);
    expect(inBundle.code, inBundle.stderr).toBe(0);
    const fromPackage = execFileSync(
      process.execPath,
      [join(appDir, 'dist', 'cli.js'), 'data', 'inspect', 'mnist-embedded', '--json'],
      { encoding: 'utf8' },
    );
    expect(JSON.parse(inBundle.stdout)).toEqual(JSON.parse(fromPackage));
  });

  it('without Dawn beside it, --backend webgpu fails with one line naming the package and the command', async () => {
    const r = await run(['backends', '--backend', 'webgpu']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "distill: backend 'webgpu' needs the package webgpu (Dawn for Node.js), which is not installed. Install it with: npm install @tensorflow/tfjs-backend-webgpu@4.22.0 webgpu@0.6.2",
    ]);
  });
});
