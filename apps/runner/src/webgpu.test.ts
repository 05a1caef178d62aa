import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `--backend webgpu` for real: Dawn (the `webgpu` package) on SwiftShader, the Vulkan driver that Debian's
// Chromium ships, on the CPU. These tests run the BUILT binary (cli.test.ts rebuilds a stale one).
const appDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(appDir, 'dist', 'cli.js');
const CHROMIUM = '/usr/lib/chromium';
const ICD = `${CHROMIUM}/vk_swiftshader_icd.json`;
/** Test errors of the same distillation on webgpu and on wasm may differ by this many (1% of 500). */
const TOLERANCE_ERRORS = 5;
let work = '';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** An environment with no Vulkan driver anywhere it could be found, and the given additions. */
function envWith(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
  for (const k of ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES', 'LD_LIBRARY_PATH'])
    delete env[k];
  const empty = join(work, 'empty');
  mkdirSync(empty, { recursive: true });
  return { ...env, HOME: empty, XDG_DATA_DIRS: empty, XDG_CONFIG_DIRS: empty, ...extra };
}

const swiftshader = () => envWith({ VK_ICD_FILENAMES: ICD, LD_LIBRARY_PATH: CHROMIUM });

function distill(args: string[], env: NodeJS.ProcessEnv): Promise<Result> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: work, env, timeout: 170_000, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr, seconds: (performance.now() - t0) / 1000 });
      },
    );
  });
}

