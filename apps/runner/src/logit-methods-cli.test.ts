import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, runDistill } from './testing/built-cli.js';

// The built binary (dist/cli.js, built by `pnpm build`; cli.test.ts rebuilds a stale one) as a user runs it.
let work = '';

const distill = (args: string[]) => runDistill(args, work);

const DATA = ['--dataset', 'synthetic', '--train-size', '192', '--test-size', '64', '--backend', 'cpu'];

beforeAll(async () => {
  expect(existsSync(cli), `${cli} is missing: run \`pnpm build\` first`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'distill-logit-methods-'));
  const teacher = await distill([
    'train',
    '--model',
    'mlp',
    '--epochs',
    '1',
    '--quiet',
    '--out',
    'teacher',
    ...DATA,
  ]);
  expect(teacher.code, teacher.stderr).toBe(0);
}, 180_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the logit methods on the command line', () => {
  it('`distill losses` lists every loss, one line each with its paper, and the CTKD and MLKD recipes', async () => {
    const r = await distill(['losses']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    for (const [name, paper] of [
      ['kd', /Hinton/],
      ['dkd', /CVPR 2022/],
      ['dist', /NeurIPS 2022/],
      ['ttm', /ICLR 2024/],
      ['wttm', /ICLR 2024/],
      ['nkd', /ICCV 2023/],
      ['mlkd', /CVPR 2023/],
      ['ctkd', /AAAI 2023/],
    ] as const) {
      const line = lines.filter((l) => l.split(/\s+/)[0] === name);
      expect(line, name).toHaveLength(1);
      expect(line[0]).toMatch(paper);
    }
  });

  // Every new loss name (and recipe) trains end to end and is recorded with its settings.
  const cases: [string, string[], Record<string, unknown>][] = [
    ['dist', ['--dist-beta', '2', '--dist-gamma', '0.5'], { distBeta: 2, distGamma: 0.5 }],
    ['ttm', [], {}],
    ['wttm', [], {}],
    ['nkd', ['--nkd-gamma', '1'], { nkdGamma: 1 }],
    ['mlkd', ['--mlkd-temperatures', '2,4', '--strong-augment', 'shift:1'], { mlkdTemperatures: [2, 4] }],
    ['kd', ['--logit-standardization', '--ctkd'], { logitStandardization: true, ctkd: {} }],
    ['dkd', ['--ctkd', '--ctkd-per-example'], { ctkd: { perExample: true } }],
  ];
  for (const [loss, flags, settings] of cases) {
    it(`--loss ${loss} ${flags.join(' ')}`, async () => {
      const out = `run-${loss}`;
      const r = await distill([
        'distill',
        '--teacher',
        'teacher',
        '--student',
        'mlp',
        '--loss',
        loss,
        ...flags,
        '--epochs',
        '1',
        '--quiet',
        '--out',
        out,
        ...DATA,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const record = JSON.parse(readFileSync(join(work, out, 'run.json'), 'utf8'));
      const stage = record.stages.find((s: { role: string }) => s.role === 'distilled');
      expect(stage.settings).toMatchObject({ loss, ...settings });
      if (flags.includes('--ctkd')) {
        expect(stage.history[0].logs.temperature).toBeGreaterThan(1);
        expect(readFileSync(join(work, out, 'metrics.csv'), 'utf8').split('\n')[0]).toMatch(/temperature/);
        expect(readFileSync(join(work, out, 'report.html'), 'utf8')).toMatch(
          /CTKD temperature of .* mean per epoch: \d+\.\d{3}/,
        );
      }
    });
  }

  it('a bad or misplaced option exits 2 with one line naming it', async () => {
    const base = ['distill', '--teacher', 'teacher', '--student', 'mlp', '--epochs', '1', ...DATA];
    const bad = await distill([...base, '--loss', 'dist', '--dist-beta', '-1']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--dist-beta/);
    const stray = await distill([...base, '--loss', 'kd', '--nkd-gamma', '2']);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/^distill: --nkd-gamma: applies to --loss nkd, not --loss kd$/m);
    const unknown = await distill([...base, '--loss', 'distt']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--loss.*dist, ttm, wttm, nkd, mlkd/);
    writeFileSync(
      join(work, 'stray.yaml'),
      'dataset: { name: synthetic, trainSize: 64, testSize: 32 }\nteacher: { path: teacher }\nstudents:\n  - { name: s, model: mlp, loss: dist, nkdGamma: 2 }\n',
    );
    const file = await distill(['run', 'stray.yaml']);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/students\[0\]\.nkdGamma: 'nkdGamma' applies to loss nkd, not dist/);
  });
});
