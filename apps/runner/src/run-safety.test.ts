import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, cli, ensureBuilt, errorLines, runDistill } from './testing/built-cli.js';

// End-to-end on the BUILT binary: tamper-evident checkpoints, locking, honest run states, and the
// messages and exit codes of bad input.
let work = '';
type Result = CliResult;
const distill = (args: string[]) => runDistill(args, work);

/** A small, quick training run: a 8x8 synthetic dataset and an MLP. */
const small = (out: string, epochs: number, extra: string[] = []) => [
  'train',
  '--dataset',
  'synthetic',
  '--model',
  'mlp',
  '--train-size',
  '512',
  '--test-size',
  '64',
  '--batch-size',
  '32',
  '--epochs',
  String(epochs),
  '--out',
  out,
  ...extra,
];

/** Starts the CLI; resolves its exit code; `until` sees stderr as it grows and may act on the child. */
function start(args: string[], until?: (stderr: string, child: ChildProcess) => void) {
  const child = spawn(process.execPath, [cli, ...args], { cwd: work, env: { ...process.env, CI: 'true' } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    until?.(stderr, child);
  });
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Runs `args` and stops it with `signal` once stderr matches `when`. */
async function interrupt(args: string[], when: RegExp, signal: NodeJS.Signals) {
  let sent = false;
  const { done } = start(args, (stderr, child) => {
    if (!sent && when.test(stderr)) {
      sent = true;
      child.kill(signal);
    }
  });
  const r = await done;
  expect(sent, r.stderr).toBe(true);
  return r;
}

const record = (dir: string) => JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'distill-safety-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill (built binary): tamper-evident, self-healing runs', () => {
  it('a flipped byte in the newest checkpoint: --resume says so, uses the previous one, and ends with the weights of an uninterrupted run', async () => {
    const full = await distill(small(join(work, 'full'), 6));
    expect(full.code, full.stderr).toBe(0);

    const dir = join(work, 'flipped');
    const stopped = await interrupt(small(dir, 6), /epoch 3\/6/, 'SIGINT');
    expect(stopped.code, stopped.stderr).toBe(130);
    const ckpts = join(dir, 'checkpoints', 'teacher-s1');
    const names = readdirSync(ckpts).sort();
    expect(names.length, names.join()).toBe(2);
    const newest = join(ckpts, names[1]!);
    const bytes = readFileSync(newest);
    bytes[bytes.length >> 1]! ^= 0x01;
    writeFileSync(newest, bytes);

    const resumed = await distill(['train', '--resume', dir]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      `not resuming from ${newest}: it is not intact (sha256 checksum mismatch`,
    );
    expect(resumed.stderr).toContain(`renamed to ${names[1]}.corrupt`);
    expect(resumed.stderr).toContain(`resumed from ${join(ckpts, names[0]!)}`);
    expect(readFileSync(`${newest}.corrupt`)).toEqual(bytes);
    const weights = (d: string) => readFileSync(join(d, 'models', 'teacher-s1', 'weights.bin'));
    expect(weights(dir).equals(weights(join(work, 'full')))).toBe(true);
    expect(record(dir).status).toBe('complete');
  });

  it('two concurrent --resume of one run: one wins, the other exits 2 naming the process holding the lock', async () => {
    const dir = join(work, 'contended');
    const stopped = await interrupt(small(dir, 40), /epoch 1\/40/, 'SIGINT');
    expect(stopped.code).toBe(130);
    // the first takes the lock and trains; the second starts while it holds it
    let second: Promise<Result> | undefined;
    const first = start(['train', '--resume', dir], (stderr) => {
      if (!second && /resuming at step/.test(stderr)) second = distill(['train', '--resume', dir]);
    });
    const winner = first.child.pid!;
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (second) resolve(clearInterval(t));
      }, 50);
    });
    const loser = await second!;
    expect(loser.code, loser.stderr).toBe(2);
    expect(errorLines(loser.stderr)).toHaveLength(1);
    expect(errorLines(loser.stderr)[0]).toMatch(
      new RegExp(`--resume .*contended is in use by process ${winner} on .*wait for it to finish or stop it`),
    );
    first.child.kill('SIGTERM'); // SIGTERM: stops after a checkpoint with 143
    const ended = await first.done;
    expect(ended.code, ended.stderr).toBe(143);
    expect(record(dir).status).toBe('interrupted');
    expect(existsSync(join(dir, '.distill.lock'))).toBe(false);
  });

  it('after kill -9 the run reads as interrupted, and the next start removes the stale temporary file', async () => {
    const dir = join(work, 'killed');
    const killed = await interrupt(small(dir, 40), /epoch 2\/40/, 'SIGKILL');
    expect(killed.signal).toBe('SIGKILL');
    expect(record(dir).status).toBe('running'); // nothing could run after SIGKILL
    expect(record(dir).process.pid).toBeGreaterThan(0);
    // a checkpoint write cut short leaves its temporary file (as FileCheckpointStore names it)
    const ckpts = join(dir, 'checkpoints', 'teacher-s1');
    const tmp = join(ckpts, `.ckpt-0000000099.djsckpt.${record(dir).process.pid}.0badc0de.tmp`);
    writeFileSync(tmp, new Uint8Array(50_000));

    const status = await distill(['status', dir]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/: interrupted \(process \d+ on .* is gone; last heartbeat /);
    expect(status.stdout).toContain(`continue with: distill train --resume ${dir}`);
    expect(record(dir).status).toBe('interrupted');

    const resumed = await distill(['train', '--resume', dir, '--epochs', '40']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/removed 1 temporary file \(50000 bytes\) left by an interrupted write/);
    expect(existsSync(tmp)).toBe(false);
    expect(record(dir).status).toBe('complete');
  });

  it('flags that contradict a resumed run are refused with both values unless --override, which run.json records; an edited run.json is refused', async () => {
    const dir = join(work, 'contradict');
    const stopped = await interrupt(small(dir, 40, ['--lr', '0.003']), /epoch 1\/40/, 'SIGINT');
    expect(stopped.code).toBe(130);
    const before = readFileSync(join(dir, 'run.json'), 'utf8');
    const refused = await distill(['train', '--resume', dir, '--lr', '0.01', '--epochs', '40']);
    expect(refused.code).toBe(2);
    expect(errorLines(refused.stderr)).toEqual([
      `distill: --resume ${dir}: --lr 0.01 but the run has teacher.lr 0.003; leave the flag out to continue as recorded, or add --override to replace the run's value (recorded in run.json)`,
    ]);
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe(before);

    const edited = JSON.parse(before);
    edited.config.teacher.lr = 0.5;
    writeFileSync(join(dir, 'run.json'), JSON.stringify(edited, null, 2));
    const tampered = await distill(['train', '--resume', dir]);
    expect(tampered.code).toBe(2);
    expect(errorLines(tampered.stderr)[0]).toContain(
      'was edited after the run started (config.teacher.lr is 0.5, the run started with 0.003)',
    );
    writeFileSync(join(dir, 'run.json'), before);

    const overridden = await distill(['train', '--resume', dir, '--epochs', '2', '--override']);
    expect(overridden.code, overridden.stderr).toBe(0);
    const r = record(dir);
    expect(r.overrides).toEqual([expect.objectContaining({ flag: '--epochs', from: 40, to: 2 })]);
    expect(r.config.teacher.epochs).toBe(2);
    expect(r.stages[0].epochs).toBe(2);
  });
});

