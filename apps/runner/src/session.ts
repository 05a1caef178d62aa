import type { BackendRequest, BackendSelection } from '@distilljs/core';
import { DivergedRunError, InterruptedError, UsageError } from './exit-code.js';
import { InterruptHandler } from './interrupt.js';
import type { Io } from './io.js';
import { checkRecordedConfig, freezeConfig } from './resume-check.js';
import { assertRunDir, createRunDir } from './run-dir.js';
import { acquireRunLock, HEARTBEAT_SECONDS, removeStaleTemporaries, thisProcess } from './run-lock.js';
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
  /**
   * With `--resume`: checks the flags given against the recorded configuration and returns the one to run
   * (refusing contradictions, or applying them under `--override` and recording them in `record`).
   */
  readonly reconcile?: (recorded: C, record: RunRecord, runDir: string) => C;
  /** `--override`: accept flags, and run.json edits, that contradict the resumed run. */
  readonly override?: boolean | undefined;
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
  let lock: ReturnType<typeof acquireRunLock> | undefined;
  if (options.resume !== undefined) {
    runDir = await assertRunDir(options.resume);
    lock = acquireRunLock(runDir, `--resume ${options.resume}`);
    try {
      record = loadRunRecord(runDir);
      if (record.kind !== options.kind) {
        throw new UsageError(
          `--resume ${options.resume}: that is a '${record.kind}' run, not '${options.kind}'`,
        );
      }
      checkRecordedConfig(runDir, record, options.resume, Boolean(options.override));
      config = options.reconcile
        ? options.reconcile(record.config as C, record, runDir)
        : (record.config as C);
    } catch (error) {
      lock.release();
      throw error;
    }
    record.status = 'running';
  } else {
    record = newRunRecord(options.kind, config, process.argv.slice(2));
    runDir = '';
  }
  let backend: BackendSelection;
  try {
    backend = await toolkit.setupBackend(options.backend);
  } catch (error) {
    lock?.release();
    throw error;
  }
  if (!resumed) {
    runDir = createRunDir({ out: options.out, prefix: options.kind.replace(/\s+/g, '-') });
    lock = acquireRunLock(runDir, runDir);
    freezeConfig(runDir, record);
  }
  const quiet = Boolean(options.quiet);
  const note = (line: string) => {
    if (!quiet) options.io.stderr.write(`${line}\n`);
  };
  if (lock?.stale) {
    note(
      `the previous process of this run (${lock.stale.pid} on ${lock.stale.host}) is gone; it was interrupted`,
    );
  }
  const stale = removeStaleTemporaries(runDir);
  if (stale.files.length > 0) {
    note(
      `removed ${stale.files.length} temporary file${stale.files.length > 1 ? 's' : ''} (${stale.bytes} bytes) left by an interrupted write: ${stale.files.join(', ')}`,
    );
  }
  record.backend = backend;
  record.process = thisProcess();
  record.heartbeatAt = new Date().toISOString();
  saveRunRecord(runDir, record);
  if (!quiet) {
    const engine = (backend as { engine?: string }).engine;
    options.io.stderr.write(
      `backend: ${backend.backend}${engine ? ` [${engine}]` : ''} (${backend.reason})\n`,
    );
    options.io.stderr.write(`${resumed ? 'resuming' : 'run directory'}: ${runDir}\n`);
  }
  const interrupts = new InterruptHandler().install();
  const heartbeat = setInterval(() => {
    record.heartbeatAt = new Date().toISOString();
    saveRunRecord(runDir, record);
  }, HEARTBEAT_SECONDS * 1000).unref();
  // A second Ctrl-C exits at once: the record must not say `running` for ever, nor the lock stay.
  const onExit = () => {
    if (record.status === 'running') {
      record.status = 'interrupted';
      saveRunRecord(runDir, record);
    }
    lock?.release();
  };
  process.on('exit', onExit);
  try {
    const result = await body(
      { runDir, record, backend, interrupts, resumed, io: options.io, quiet },
      config,
    );
    record.status = 'complete';
    saveRunRecord(runDir, record);
    return result;
  } catch (error) {
    if (error instanceof InterruptedError) record.status = 'interrupted';
    else {
      record.status = error instanceof DivergedRunError ? 'diverged' : 'failed';
      record.error = error instanceof Error ? error.message : String(error);
    }
    saveRunRecord(runDir, record);
    throw error;
  } finally {
    clearInterval(heartbeat);
    process.off('exit', onExit);
    interrupts.uninstall();
    lock?.release();
  }
}
