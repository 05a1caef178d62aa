import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoExperiment } from './commands/demo.js';
import { hintonExperiment } from './commands/reproduce-hinton.js';
import { readExperimentFile } from './commands/run.js';
import { main } from './main.js';
import { freezeConfig, refuseResumeContradictions } from './resume-check.js';
import { newRunRecord, saveRunRecord } from './run-record.js';
import { experimentsDir } from './testing/built-cli.js';

// `--resume` with flags that describe another run than the one recorded: `demo`, `run`, `reproduce hinton`
// and `reproduce hinton-omit` refuse them (exit 2, one line naming the flag, its value and the run's) before
// anything is trained or written, as `train` and `distill` do; before, the flag was silently dropped and the
// run continued with its recorded settings. The command line is the real one (main, commander), in-process.

// The backend is set up after the check: demo and reproduce ask for tfjs-node, which is not installed here, so
// a flag the check let through ends in that error at once (and fails the test) instead of a long training.
const NO_TRAINING = ['--backend', 'tensorflow'];
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'distill-resume-'));
});
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function distill(args: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  err.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const code = await main(args, { stdout: out, stderr: err });
  return { code, stdout, stderr };
}

/** A run directory as `distill KIND` leaves it after an interruption before its first stage ended. */
function interruptedRun(name: string, kind: string, config: unknown, command: string[]): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const record = newRunRecord(kind, config, command);
  record.status = 'interrupted';
  freezeConfig(dir, record);
  saveRunRecord(dir, record);
  return dir;
}

describe('--resume refuses flags that contradict the recorded run', () => {
  it('demo: --seed and --quick', async () => {
    const dir = interruptedRun('demo', 'demo', demoExperiment(true, 1), ['demo', '--quick']);
    const before = readFileSync(join(dir, 'run.json'), 'utf8');
    const seed = await distill(['demo', '--resume', dir, '--seed', '3', ...NO_TRAINING]);
    expect(seed.code).toBe(2);
    expect(seed.stderr.trim()).toBe(
      `distill: --resume ${dir}: --seed gives seeds[0] 3 but the run has 1; leave the flag out to continue the run as recorded, or start a new run`,
    );
    const full = interruptedRun('demo-full', 'demo', demoExperiment(false, 1), ['demo']);
    const quick = await distill(['demo', '--resume', full, '--quick', ...NO_TRAINING]);
    expect(quick.code).toBe(2);
    expect(quick.stderr).toContain('--quick gives name "demo (quick)" but the run has "demo"');
    expect(readFileSync(join(dir, 'run.json'), 'utf8')).toBe(before);
  });

  it('reproduce hinton: --seeds, --alpha and --no-test', async () => {
    const recorded = hintonExperiment({
      dataset: 'mnist-embedded',
      seeds: 2,
      quick: true,
      sweeps: false,
      evaluateTest: true,
      alpha: 0.5,
      jitter: 2,
    });
    const dir = interruptedRun('hinton', 'reproduce-hinton', recorded, ['reproduce', 'hinton', '--quick']);
    const r = await distill([
      'reproduce',
      'hinton',
      '--resume',
      dir,
      '--quick',
      '--no-sweeps',
      '--seeds',
      '3',
      '--alpha',
      '0.9',
      '--no-test',
      ...NO_TRAINING,
    ]);
    expect(r.code).toBe(2);
    const line = r.stderr.trim();
    expect(line).toContain('--seeds gives seeds [1,2,3] but the run has [1,2]');
    expect(line).toContain('--alpha gives students[1].alpha 0.9 but the run has 0.5');
    expect(line).toContain('--no-test gives evaluateTest false but the run has (not set)');
    // --quick and --no-sweeps agree with the run, so they are not named
    expect(line).not.toContain('--quick');
    expect(line).not.toContain('--no-sweeps');
  });

  it('reproduce hinton-omit: --class', async () => {
    const config = {
      dataset: 'mnist-embedded',
      omit: 3,
      seed: 1,
      quick: true,
      validationFraction: 0.15,
      teacherEpochs: 4,
      studentEpochs: 4,
      trainSize: 3000,
      testSize: 1000,
    };
    const dir = interruptedRun('omit', 'reproduce-hinton-omit', config, ['reproduce', 'hinton-omit']);
    const r = await distill(['reproduce', 'hinton-omit', '--resume', dir, '--class', '5', ...NO_TRAINING]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--class gives omit 5 but the run has 3');
    // its test figures are what it reports, so --no-test (accepted by the reproduce commands) is refused
    const noTest = await distill(['reproduce', 'hinton-omit', '--no-test', ...NO_TRAINING]);
    expect(noTest.code).toBe(2);
    expect(noTest.stderr.trim()).toBe(
      'distill: --no-test: reproduce hinton-omit reports the left-out class on the test split (its bias is chosen on the validation split); leave --no-test out',
    );
  });

  it('run: an experiment file edited since the run started, and --seeds', async () => {
    const file = join(work, 'tiny.yaml');
    // the shipped tiny experiment, one seed
    const text = readFileSync(join(experimentsDir, 'tiny.yaml'), 'utf8').replace(
      'seeds: [1, 2]',
      'seeds: [1]',
    );
    writeFileSync(file, text);
    const dir = interruptedRun('run', 'run', readExperimentFile(file), ['run', file]);
    writeFileSync(file, text.replace('alpha: 0.7', 'alpha: 0.9'));
    const edited = await distill(['run', file, '--resume', dir, '--backend', 'cpu']);
    expect(edited.code).toBe(2);
    expect(edited.stderr.trim()).toBe(
      `distill: --resume ${dir}: ${file} is not the experiment this run started with (students[1].alpha is 0.9 in ${file}, the run has 0.7); resume with the file as it was, or start a new run`,
    );
    writeFileSync(file, text);
    const seeds = await distill(['run', file, '--resume', dir, '--seeds', '2', '--backend', 'cpu']);
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toContain('seeds[0] is 2 in');
    // the file as it was, and no contradicting flag: the run resumes and completes
    const ok = await distill(['run', file, '--resume', dir, '--backend', 'cpu', '--quiet']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toBe('complete');
  });

  it('flags that agree with the run pass, and the recorded configuration is the one returned', () => {
    const recorded = demoExperiment(true, 2);
    const check = refuseResumeContradictions(
      ['seed', 'quick', 'backend'],
      { seed: ['seeds', 0], quick: ['name'] },
      demoExperiment(true, 2),
      'dir',
    );
    expect(check(recorded)).toBe(recorded);
  });
});
