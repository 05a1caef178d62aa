import { randomBytes } from 'node:crypto';
import {
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { RunFailedError, UsageError } from './exit-code.js';

/**
 * Writes a file atomically: the bytes go to a temporary file beside it, which is then renamed over the
 * target, so a reader (or a crash) never sees a half-written file and an earlier version stays intact
 * until the new one is complete.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (error) {
    rmSync(tmp, { force: true });
    const full = (error as NodeJS.ErrnoException).code === 'ENOSPC';
    const why = full ? 'no space left on the device' : (error as Error).message;
    throw new RunFailedError(`cannot write ${path}: ${why}`, {
      where: path,
      cause: error,
    });
  }
}

/** Options of {@link createRunDir}. */
export interface CreateRunDirOptions {
  /** The directory the user named with `--out`; refused when it exists and is not empty. */
  readonly out?: string | undefined;
  /** Parent of the default directory when `out` is not given (default `runs`). */
  readonly root?: string;
  /** Prefix of the default directory name, e.g. `demo` gives `runs/demo-2026-11-29T11-20-05`. */
  readonly prefix: string;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

/**
 * Creates a fresh run directory and returns its absolute path. An existing, non-empty `--out` is refused
 * (exit 2) so nothing of an earlier run is ever overwritten; default names get a `-2`, `-3`, ... suffix
 * when taken. Creation uses a non-recursive `mkdir` of the leaf, so two runs cannot claim one directory.
 */
export function createRunDir(options: CreateRunDirOptions): string {
  if (options.out !== undefined) {
    const dir = resolve(options.out);
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) {
        throw new UsageError(`--out ${options.out} exists and is not a directory; choose another --out`);
      }
      if (readdirSync(dir).length > 0) {
        throw new UsageError(
          `--out ${options.out} already exists and is not empty; choose another --out, or pass --resume ${options.out} to continue that run`,
        );
      }
      ensureWritable(dir, options.out);
      return dir;
    }
    makeDir(dir, options.out);
    return dir;
  }
  const root = resolve(options.root ?? 'runs');
  makeParent(root, options.root ?? 'runs');
  const base = join(root, `${options.prefix}-${timestamp()}`);
  for (let i = 1; i < 1000; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    try {
      mkdirSync(dir);
      return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new RunFailedError(`cannot create run directory ${dir}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
  }
  throw new RunFailedError(`cannot find a free run directory name under ${root}`);
}

function makeParent(dir: string, shown: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new RunFailedError(`cannot create output directory ${shown}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  ensureWritable(dir, shown);
}

function makeDir(dir: string, shown: string): void {
  makeParent(dirname(dir), dirname(shown));
  try {
    mkdirSync(dir);
  } catch (error) {
    throw new RunFailedError(`cannot create output directory ${shown}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function ensureWritable(dir: string, shown: string): void {
  const probe = join(dir, `.probe-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (error) {
    throw new RunFailedError(`output directory ${shown} is not writable: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** Checks that `dir` is an existing run directory of ours (it holds `run.json` or a `checkpoints/` folder). */
export async function assertRunDir(dir: string, flag = '--resume'): Promise<string> {
  const abs = resolve(dir);
  try {
    await access(abs, constants.R_OK | constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${dir}: no such run directory (or it is not writable)`);
  }
  if (!statSync(abs).isDirectory()) throw new UsageError(`${flag} ${dir}: not a directory`);
  if (!existsSync(join(abs, 'run.json')) && !existsSync(join(abs, 'checkpoints'))) {
    throw new UsageError(`${flag} ${dir}: not a distill run directory (no run.json or checkpoints/ inside)`);
  }
  return abs;
}
