import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/** The runner app's directory, its built binary and its shipped experiment files (for end-to-end tests). */
export const appDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = join(appDir, 'dist', 'cli.js');
export const experimentsDir = join(appDir, 'experiments');
/** The single-file build's directory (tsup.bundle.config.ts): distill.mjs and its wasm files. */
export const bundleDir = join(appDir, 'bundle');

/** What a run of the built binary gave. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (!e.name.endsWith('.test.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Builds dist/cli.js with tsup when it is missing or older than the sources (CI builds it first). */
export function ensureBuilt(): void {
  if (existsSync(cli) && statSync(cli).mtimeMs >= newestSource(join(appDir, 'src'))) return;
  execFileSync('npx', ['tsup'], { cwd: appDir, stdio: 'pipe', timeout: 170_000 });
  if (!readFileSync(cli, 'utf8').startsWith('#!')) throw new Error(`${cli} is not the built binary`);
}

/**
 * Builds bundle/ (the single-file distill.mjs) when it is missing or older than dist/cli.js or its config,
 * once even when several test files ask at the same time (a lock directory; tsup empties bundle/ first).
 */
export async function ensureBundle(): Promise<void> {
  const lock = join(appDir, '.bundle-build.lock');
  for (const start = Date.now(); ; await sleep(500)) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() - start > 300_000) throw new Error(`${lock} held for 5 minutes; remove it if stale`);
    }
  }
  try {
    const bundle = join(bundleDir, 'distill.mjs');
    const newest = Math.max(statSync(cli).mtimeMs, statSync(join(appDir, 'tsup.bundle.config.ts')).mtimeMs);
    if (!existsSync(bundle) || statSync(bundle).mtimeMs < newest) {
      execFileSync('npx', ['tsup', '--config', 'tsup.bundle.config.ts'], {
        cwd: appDir,
        stdio: 'pipe',
        timeout: 170_000,
      });
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Runs the built `distill` with `args` in `cwd`. */
export function runDistill(
  args: readonly string[],
  cwd: string,
  options: { timeout?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args],
      {
        cwd,
        env: { ...process.env, CI: 'true', ...options.env },
        timeout: options.timeout ?? 170_000,
        maxBuffer: 1 << 26,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The error lines a command printed (`distill: ...`). */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('distill:'));
}

/**
 * A run record with what depends on time or place taken out: wall times (`seconds`, `samplesPerSec`,
 * timings inside notes), dates, the command line, the writing process and its heartbeat. What is left must be equal between two runs of the same
 * experiment, however they were split into processes.
 */
export function timeless(record: Record<string, unknown>): unknown {
  const {
    createdAt: _c,
    updatedAt: _u,
    command: _m,
    runner: _r,
    process: _p,
    heartbeatAt: _h,
    ...rest
  } = record;
  return JSON.parse(
    JSON.stringify(rest, (key, value) => {
      if (key === 'seconds' || key === 'samplesPerSec' || key === 'at') return undefined;
      if (typeof value === 'string') return value.replace(/ in \d+(\.\d+)? s\b/g, ' in (time) s');
      return value;
    }),
  );
}

/** Every file below `dir` (paths relative to it) with its sha256: equal snapshots mean byte-identical trees. */
export function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/**
 * The results a command printed, without what depends on time: the table's cells (its `train time` column
 * left out), the caption about the test split and the paired differences. `distill run FILE` and
 * `distill merge ROOT` of the same experiment must print the same.
 */
export function printedResults(stdout: string): string[] {
  const lines = stdout.split('\n');
  const head = lines.find((l) => l.startsWith('│') && l.includes('train time'));
  const drop = head ? head.split('│').findIndex((c) => c.trim() === 'train time') : -1;
  return lines
    .filter(
      (l) => l.startsWith('│') || l.startsWith('Test split:') || l.includes(' paired by student seed: '),
    )
    .map((l) =>
      l.startsWith('│')
        ? l
            .split('│')
            .filter((_, i) => i !== drop)
            .map((c) => c.trim())
            .join('|')
        : l,
    );
}