describe('distill (built binary): messages and exit codes of the table', () => {
  it('--data-dir for a dataset that reads no directory is refused, naming the ones that do', async () => {
    mkdirSync(join(work, 'digits'), { recursive: true });
    const r = await distill(['train', '--data-dir', join(work, 'digits'), '--out', join(work, 'dd')]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      `distill: --data-dir ${join(work, 'digits')}: dataset mnist-embedded does not read a directory, so it would be ignored; the datasets that do are mnist, fashion-mnist, cifar10 (choose one with --dataset, or dataset.name in an experiment file)`,
    ]);
    expect(existsSync(join(work, 'dd'))).toBe(false);
  });

  it('missing dataset files exit 2 without internal prefixes', async () => {
    const r = await distill([
      'train',
      '--dataset',
      'mnist',
      '--data-dir',
      join(work, 'digits'),
      '--out',
      join(work, 'md'),
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toMatch(
      /^distill: no train-images-idx3-ubyte\.gz in .*digits \(looked for/,
    );
    expect(r.stderr).not.toMatch(/loadMnist|fileSystemHandler|decodeCheckpoint/);
  });

  it('a type error nested in an experiment file names the field path and the expected type', async () => {
    const file = join(work, 'teacher-type.yaml');
    writeFileSync(file, 'dataset: { name: synthetic }\nteacher: { model: mlp, epochs: ten }\n');
    const r = await distill(['run', file]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([`distill: ${file}: teacher.epochs: expected a number, got "ten"`]);
  });

  it('an empty training set says so in the terms of the flags; a batch larger than the data is noted', async () => {
    const all = '0,1,2,3,4,5,6,7,8,9';
    const r = await distill([
      'distill',
      '--teacher',
      'mlp',
      '--student',
      'mlp',
      '--dataset',
      'synthetic',
      '--train-size',
      '64',
      '--test-size',
      '32',
      '--epochs',
      '1',
      '--exclude-class',
      all,
      '--out',
      join(work, 'empty'),
    ]);
    expect(r.code, r.stderr).toBe(2);
    expect(errorLines(r.stderr)[0]).toMatch(
      new RegExp(
        `the training set of .* is empty: synthetic has 58 training examples, 0 left after --exclude-class ${all}`,
      ),
    );
    expect(r.stderr).not.toMatch(/batchesPerEpoch/);
    const big = await distill([...small(join(work, 'big'), 1), '--batch-size', '1000']);
    expect(big.code, big.stderr).toBe(0);
    expect(big.stderr).toContain(
      'note: --batch-size 1000 is larger than the 461 training examples: each epoch is one batch of 461',
    );
    expect(record(join(work, 'big')).notes).toEqual([
      '--batch-size 1000 is larger than the 461 training examples: each epoch is one batch of 461',
    ]);
  });

  it('--lr 1e9 with Adam stops as diverged (exit 1) with advice naming real flags', async () => {
    const dir = join(work, 'diverged');
    const r = await distill(small(dir, 3, ['--optimizer', 'adam', '--lr', '1e9']));
    expect(r.code, r.stderr).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toMatch(
      /^distill: mlp \(seed 1\) diverged: the loss reached .* at step \d+, past its bound .*; no checkpoint had been written yet\. Lower --lr \(this run: 1000000000\) or add --clip-grad-norm 1/,
    );
    expect(record(dir).status).toBe('diverged');
    const clip = await distill(['train', '--help']);
    expect(clip.stdout).toContain('--clip-grad-norm <n>');
  });
});
