import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './exit-code.js';

/** The process that writes a run: recorded in run.json and in the run's lock file. */
export interface RunProcess {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly command?: string;
}

/** File name of the lock a writing process holds in its run directory. */
export const LOCK_FILE = '.distill.lock';
/** Seconds between heartbeats written to run.json while a run is in progress. */
export const HEARTBEAT_SECONDS = 15;
/** A run on another host whose heartbeat is older than this many seconds counts as gone. */
export const STALE_HEARTBEAT_SECONDS = 8 * HEARTBEAT_SECONDS;

/** This process, as a {@link RunProcess}. */
export function thisProcess(): RunProcess {
  return {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command: ['distill', ...process.argv.slice(2)].join(' '),
  };
}

/**
 * Whether a recorded process still runs: on this host, by asking the kernel (signal 0); on another host,
 * by the age of `heartbeatAt`.
 */
export function processAlive(p: RunProcess, heartbeatAt?: string): boolean {
  if (p.host !== hostname()) {
    const age = heartbeatAt ? (Date.now() - Date.parse(heartbeatAt)) / 1000 : Number.POSITIVE_INFINITY;
    return age < STALE_HEARTBEAT_SECONDS;
  }
  if (p.pid === process.pid) return true;
  try {
    process.kill(p.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !zombie(p.pid);
}

/** Linux: a process that has exited but was not yet reaped by its parent (state Z or X) is gone. */
function zombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

function readLock(file: string): RunProcess | undefined {
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as RunProcess;
    return typeof p?.pid === 'number' && typeof p.host === 'string' ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the run directory's lock for this process (created exclusively, so of two processes racing for it
 * exactly one wins) and returns its release. A lock held by a live process is refused (exit 2) naming
 * that process; one left by a process that is gone is taken over.
 */
export function acquireRunLock(runDir: string, shown: string): { release: () => void; stale?: RunProcess } {
  const file = join(runDir, LOCK_FILE);
  const me = thisProcess();
  let stale: RunProcess | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${JSON.stringify(me)}\n`);
      closeSync(fd);
      const release = () => {
        if (readLock(file)?.pid === me.pid) rmSync(file, { force: true });
      };
      return stale ? { release, stale } : { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLock(file);
    if (holder && processAlive(holder)) {
      throw new UsageError(
        `${shown} is in use by process ${holder.pid} on ${holder.host} (${holder.command ?? 'distill'}, started ${holder.startedAt}); wait for it to finish or stop it, then try again`,
        { where: file },
      );
    }
    // Left by a process that is gone (kill -9, power loss), or half-written: take it over.
    if (holder) stale = holder;
    rmSync(file, { force: true });
  }
  throw new UsageError(`${shown}: could not take the lock ${file}; another process keeps taking it`);
}

/**
 * Removes the hidden temporary files (`.NAME...tmp`) an interrupted atomic write left anywhere in the
 * run directory; only safe while holding the run's lock. Returns what was removed.
 */
export function removeStaleTemporaries(runDir: string): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && /^\..+\.tmp$/.test(e.name)) {
        bytes += statSync(p).size;
        rmSync(p, { force: true });
        files.push(p);
      }
    }
  };
  walk(runDir);
  return { files, bytes };
}
