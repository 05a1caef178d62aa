import type { CurvesSnapshot, RunId } from './chart-data.js';
import type { RunResult } from './comparison.js';
import type { RunSettings } from './run-settings.js';

/** One run of the page as the history keeps it: settings, results (the table) and curves. */
export interface RunRecord {
  /** Unique and sortable: the start time in ms, as text, with a counter. */
  readonly id: string;
  readonly startedAt: string;
  readonly settings: RunSettings;
  readonly backend: string;
  readonly results: Partial<Record<RunId, RunResult>>;
  readonly curves: CurvesSnapshot;
  readonly status: 'running' | 'done' | 'stopped' | 'failed';
}

const DB = 'distilljs-playground-history';
const STORE = 'runs';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'id' });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error(`could not open IndexedDB '${DB}'`));
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

/** Saves (or replaces) a run record. */
export function putRun(record: RunRecord): Promise<IDBValidKey> {
  return withStore('readwrite', (s) => s.put(record));
}

/** Every kept run, oldest first. */
export async function listRuns(): Promise<RunRecord[]> {
  const all = await withStore<RunRecord[]>('readonly', (s) => s.getAll() as IDBRequest<RunRecord[]>);
  return all.sort((a, b) => a.id.localeCompare(b.id));
}

/** Deletes one run. */
export function deleteRun(id: string): Promise<undefined> {
  return withStore('readwrite', (s) => s.delete(id));
}

let counter = 0;
/** A new record id: zero-padded start time, so ids sort by time. */
export function newRunId(now = Date.now()): string {
  counter = (counter + 1) % 1000;
  return `${String(now).padStart(15, '0')}-${String(counter).padStart(3, '0')}`;
}