beforeAll(() => {
  if (!existsSync(ICD)) {
    throw new Error(
      `${ICD} is missing: install Debian's Chromium (apt-get install -y chromium; .ci/run does this)`,
    );
  }
  expect(existsSync(cli), `${cli} is missing: run \`pnpm build\` first`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'distill-webgpu-'));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill on webgpu through Dawn (SwiftShader)', () => {
  it('`distill backends` names the adapter as software, and auto does not pick it', async () => {
    const auto = await distill(['backends'], swiftshader());
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.stdout).toMatch(/'auto' -> wasm: auto picked wasm/);
    expect(auto.stdout).toMatch(
      /skip webgpu: the only adapter is google swiftshader \(SwiftShader driver [\d.]+\), software, slower than wasm; auto takes a hardware GPU only/,
    );
    expect(auto.stdout).toMatch(/-\s+cpu: not tried \(auto stopped at wasm/);
    const asked = await distill(['backends', '--backend', 'webgpu', '--json'], swiftshader());
    expect(asked.code, asked.stderr).toBe(0);
    const { selection, installed } = JSON.parse(asked.stdout);
    expect(selection.backend).toBe('webgpu');
    expect(selection.adapter).toMatchObject({
      vendor: 'google',
      architecture: 'swiftshader',
      software: true,
    });
    expect(selection.engine).toBe('tfjs 4.22.0 webgpu (google swiftshader, software)');
    expect(installed.find((b: { backend: string }) => b.backend === 'webgpu')).toMatchObject({
      installed: true,
      autoRank: 2,
    });
  });

  it('without the ICD (or the loader), --backend webgpu fails with one line naming what is missing', async () => {
    const args = ['train', '--backend', 'webgpu', '--model', 'mlp', '--train-size', '64', '--epochs', '1'];
    const noIcd = await distill(args, envWith({ LD_LIBRARY_PATH: CHROMIUM }));
    expect(noIcd.code).toBe(1);
    expect(noIcd.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        new RegExp(
          `^distill: .*backend 'webgpu' is not available here: no Vulkan driver found .*VK_ICD_FILENAMES=${ICD} for SwiftShader`,
        ),
      ),
    ]);
    const noLoader = await distill(args, envWith({ VK_ICD_FILENAMES: ICD }));
    expect(noLoader.code).toBe(1);
    // Where the system has no libvulkan1 (as in CI), the loader is what is missing.
    expect(noLoader.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^distill: .*backend 'webgpu' is not available here: (the Vulkan loader libvulkan\.so\.1 was not found: apt-get install libvulkan1, or LD_LIBRARY_PATH=\/usr\/lib\/chromium|.*adapter)/,
      ),
    ]);
  });

  it('`distill bench --backend webgpu --models hinton-student --steps 3 --json` prints a row', async () => {
    // The command, with the train task only, one warm-up step and batch 32 to keep CI's CPU budget:
    // SwiftShader takes seconds of CPU per hinton-student step at batch 128.
    const r = await distill(
      [
        'bench',
        '--backend',
        'webgpu',
        '--models',
        'hinton-student',
        '--steps',
        '3',
        '--json',
        '--tasks',
        'train',
        '--warmup',
        '1',
        '--batch',
        '32',
      ],
      swiftshader(),
    );
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows).toEqual([
      {
        model: 'hinton-student',
        task: 'train',
        batchSize: 32,
        samplesPerSec: expect.any(Number),
        msPerStep: expect.any(Number),
        engine: 'tfjs 4.22.0 webgpu (google swiftshader, software)',
        cpu: expect.any(String),
        cores: expect.any(Number),
        cpuFlags: expect.any(Array),
      },
    ]);
    expect(rows[0].msPerStep).toBeGreaterThan(0);
    console.log(
      `webgpu on SwiftShader, hinton-student batch 32: ${rows[0].msPerStep} ms/step (${r.seconds.toFixed(1)} s in all)`,
    );
  });

  it('a short distillation gives the same test errors on webgpu as on wasm (same seed), and eval agrees', async () => {
    const data = ['--train-size', '1024', '--test-size', '500'];
    const teacher = await distill(
      [
        'train',
        '--backend',
        'wasm',
        '--model',
        'mlp',
        ...data,
        '--epochs',
        '2',
        '--batch-size',
        '64',
        '--lr',
        '0.003',
        '--out',
        'teacher',
        '--quiet',
      ],
      swiftshader(),
    );
    expect(teacher.code, teacher.stderr).toBe(0);
    const student = (backend: string) =>
      distill(
        [
          'distill',
          '--backend',
          backend,
          '--teacher',
          'teacher',
          '--student',
          'mlp',
          ...data,
          '--epochs',
          '1',
          '--batch-size',
          '128',
          '--lr',
          '0.003',
          '--temperature',
          '4',
          '--alpha',
          '0.5',
          '--seed',
          '7',
          '--out',
          `student-${backend}`,
          '--json',
          '--quiet',
        ],
        swiftshader(),
      );
    const wasm = await student('wasm');
    const gpu = await student('webgpu');
    expect(wasm.code, wasm.stderr).toBe(0);
    expect(gpu.code, gpu.stderr).toBe(0);
    const [w, g] = [JSON.parse(wasm.stdout), JSON.parse(gpu.stdout)];
    const test = (r: { stages: { test: { errors: number; nll: number; count: number } }[] }) =>
      r.stages[0]!.test;
    expect(test(g).count).toBe(500);
    expect(Math.abs(test(g).errors - test(w).errors)).toBeLessThanOrEqual(TOLERANCE_ERRORS);
    expect(Math.abs(test(g).nll - test(w).nll)).toBeLessThan(1e-3);
    // The run record says where it ran.
    const record = JSON.parse(readFileSync(join(work, 'student-webgpu', 'run.json'), 'utf8'));
    expect(record.backend.backend).toBe('webgpu');
    expect(record.backend.adapter.software).toBe(true);
    const evaluated = await distill(
      ['eval', '--backend', 'webgpu', '--model', 'student-webgpu', '--json'],
      swiftshader(),
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(evaluated.stdout).toContain(`"errors":${test(g).errors}`);
    console.log(
      `distill on webgpu (SwiftShader): ${test(g).errors} test errors, nll ${test(g).nll}, ${gpu.seconds.toFixed(1)} s; on wasm: ${test(w).errors}, nll ${test(w).nll}, ${wasm.seconds.toFixed(1)} s`,
    );
  });
});
