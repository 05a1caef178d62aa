import { execFile, execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appDir,
  ensureBuilt,
  experimentsDir,
  printedResults,
  runDistill,
  timeless,
} from './testing/built-cli.js';

// A real single-node Slurm cluster (Debian's slurm-wlm and munge, started by scripts/slurm-cluster.sh as
// root; .ci/run installs them): the scripts of `distill emit slurm` run an experiment as job arrays.
const clusterScript = join(appDir, 'scripts', 'slurm-cluster.sh');
let work = '';
let clusterDir = '';
let env: NodeJS.ProcessEnv = {};

function sh(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, cwd: work, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

async function slurm(cmd: string, ...args: string[]): Promise<string> {
  const r = await sh(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout.trim();
}

/** Waits until none of the jobs is pending or running. */
async function drain(jobs: readonly string[], seconds = 400): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if ((await slurm('squeue', '-h', '-j', jobs.join(','), '-o', '%i %T')) === '') return;
    await sleep(500);
  }
  throw new Error(`jobs ${jobs.join(',')} still queued after ${seconds}s`);
}

interface LogEntry {
  readonly job: string;
  readonly name: string;
  readonly state: string;
  readonly start: string;
  readonly end: string;
}

/** The cluster's log of finished jobs (jobcomp/filetxt), in the order they started. */
function clusterLog(): LogEntry[] {
  const file = join(clusterDir, 'log', 'jobcomp.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = Object.fromEntries(line.split(' ').map((kv) => kv.split('=') as [string, string]));
      const task =
        f.ArrayTaskId && f.ArrayTaskId !== '4294967294' ? `${f.ArrayJobId}_${f.ArrayTaskId}` : f.JobId!;
      return { job: task, name: f.Name!, state: f.JobState!, start: f.StartTime!, end: f.EndTime! };
    })
    .sort((a, b) => a.start.localeCompare(b.start) || a.end.localeCompare(b.end));
}

function printLog(log: readonly LogEntry[]): string {
  return log
    .map((e) => `${e.start}  ${e.end}  ${e.job.padEnd(6)} ${e.name.padEnd(24)} ${e.state}`)
    .join('\n');
}

