import { DistillError } from '@distilljs/core';
import { CommanderError } from 'commander';

/** Process exit codes of the `distill` command line. */
export const EXIT = {
  /** Everything asked for was done. */
  ok: 0,
  /** A failure while running (training diverged, a file could not be written, an internal error). */
  failure: 1,
  /** Bad usage or bad input: unknown command or flag, invalid experiment file, missing or corrupt file. */
  usage: 2,
  /** Stopped by Ctrl-C after writing a checkpoint (128 + SIGINT, as shells report it). */
  interrupted: 130,
  /** Stopped by SIGTERM (a scheduler, `kill`) after writing a checkpoint (128 + SIGTERM). */
  terminated: 143,
} as const;

/** Error codes of `DistillError` that mean the user's input was wrong (exit 2). */
const USAGE_CODES = new Set([
  'invalid-argument',
  'invalid-file',
  'invalid-config',
  'not-installed',
  'usage',
  'file-not-found',
]);

/** A mistake in how the command line was used (exit 2). */
export class UsageError extends DistillError {
  override readonly name = 'UsageError';
  constructor(message: string, options: { where?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'usage' });
  }
}

/** A failure while running that is not the user's input (exit 1), such as an unwritable output directory. */
export class RunFailedError extends DistillError {
  override readonly name = 'RunFailedError';
  constructor(message: string, options: { where?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'run-failed' });
  }
}

/** Training diverged (a loss past its bound, NaN, or chance accuracy); the last good checkpoint is kept (exit 1). */
export class DivergedRunError extends DistillError {
  override readonly name = 'DivergedRunError';
  constructor(message: string, options: { where?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'diverged' });
  }
}

/** Training was stopped by SIGINT or SIGTERM after a checkpoint was written. */
export class InterruptedError extends DistillError {
  override readonly name = 'InterruptedError';
  /** The run directory to pass to `--resume`. */
  readonly runDir: string | undefined;
  /** The signal that stopped it (exit 143 for SIGTERM, 130 otherwise). */
  readonly signal: string | undefined;
  constructor(message: string, runDir?: string, signal?: string) {
    super(message, { code: 'interrupted' });
    this.runDir = runDir;
    this.signal = signal;
  }
}

/** The exit code of a process stopped by `signal` (128 + its number, as shells report it). */
export function signalExitCode(signal: string | undefined): number {
  return signal === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted;
}

/** The exit code for an error thrown by a command. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof InterruptedError) return signalExitCode(error.signal);
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof DistillError) return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failure;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return EXIT.usage;
  return EXIT.failure;
}

/**
 * The name of a library function or class some package messages begin with (`loadMnist: `,
 * `fileSystemHandler: `, `TeacherOutputCache.decode: `), meaningless to a CLI user; config paths
 * (`dataset.trainSize: `, `students[1].alpha: `) and file names do not match.
 */
const INTERNAL_PREFIX =
  /^(?:[a-z]+[A-Z][A-Za-z0-9]*|[A-Z][a-z]+[A-Z][A-Za-z0-9]*(?:\.[a-z][A-Za-z0-9]*)?)(?:\([^)]*\))?: /;

/** A message without the internal function names it may start with. */
export function stripInternalPrefixes(message: string): string {
  let out = message;
  while (INTERNAL_PREFIX.test(out)) out = out.replace(INTERNAL_PREFIX, '');
  return out;
}

/** One line for the terminal: `distill: <what went wrong>`; the stack only when `verbose`. */
export function formatError(error: unknown, verbose = false): string {
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n').find((l) => l.trim().length > 0) ?? 'unknown error';
  const cleaned = stripInternalPrefixes(firstLine.replace(/^error:\s*/i, ''));
  if (!verbose) return `distill: ${cleaned}`;
  const stack = error instanceof Error && error.stack ? error.stack : message;
  const cause =
    error instanceof Error && error.cause !== undefined ? `\ncaused by: ${formatCause(error.cause)}` : '';
  return `distill: ${cleaned}\n${stack}${cause}`;
}

function formatCause(cause: unknown): string {
  if (cause instanceof Error) return cause.stack ?? cause.message;
  return String(cause);
}
