import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ensureBundle } from '../apps/runner/src/testing/built-cli.js';
import { ROOT } from './workspace.js';

// scripts/gpu-check.sh end to end, as on a GPU machine: gather the kit (without the Node binary, which
// this machine has), then run the kit's copy of the script from the kit alone, on SwiftShader (the Vulkan
// driver Debian's Chromium ships; the kit's own Vulkan loader) and wasm, with --quick and a short budget.
const script = join(ROOT, 'scripts', 'gpu-check.sh');
const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
let work = '';

function sh(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      args,
      { env, cwd: work, timeout: 280_000, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** This process's environment without any Vulkan driver or loader path, with node on PATH. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'LD_LIBRARY_PATH', 'DISTILL', 'TORCH_REFERENCE'])
    delete env[k];
  env.PATH = `${dirname(process.execPath)}:${env.PATH}`;
  return { ...env, ...extra };
}

beforeAll(async () => {
  if (!existsSync(ICD)) throw new Error(`${ICD} is missing: apt-get install -y chromium (.ci/run does this)`);
  ensureBuilt();
  await ensureBundle();
  work = mkdtempSync(join(tmpdir(), 'distill-gpu-check-'));
}, 300_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('scripts/gpu-check.sh', () => {
  it('gathers a kit under 60 MiB that runs as it is: webgpu on SwiftShader and wasm, JSON lines out', async () => {
    const kit = join(work, 'kit');
    const gathered = await sh([script, '--gather', kit, '--without-node'], cleanEnv());
    expect(gathered.code, gathered.stderr).toBe(0);
    const files = readdirSync(kit).sort();
    for (const f of [
      'distill.mjs',
      'tfjs-backend-wasm-simd.wasm',
      'dawn.node',
      'gpu-check.sh',
      'torch_reference.py',
    ])
      expect(files).toContain(f);
    // the Vulkan loader: Debian's libvulkan1 .deb, or Chromium's copy where apt-get cannot download
    expect(files.some((f) => /^libvulkan1_.*\.deb$/.test(f) || f === 'libvulkan.so.1')).toBe(true);
    const bytes = files.reduce((s, f) => s + statSync(join(kit, f)).size, 0);
    expect(gathered.stdout).toMatch(/ MiB {2}in all \(limit 60 MiB\)/);
    expect(bytes).toBeLessThan(60 * 2 ** 20);
    console.log(`gpu-check kit without node.xz: ${(bytes / 2 ** 20).toFixed(2)} MiB (${files.join(', ')})`);

    const out = join(work, 'out');
    const t0 = performance.now();
    const r = await sh(
      [join(kit, 'gpu-check.sh'), '--quick', '--budget', '400', out],
      cleanEnv({ VK_ICD_FILENAMES: ICD }),
    );
    const seconds = (performance.now() - t0) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Vulkan loader: \/.*libvulkan\.so\.1$/m);
    const lines = readFileSync(join(out, 'gpu-check.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      source: 'environment',
      node: process.version,
      nvidiaSmi: null,
      vkIcdFilenames: ICD,
      distill: expect.stringContaining(join(kit, 'distill.mjs')),
    });
    expect(lines[0].vulkanLoader).toMatch(/libvulkan\.so\.1$/);
    expect(lines[1]).toMatchObject({ source: 'backends', selection: { requested: 'auto', backend: 'wasm' } });
    const benches = lines.filter((l) => l.source === 'distill-bench');
    expect(benches.map((b) => [b.backend, b.model, b.task, b.batchSize])).toEqual([
      ['webgpu', 'hinton-student', 'train', 8],
      ['wasm', 'hinton-student', 'train', 8],
    ]);
    expect(benches[0].engine).toBe('tfjs 4.22.0 webgpu (google swiftshader, software)');
    expect(benches[1].engine).toMatch(/^tfjs 4\.22\.0 wasm \(simd/);
    for (const b of benches) expect(b.msPerStep).toBeGreaterThan(0);
    const skipped = lines.filter((l) => l.source === 'skipped');
    expect(skipped.map((s) => s.what)).toEqual(['tensorflow-gpu', 'torch']);
    expect(skipped[0].reason).toMatch(/needs the package @tensorflow\/tfjs-node-gpu/);
    // no CUDA here: python3 lacks torch, or its torch sees no CUDA device
    expect(skipped[1].reason).toMatch(/cannot import torch|sees no CUDA device/);
    expect(lines[lines.length - 1]).toMatchObject({
      source: 'summary',
      benchRows: 2,
      torchRows: 0,
      skipped: 2,
    });
    expect(existsSync(join(out, 'logs', 'bench-webgpu.log'))).toBe(true);
    console.log(
      `gpu-check --quick on SwiftShader: ${seconds.toFixed(0)} s; hinton-student batch 8: webgpu ${benches[0].msPerStep} ms/step, wasm ${benches[1].msPerStep} ms/step`,
    );
  }, 600_000);

  it('bad usage: one line and exit 2', async () => {
    const r = await sh([script, '--budget', 'soon', join(work, 'x')], cleanEnv());
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      "gpu-check: --budget: expected a number of seconds, got 'soon'",
    ]);
  });
});
