import type { BackendRequest, BackendSelection } from '@distilljs/core';
import { InterruptedError, UsageError } from './exit-code.js';
import { InterruptHandler } from './interrupt.js';
import type { Io } from './io.js';
import { assertRunDir, createRunDir } from './run-dir.js';
import { loadRunRecord, newRunRecord, type RunRecord, saveRunRecord } from './run-record.js';
import * as toolkit from './toolkit.js';

/** A run in progress: its directory, record, backend and Ctrl-C handler. */
export interface Session {
  readonly runDir: string;
  readonly record: RunRecord;
  readonly backend: BackendSelection;
  readonly interrupts: InterruptHandler;
  readonly resumed: boolean;
  readonly io: Io;
  readonly quiet: boolean;
}

/** Options of {@link withSession}. */
export interface SessionOptions<C> {
  readonly kind: string;
  readonly io: Io;
  readonly backend: BackendRequest;
  readonly out?: string | undefined;
  readonly resume?: string | undefined;
  readonly quiet?: boolean | undefined;
  /** The configuration to record (a new run) or the check that a resumed record fits (returns its config). */
  readonly config: C;
}

/**
 * Opens a run (a fresh run directory, or the one given to `--resume`, whose recorded configuration wins),
 * selects the backend, installs the Ctrl-C handler, runs `body`, and records the final status.
 */
export async function withSession<C, T>(
  options: SessionOptions<C>,
  body: (session: Session, config: C) => Promise<T>,
): Promise<T> {
  let runDir: string;
  let record: RunRecord;
  let config = options.config;
  const resumed = options.resume !== undefined;
  if (options.resume !== undefined) {
    runDir = await assertRunDir(options.resume);
    record = loadRunRecord(runDir);
    if (record.kind !== options.kind) {
      throw new UsageError(
        `--resume ${options.resume}: that is a '${record.kind}' run, not '${options.kind}'`,
      );
    }
    config = record.config as C;
    record.status = 'running';
  } else {
    record = newRunRecord(options.kind, config, process.argv.slice(2));
    runDir = '';
  }
  const backend = await toolkit.setupBackend(options.backend);
  if (!resumed) runDir = createRunDir({ out: options.out, prefix: options.kind.replace(/\s+/g, '-') });
  record.backend = backend;
  saveRunRecord(runDir, record);
  const quiet = Boolean(options.quiet);
  if (!quiet) {
    const engine = (backend as { engine?: string }).engine;
    options.io.stderr.write(
      `backend: ${backend.backend}${engine ? ` [${engine}]` : ''} (${backend.reason})\n`,
    );
    options.io.stderr.write(`${resumed ? 'resuming' : 'run directory'}: ${runDir}\n`);
  }
  const interrupts = new InterruptHandler().install();
  try {
    const result = await body(
      { runDir, record, backend, interrupts, resumed, io: options.io, quiet },
      config,
    );
    record.status = 'complete';
    saveRunRecord(runDir, record);
    return result;
  } catch (error) {
    if (!(error instanceof InterruptedError)) {
      record.status = 'failed';
      record.error = error instanceof Error ? error.message : String(error);
    } else {
      record.status = 'interrupted';
    }
    saveRunRecord(runDir, record);
    throw error;
  } finally {
    interrupts.uninstall();
  }
}
