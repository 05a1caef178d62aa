import { spawn } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cli,
  ensureBuilt,
  errorLines,
  experimentsDir,
  printedResults,
  runDistill,
  timeless,
} from '../testing/built-cli.js';

// End-to-end on the built binary: an experiment split into units of work, each its own process, merged
// back; the merged record must equal a one-process `distill run` of the same file apart from times.
let work = '';
const file = () => join(work, 'quick.yaml');
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const IDS = ['teacher-s1', 'teacher-s2', 'baseline-s1', 'distilled-s1', 'baseline-s2', 'distilled-s2'];

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'distill-jobs-'));
  copyFileSync(join(experimentsDir, 'cluster-quick.yaml'), file());
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill run --list-jobs / --job / --job-index, distill merge', () => {
  it('--list-jobs lists the units with stable ids, teachers first, and the default output root', async () => {
    const r = await runDistill(['run', 'quick.yaml', '--list-jobs', '--json'], work);
    expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout);
    expect(listed.root).toBe(join(work, 'runs', 'quick'));
    expect(listed.units.map((u: { id: string }) => u.id)).toEqual(IDS);
    expect(listed.units.map((u: { index: number }) => u.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(listed.units[3]).toEqual({
      index: 3,
      id: 'distilled-s1',
      kind: 'student',
      seed: 1,
      needs: ['teacher-s1'],
    });
    expect(listed.units[2].needs).toEqual([]);
    const text = await runDistill(['run', 'quick.yaml', '--list-jobs'], work);
    expect(text.stdout).toMatch(/6 units; output root: /);
  });

  it('runs each unit alone (students wait for their teacher), merges to the one-process record; a finished unit is not run again', async () => {
    const root = join(work, 'root');
    // students first: the distilled ones must wait for their teacher's unit
    const order = [3, 5, 2, 4, 0, 1];
    const [one, ...units] = await Promise.all([
      runDistill(['run', 'quick.yaml', '--out', 'one', '--quiet'], work, { timeout: 550_000 }),
      ...order.map((i) =>
        runDistill(['run', 'quick.yaml', '--out', root, '--job-index', String(i), '--wait', '500'], work, {
          timeout: 550_000,
        }),
      ),
    ]);
    expect(one!.code, one!.stderr).toBe(0);
    for (const u of units) expect(u.code, u.stderr).toBe(0);
    expect(units[0]!.stderr).toMatch(/waiting for unit teacher-s1/);
    expect(readdirSync(join(root, 'jobs')).sort()).toEqual([...IDS].sort());
    for (const id of IDS) {
      const rec = json(join(root, 'jobs', id, 'run.json'));
      expect(rec.status).toBe('complete');
      expect(rec.stages.map((s: { id: string }) => s.id)).toEqual([id]);
    }

    const merged = await runDistill(['merge', root], work);
    expect(merged.code, merged.stderr).toBe(0);
    expect(merged.stdout).toMatch(/merged from 6 units/);
    expect(merged.stdout).toMatch(/distilled.*±/);
    const a = json(join(work, 'one', 'run.json'));
    const b = json(join(root, 'run.json'));
    expect(b.stages.map((s: { id: string }) => s.id)).toEqual(a.stages.map((s: { id: string }) => s.id));
    expect(timeless(b)).toStrictEqual(timeless(a));
    // the same table, caption (6 test evaluations) and paired differences as the one-process run prints
    expect(printedResults(merged.stdout)).toEqual(printedResults(one!.stdout));
    expect(printedResults(merged.stdout)).toContain(
      'Test split: 6 evaluations in this run, each model once, at the end, with its final weights; per-epoch metrics and choices use the validation split.',
    );
    expect(merged.stdout).toMatch(/distilled minus baseline, test errors paired by student seed: /);
    expect(existsSync(join(root, 'report.html'))).toBe(true);
    expect(readFileSync(join(root, 'metrics.csv'), 'utf8').split('\n')[0]).toBe(
      readFileSync(join(work, 'one', 'metrics.csv'), 'utf8').split('\n')[0],
    );
    // the merged root is a run directory: its models resolve
    expect(existsSync(join(root, b.stages[0].modelDir, 'model.json'))).toBe(true);

    const before = readFileSync(join(root, 'jobs', 'teacher-s1', 'run.json'), 'utf8');
    const again = await runDistill(['run', 'quick.yaml', '--out', root, '--job', 'teacher-s1'], work);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/unit teacher-s1: already complete, nothing to do/);
    expect(readFileSync(join(root, 'jobs', 'teacher-s1', 'run.json'), 'utf8')).toBe(before);
  }, 600_000);

  it('a unit killed mid-run resumes from its checkpoint and ends with the same figures', async () => {
    const root = join(work, 'killed');
    const ckpt = join(root, 'jobs', 'distilled-s2', 'checkpoints', 'distilled-s2');
    // its teacher first (copied from the finished root: the unit reads it from the shared output root)
    cpSync(join(work, 'root', 'experiment.json'), join(root, 'experiment.json'));
    cpSync(join(work, 'root', 'jobs', 'teacher-s2'), join(root, 'jobs', 'teacher-s2'), { recursive: true });
    const child = spawn(
      process.execPath,
      [cli, 'run', 'quick.yaml', '--out', root, '--job', 'distilled-s2'],
      {
        cwd: work,
        env: { ...process.env, CI: 'true' },
      },
    );
    let killed = false;
    const timer = setInterval(() => {
      if (!killed && existsSync(ckpt) && readdirSync(ckpt).some((f) => !f.startsWith('.'))) {
        killed = true;
        child.kill('SIGKILL');
      }
    }, 10);
    await new Promise((resolve) => child.on('close', resolve));
    clearInterval(timer);
    expect(killed).toBe(true);
    expect(json(join(root, 'jobs', 'distilled-s2', 'run.json')).status).toBe('running');

    const resumed = await runDistill(['run', 'quick.yaml', '--out', root, '--job-index', '5'], work);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at step [1-9]/);
    const stage = json(join(root, 'jobs', 'distilled-s2', 'run.json')).stages[0];
    const full = json(join(work, 'root', 'jobs', 'distilled-s2', 'run.json')).stages[0];
    expect(stage.steps).toBe(full.steps);
    expect(stage.test).toEqual(full.test);
  }, 600_000);

  it('teacher logits in shards: shard units run at once, students distil from the files, the merge equals one process', async () => {
    writeFileSync(
      join(work, 'logits.yaml'),
      `name: sharded logits
dataset: { name: synthetic, trainSize: 512, testSize: 256, imageSize: 12 }
defaults: { batchSize: 64, lr: 0.002 }
teacher: { model: { name: mlp, hiddenUnits: [64] }, epochs: 3 }
teacherLogits: { shards: 2 }
students: [{ name: distilled, model: { name: mlp, hiddenUnits: [16] }, temperature: 4, alpha: 0.7, epochs: 3 }]
`,
    );
    const listed = JSON.parse(
      (await runDistill(['run', 'logits.yaml', '--list-jobs', '--json'], work)).stdout,
    );
    expect(listed.units.map((u: { id: string; kind: string }) => `${u.id}:${u.kind}`)).toEqual([
      'teacher-s1:teacher',
      'teacher-s1-logits-0-of-2:logits',
      'teacher-s1-logits-1-of-2:logits',
      'distilled-s1:student',
    ]);
    const root = join(work, 'logits-root');
    const runs = await Promise.all([
      runDistill(['run', 'logits.yaml', '--out', 'logits-one', '--quiet'], work, { timeout: 550_000 }),
      ...[3, 2, 1, 0].map((i) =>
        runDistill(
          ['run', 'logits.yaml', '--out', root, '--quiet', '--job-index', String(i), '--wait', '500'],
          work,
          { timeout: 550_000 },
        ),
      ),
    ]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const manifest = json(join(root, 'logits', 'teacher-s1', 'all', 'manifest.json'));
    expect(manifest.shards.map((s: { start: number; end: number }) => [s.start, s.end])).toEqual([
      [0, 230],
      [230, 461],
    ]);
    const merged = await runDistill(['merge', root], work);
    expect(merged.code, merged.stderr).toBe(0);
    const b = json(join(root, 'run.json'));
    const student = b.stages.find((s: { id: string }) => s.id === 'distilled-s1');
    expect(student.notes[0]).toMatch(
      /^teacher: precomputed logits of 461 examples of synthetic\/train from .*all$/,
    );
    student.notes.shift();
    expect(timeless(b)).toEqual(timeless(json(join(work, 'logits-one', 'run.json'))));
    // the emitted arrays: teachers, then the shards after them, then the students after the shards
    const emitted = await runDistill(
      ['emit', 'slurm', 'logits.yaml', '--out', root, '--dir', 'logits-slurm'],
      work,
    );
    expect(emitted.code, emitted.stderr).toBe(0);
    const script = (f: string) => readFileSync(join(work, 'logits-slurm', f), 'utf8');
    expect(script('teacher_logits.sbatch')).toMatch(/--array=0-1\n[\s\S]*SLURM_ARRAY_TASK_ID \+ 1\)\)/);
    expect(script('students.sbatch')).toMatch(/--array=0-0\n[\s\S]*SLURM_ARRAY_TASK_ID \+ 3\)\)/);
    expect(script('submit.sh')).toContain('students=$(submit --dependency=afterok:$teacher_logits');
  }, 600_000);

  it('studentSeeds: one unit per (teacher seed, student seed), merged to the one-process record and table', async () => {
    writeFileSync(
      join(work, 'student-seeds.yaml'),
      `name: student seeds
dataset: { name: synthetic, trainSize: 384, testSize: 128, imageSize: 8 }
seeds: [1, 2]
studentSeeds: [5]
defaults: { batchSize: 64, lr: 0.003, epochs: 2 }
teacher: { model: { name: mlp, hiddenUnits: [32] } }
students:
  - { name: baseline, model: { name: mlp, hiddenUnits: [8] }, loss: ce }
  - { name: distilled, model: { name: mlp, hiddenUnits: [8] }, temperature: 4, alpha: 0.7 }
`,
    );
    const listed = JSON.parse(
      (await runDistill(['run', 'student-seeds.yaml', '--list-jobs', '--json'], work)).stdout,
    );
    expect(
      listed.units.map((u: { id: string; seed: number; teacherSeed?: number; needs: string[] }) => [
        u.id,
        u.seed,
        u.teacherSeed ?? null,
        u.needs.join(','),
      ]),
    ).toEqual([
      ['teacher-s1', 1, null, ''],
      ['teacher-s2', 2, null, ''],
      ['baseline-s5', 5, null, ''],
      ['distilled-t1-s5', 5, 1, 'teacher-s1'],
      ['distilled-t2-s5', 5, 2, 'teacher-s2'],
    ]);
    const root = join(work, 'seeds-root');
    const [one, ...units] = await Promise.all([
      runDistill(['run', 'student-seeds.yaml', '--out', 'seeds-one', '--quiet'], work, { timeout: 550_000 }),
      ...[4, 3, 2, 1, 0].map((i) =>
        runDistill(
          ['run', 'student-seeds.yaml', '--out', root, '--quiet', '--job-index', String(i), '--wait', '500'],
          work,
          { timeout: 550_000 },
        ),
      ),
    ]);
    expect(one!.code, one!.stderr).toBe(0);
    for (const u of units) expect(u.code, u.stderr).toBe(0);
    const merged = await runDistill(['merge', root], work);
    expect(merged.code, merged.stderr).toBe(0);
    const a = json(join(work, 'seeds-one', 'run.json'));
    const b = json(join(root, 'run.json'));
    expect(b.stages.map((s: { id: string; teacherSeed?: number }) => [s.id, s.teacherSeed ?? null])).toEqual([
      ['teacher-s1', null],
      ['baseline-s5', null],
      ['distilled-t1-s5', 1],
      ['teacher-s2', null],
      ['distilled-t2-s5', 2],
    ]);
    expect(timeless(b)).toStrictEqual(timeless(a));
    expect(printedResults(merged.stdout)).toEqual(printedResults(one!.stdout));
    expect(merged.stdout).toMatch(
      /distilled minus baseline, test errors paired by student seed: .*t1\/s5: .*t2\/s5: /,
    );
  }, 600_000);

  it('bad input: one clear line each (unknown id, index out of range, two experiments, a damaged record)', async () => {
    const root = join(work, 'root');
    const unknown = await runDistill(['run', 'quick.yaml', '--out', root, '--job', 'distiled-s1'], work);
    expect(unknown.code).toBe(2);
    expect(errorLines(unknown.stderr)).toEqual([
      `distill: --job distiled-s1: no such unit in quick.yaml; its units are ${IDS.join(', ')} (see --list-jobs)`,
    ]);
    const range = await runDistill(['run', 'quick.yaml', '--out', root, '--job-index', '6'], work);
    expect(range.code).toBe(2);
    expect(errorLines(range.stderr)).toEqual([
      'distill: --job-index 6: out of range; quick.yaml has 6 units, indices 0 to 5 (see --list-jobs)',
    ]);

    // another experiment (another learning rate): its units may not go into this root, nor be merged with it
    writeFileSync(join(work, 'other.yaml'), readFileSync(file(), 'utf8').replace('lr: 0.002', 'lr: 0.003'));
    const mixed = await runDistill(['run', 'other.yaml', '--out', root, '--job', 'baseline-s1'], work);
    expect(mixed.code).toBe(2);
    expect(errorLines(mixed.stderr)).toHaveLength(1);
    expect(errorLines(mixed.stderr)[0]).toMatch(/--out .*root holds the units of another experiment/);
    const other = join(work, 'other-root');
    const ran = await runDistill(
      ['run', 'other.yaml', '--out', other, '--job', 'baseline-s1', '--quiet'],
      work,
    );
    expect(ran.code, ran.stderr).toBe(0);
    const two = join(work, 'two');
    cpSync(root, two, { recursive: true, verbatimSymlinks: true });
    rmSync(join(two, 'jobs', 'baseline-s1'), { recursive: true });
    cpSync(join(other, 'jobs', 'baseline-s1'), join(two, 'jobs', 'baseline-s1'), { recursive: true });
    const merged2 = await runDistill(['merge', two], work);
    expect(merged2.code).toBe(2);
    expect(errorLines(merged2.stderr)).toHaveLength(1);
    expect(errorLines(merged2.stderr)[0]).toMatch(
      /merge .*two: .*two\/jobs\/baseline-s1 is a unit of another experiment .*; merge one experiment's output root at a time/,
    );

    const damaged = join(work, 'damaged');
    cpSync(root, damaged, { recursive: true, verbatimSymlinks: true });
    const rec = join(damaged, 'jobs', 'baseline-s2', 'run.json');
    writeFileSync(rec, readFileSync(rec, 'utf8').slice(0, 200));
    const bad = await runDistill(['merge', damaged], work);
    expect(bad.code).toBe(2);
    expect(errorLines(bad.stderr)).toHaveLength(1);
    expect(errorLines(bad.stderr)[0]).toMatch(
      /jobs\/baseline-s2\/run\.json: not valid JSON: .*; the record of unit baseline-s2 is damaged: delete .* and run the unit again \(--job baseline-s2\)/,
    );

    // a unit that failed (its data directory does not exist) is named with its error
    writeFileSync(
      join(work, 'bad-data.yaml'),
      'dataset: { name: mnist, dir: ./no-such-dir }\nstudents: [{ name: solo, model: mlp, loss: ce, epochs: 1 }]\n',
    );
    const failing = await runDistill(['run', 'bad-data.yaml', '--out', 'bad-root', '--job', 'solo-s1'], work);
    expect(failing.code).not.toBe(0);
    const refused = await runDistill(['merge', 'bad-root'], work);
    expect(refused.code).toBe(2);
    expect(errorLines(refused.stderr)).toEqual([
      expect.stringMatching(
        /^distill: merge bad-root: 1 of 1 units are not complete: solo-s1 \(failed: loadMnist: no train-images/,
      ),
    ]);

    rmSync(join(damaged, 'jobs', 'baseline-s2'), { recursive: true });
    rmSync(join(damaged, 'jobs', 'distilled-s1', 'run.json'));
    const missing = await runDistill(['merge', damaged], work);
    expect(missing.code).toBe(2);
    expect(errorLines(missing.stderr)).toEqual([
      expect.stringMatching(
        /merge .*damaged: 2 of 6 units are not complete: distilled-s1 \(missing\), baseline-s2 \(missing\); run each with `distill run .*quick\.yaml --out .*damaged --job ID`, then merge again/,
      ),
    ]);
  }, 600_000);
});
