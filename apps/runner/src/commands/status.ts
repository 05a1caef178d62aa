import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { assertRunDir } from '../run-dir.js';
import { acquireRunLock } from '../run-lock.js';
import { effectiveStatus, loadRunRecord, RUN_RECORD_FILE, saveRunRecord } from '../run-record.js';

/**
 * `distill status <run-dir>`: what state a run is in. A record that says `running` while its process is
 * gone is reported, and rewritten, as `interrupted`.
 */
export async function statusCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const shown = args[0]!;
  const dir = await assertRunDir(shown, 'run directory');
  if (!existsSync(join(dir, RUN_RECORD_FILE))) {
    throw new UsageError(`${shown}: no ${RUN_RECORD_FILE} in this run directory`);
  }
  const record = loadRunRecord(dir);
  const status = effectiveStatus(record);
  if (status !== record.status) {
    // The writer is gone: correct the record, unless another process took the run over meanwhile.
    try {
      const lock = acquireRunLock(dir, shown);
      record.status = status;
      saveRunRecord(dir, record);
      lock.release();
    } catch {
      // a live writer holds it: leave the record alone
    }
  }
  const p = record.process;
  const why =
    status === 'interrupted' && p && record.status === 'interrupted'
      ? `process ${p.pid} on ${p.host} is gone; last heartbeat ${record.heartbeatAt ?? 'never'}`
      : undefined;
  const command = record.kind === 'run' ? 'run <experiment file>' : record.kind;
  const next = status === 'interrupted' ? `distill ${command} --resume ${shown}` : undefined;
  if (opts.json) {
    println(
      io.stdout,
      JSON.stringify({
        runDir: dir,
        kind: record.kind,
        status,
        stages: record.stages.length,
        process: p,
        heartbeatAt: record.heartbeatAt,
        ...(next ? { resume: next } : {}),
        ...(record.error ? { error: record.error } : {}),
      }),
    );
    return;
  }
  println(io.stdout, `${dir}: ${status}${why ? ` (${why})` : ''}`);
  println(io.stdout, `kind: ${record.kind}; stages finished: ${record.stages.length}`);
  if (record.error) println(io.stdout, `error: ${record.error}`);
  if (next) println(io.stdout, `continue with: ${next}`);
}
