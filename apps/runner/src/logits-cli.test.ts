import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, errorLines, runDistill, snapshotDir } from './testing/built-cli.js';

// End-to-end on the built binary: `distill logits` in two shards, then `distill distill --teacher DIR`.
let work = '';
const run = (args: string[]) => runDistill(args, work);
const data = ['--dataset', 'synthetic', '--train-size', '256', '--test-size', '64', '--backend', 'wasm'];
const student = [
  '--student',
  'hinton-student',
  '--epochs',
  '1',
  '--batch-size',
  '64',
  '--seed',
  '3',
  '--quiet',
];
const studentWeights = (runDir: string) => {
  const models = join(runDir, 'models');
  const [id] = readdirSync(models);
  return readFileSync(join(models, id!, 'weights.bin'));
};

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'distill-logits-e2e-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill logits (built binary)', () => {
  const teacherRun = () => join(work, 'teacher');
  const logits = () => join(work, 'logits');

  it('--shard 0/2 and 1/2 into one directory, then distilling from it is bit-identical to the teacher', async () => {
    const t = await run([
      'train',
      '--model',
      'hinton-student',
      '--epochs',
      '1',
      ...data,
      '--out',
      teacherRun(),
      '--quiet',
    ]);
    expect(t.code, t.stderr).toBe(0);
    const s1 = await run(['logits', '--teacher', teacherRun(), ...data, '--out', logits(), '--shard', '1/2']);
    expect(s1.code, s1.stderr).toBe(0);
    expect(s1.stdout).toMatch(/shard 1\/2 of synthetic\/train .* 115 of 230 examples present$/m);
    const s0 = await run([
      'logits',
      '--teacher',
      teacherRun(),
      ...data,
      '--out',
      logits(),
      '--shard',
      '0/2',
      '--batch-size',
      '100',
    ]);
    expect(s0.code, s0.stderr).toBe(0);
    expect(s0.stdout).toMatch(/230 of 230 examples present, complete/);

    const direct = await run([
      'distill',
      '--teacher',
      teacherRun(),
      ...data,
      ...student,
      '--out',
      join(work, 'direct'),
    ]);
    expect(direct.code, direct.stderr).toBe(0);
    const files = await run([
      'distill',
      '--teacher',
      logits(),
      ...data,
      ...student,
      '--out',
      join(work, 'files'),
    ]);
    expect(files.code, files.stderr).toBe(0);
    expect(studentWeights(join(work, 'files')).equals(studentWeights(join(work, 'direct')))).toBe(true);
  });

  it('bad logits directories fail with one line naming the file and leave existing runs byte-identical', async () => {
    const runs = [teacherRun(), join(work, 'direct'), join(work, 'files'), logits()];
    const before = runs.map(snapshotDir);
    const broken = join(work, 'broken');
    cpSync(logits(), broken, { recursive: true });
    rmSync(join(broken, 'logits-00001-of-00002.npy'));
    const cases: [string[], RegExp][] = [
      [['distill', '--teacher', broken, ...data, ...student], /broken\/logits-00001-of-00002\.npy: missing/],
      [
        ['distill', '--teacher', logits(), ...data.map((a) => (a === '256' ? '200' : a)), ...student],
        /logits: the logits are of synthetic\/train, 230 examples.*but the data is synthetic\/train, 180 examples/,
      ],
      [
        ['logits', '--teacher', teacherRun(), ...data, '--out', logits(), '--shard', '1/3'],
        /manifest\.json: shard 1\/3 \(examples 76\.\.152\) overlaps logits-00000-of-00002\.npy/,
      ],
      [
        [
          'logits',
          '--teacher',
          teacherRun(),
          ...data,
          '--out',
          logits(),
          '--shard',
          '0/2',
          '--dtype',
          'float16',
        ],
        /manifest\.json: the directory holds shards with dtype float32, but this shard has float16/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      expect(r.code, r.stderr).toBe(2);
      expect(errorLines(r.stderr)).toHaveLength(1);
      expect(errorLines(r.stderr)[0]).toMatch(message);
    }
    expect(runs.map(snapshotDir)).toEqual(before);
  });
});