beforeAll(() => {
  ensureBuilt();
  work = mkdtempSync(join(tmpdir(), 'distill-slurm-'));
  chmodSync(work, 0o755); // munged runs as the munge user and must reach its socket under here
  clusterDir = join(work, 'cluster');
  let out: string;
  try {
    out = execFileSync('bash', [clusterScript, 'start', clusterDir], { encoding: 'utf8', timeout: 60_000 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`cannot start the Slurm cluster (${clusterScript}): ${e.stderr || e.message}`);
  }
  const conf = /export SLURM_CONF=(.+)/.exec(out)?.[1];
  expect(conf).toBe(join(clusterDir, 'slurm.conf'));
  env = { ...process.env, SLURM_CONF: conf, CI: 'true' };
  copyFileSync(join(experimentsDir, 'cluster-quick.yaml'), join(work, 'quick.yaml'));
}, 120_000);

afterAll(() => {
  if (clusterDir) {
    const stopped = execFileSync('bash', [clusterScript, 'stop', clusterDir], { encoding: 'utf8' });
    expect(stopped).toMatch(/stopped slurmctld/);
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('distill emit slurm on a real Slurm cluster', () => {
  it('writes a teacher array, a student array after it (afterok) with the index offset, a merge job', async () => {
    const r = await runDistill(
      [
        'emit',
        'slurm',
        'quick.yaml',
        '--out',
        'asked',
        '--partition',
        'gpu',
        '--cpus-per-task',
        '4',
        '--gpus',
        '1',
        '--time',
        '2:00:00',
      ],
      work,
    );
    expect(r.code, r.stderr).toBe(0);
    const dir = join(work, 'asked', 'slurm');
    const teachers = readFileSync(join(dir, 'teachers.sbatch'), 'utf8');
    const students = readFileSync(join(dir, 'students.sbatch'), 'utf8');
    const merge = readFileSync(join(dir, 'merge.sbatch'), 'utf8');
    expect(teachers).toMatch(/#SBATCH --array=0-1\n/);
    expect(teachers).toMatch(/--job-index \$\(\(SLURM_ARRAY_TASK_ID \+ 0\)\)/);
    expect(students).toMatch(/#SBATCH --array=0-3\n/);
    expect(students).toMatch(/--job-index \$\(\(SLURM_ARRAY_TASK_ID \+ 2\)\)/);
    for (const s of [teachers, students]) {
      for (const line of ['--partition=gpu', '--cpus-per-task=4', '--gpus=1', '--time=2:00:00'])
        expect(s).toContain(`#SBATCH ${line}\n`);
    }
    expect(merge).not.toContain('--gpus');
    expect(merge).toMatch(/merge .*asked\n/);
    const submit = readFileSync(join(dir, 'submit.sh'), 'utf8');
    expect(submit).toContain('students=$(submit --dependency=afterok:$teachers "$here/students.sbatch")');
    expect(submit).toContain('merge=$(submit --dependency=afterany:$students "$here/merge.sbatch")');
  });

  it('a second cluster beside the first gets its own ports and state; stopping it leaves the first running', async () => {
    const second = join(work, 'cluster2');
    const out = execFileSync('bash', [clusterScript, 'start', second], { encoding: 'utf8', timeout: 60_000 });
    const env2 = { ...process.env, SLURM_CONF: /export SLURM_CONF=(.+)/.exec(out)![1] };
    const port = (dir: string) =>
      /SlurmctldPort=(\d+)/.exec(readFileSync(join(dir, 'slurm.conf'), 'utf8'))?.[1] ?? 'default 6817';
    try {
      expect(port(second)).not.toBe(port(clusterDir));
      const job = execFileSync(
        'sbatch',
        ['--parsable', '-o', join(work, 'second-%j.out'), '--wrap', 'echo second'],
        {
          env: env2,
          encoding: 'utf8',
        },
      ).trim();
      // the job ran on the second cluster: its own log of finished jobs has it, the first cluster's does not
      const jobcomp = (dir: string) => {
        const f = join(dir, 'log', 'jobcomp.log');
        return existsSync(f) ? readFileSync(f, 'utf8') : '';
      };
      const until = Date.now() + 60_000;
      while (!new RegExp(`JobId=${job} .*Name=wrap .*JobState=COMPLETED`).test(jobcomp(second))) {
        if (Date.now() > until) throw new Error(`job ${job} did not complete on the second cluster in 60 s`);
        await sleep(250);
      }
      expect(jobcomp(clusterDir)).not.toContain('Name=wrap');
      expect(readFileSync(join(work, `second-${job}.out`), 'utf8')).toBe('second\n');
    } finally {
      const stopped = execFileSync('bash', [clusterScript, 'stop', second], { encoding: 'utf8' });
      expect(stopped).toMatch(/stopped slurmctld/);
    }
    // the first cluster's daemons were not touched
    expect(await slurm('sinfo', '-h', '-o', '%T')).toBe('idle');
  });

  it('runs the experiment as arrays; a cancelled task, resubmitted, resumes and the merge equals one process', async () => {
    const root = join(work, 'root');
    const one = runDistill(['run', 'quick.yaml', '--out', 'one', '--quiet'], work, { timeout: 400_000 });
    const emitted = await runDistill(['emit', 'slurm', 'quick.yaml', '--out', root], work);
    expect(emitted.code, emitted.stderr).toBe(0);
    const dir = join(root, 'slurm');
    const ids = Object.fromEntries(
      (await slurm('bash', join(dir, 'submit.sh'))).split(' ').map((kv) => kv.split('=') as [string, string]),
    );
    expect(Object.keys(ids)).toEqual(['teachers', 'students', 'merge']);

    // cancel the last student task (distilled-s2) once it has written a checkpoint
    const ckpt = join(root, 'jobs', 'distilled-s2', 'checkpoints', 'distilled-s2');
    const until = Date.now() + 300_000;
    while (!(existsSync(ckpt) && readdirSync(ckpt).some((f) => f.endsWith('.djsckpt')))) {
      if (Date.now() > until) throw new Error('distilled-s2 wrote no checkpoint in 300 s');
      await sleep(50);
    }
    await slurm('scancel', `${ids.students}_3`);
    await drain([ids.teachers!, ids.students!, ids.merge!]);
    const firstMerge = readFileSync(join(dir, 'logs', `merge-${ids.merge}.out`), 'utf8');
    expect(firstMerge).toMatch(/1 of 6 units are not complete: distilled-s2 \(interrupted\)/);
    expect(JSON.parse(readFileSync(join(root, 'jobs', 'distilled-s2', 'run.json'), 'utf8')).status).toBe(
      'interrupted',
    );

    // resubmit that one task, then the merge after it
    const again = await slurm('sbatch', '--parsable', '--array=3', join(dir, 'students.sbatch'));
    const merge2 = await slurm(
      'sbatch',
      '--parsable',
      `--dependency=afterok:${again}`,
      join(dir, 'merge.sbatch'),
    );
    await drain([again, merge2]);
    expect(readFileSync(join(dir, 'logs', `students-${again}_3.out`), 'utf8')).toMatch(
      /resuming at step [1-9]/,
    );
    const merged = readFileSync(join(dir, 'logs', `merge-${merge2}.out`), 'utf8');
    expect(merged).toMatch(/merged from 6 units/);

    const log = clusterLog();
    const text = printLog(log);
    console.log(`Slurm cluster log (jobcomp, by start time):\n${text}\n\nmerged table:\n${merged}`);
    if (process.env.DISTILL_SLURM_LOG) writeFileSync(process.env.DISTILL_SLURM_LOG, `${text}\n\n${merged}`);
    const state = (job: string) => log.find((e) => e.job === job)?.state;
    expect([0, 1].map((i) => state(`${ids.teachers}_${i}`))).toEqual(['COMPLETED', 'COMPLETED']);
    expect([0, 1, 2, 3].map((i) => state(`${ids.students}_${i}`))).toEqual([
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
      'CANCELLED',
    ]);
    expect([state(ids.merge!), state(`${again}_3`), state(merge2)]).toEqual([
      'FAILED',
      'COMPLETED',
      'COMPLETED',
    ]);
    // afterok: no student started before both teachers ended; each merge started after its students ended
    const teacherEnd = log
      .filter((e) => e.job.startsWith(`${ids.teachers}_`))
      .map((e) => e.end)
      .sort()
      .pop()!;
    for (const e of log.filter((x) => x.job.startsWith(`${ids.students}_`)))
      expect(e.start >= teacherEnd).toBe(true);
    expect(log[log.length - 1]!.job).toBe(merge2);

    const single = await one;
    expect(single.code, single.stderr).toBe(0);
    const a = JSON.parse(readFileSync(join(work, 'one', 'run.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(root, 'run.json'), 'utf8'));
    // the resumed unit's record says so; apart from that note and the times, the records are the same
    const resumedStage = b.stages.find((s: { id: string }) => s.id === 'distilled-s2');
    expect(resumedStage.notes.filter((n: string) => n.startsWith('resumed from '))).toHaveLength(1);
    resumedStage.notes = resumedStage.notes.filter((n: string) => !n.startsWith('resumed from '));
    expect(timeless(b)).toStrictEqual(timeless(a));
    // and the merge job printed the table, test-split caption and paired differences of the one process
    expect(printedResults(merged)).toEqual(printedResults(single.stdout));
  }, 600_000);
});
