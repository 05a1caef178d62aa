import { loadModel, saveModel } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { RUN_IDS, type RunId } from './chart-data.js';
import type { RunResult } from './comparison.js';
import type { RunSettings } from './run-settings.js';

const PREFIX = 'indexeddb://distilljs-playground-';
const META_KEY = 'distilljs-playground:results';

/** What is kept next to the models: the last results and the settings they came from. */
export interface StoredMeta {
  readonly dataset: string;
  readonly results: Partial<Record<RunId, RunResult>>;
  readonly settings?: RunSettings;
  readonly backend?: string;
}

/** The IndexedDB URL of a run's model. */
export function storeUrl(run: RunId): string {
  return `${PREFIX}${run}`;
}

/** Saves a model into IndexedDB (tfjs Layers format with distilljs metadata), replacing the previous one. */
export async function storeModel(run: RunId, model: LayersModel): Promise<void> {
  await saveModel(model, storeUrl(run));
}

/** Remembers results and settings (in localStorage; small JSON). */
export function storeMeta(meta: StoredMeta): void {
  try {
    localStorage.setItem(META_KEY, JSON.stringify(meta));
  } catch {
    // Storage full or disabled: the models still persist; the table is rebuilt on the next run.
  }
}

export function readMeta(): StoredMeta | undefined {
  try {
    const raw = localStorage.getItem(META_KEY);
    return raw ? (JSON.parse(raw) as StoredMeta) : undefined;
  } catch {
    return undefined;
  }
}

/** Loads whatever models a previous visit left in IndexedDB. */
export async function restoreModels(): Promise<Partial<Record<RunId, LayersModel>>> {
  let listed: Record<string, unknown>;
  try {
    listed = await tf.io.listModels();
  } catch {
    return {};
  }
  const out: Partial<Record<RunId, LayersModel>> = {};
  for (const run of RUN_IDS) {
    if (storeUrl(run) in listed) out[run] = await loadModel(storeUrl(run));
  }
  return out;
}

/** Deletes the stored models of these runs (they are about to be retrained); keeps the others. */
export async function forgetRuns(runs: readonly RunId[]): Promise<void> {
  try {
    const listed = await tf.io.listModels();
    for (const run of runs) if (storeUrl(run) in listed) await tf.io.removeModel(storeUrl(run));
    const meta = readMeta();
    if (meta) {
      const results = { ...meta.results };
      for (const run of runs) delete results[run];
      storeMeta({ ...meta, results });
    }
  } catch {
    // IndexedDB unavailable: nothing stored to forget.
  }
}

/** Deletes the stored models and results. */
export async function forgetModels(): Promise<number> {
  const listed = await tf.io.listModels();
  let n = 0;
  for (const run of RUN_IDS) {
    if (storeUrl(run) in listed) {
      await tf.io.removeModel(storeUrl(run));
      n += 1;
    }
  }
  localStorage.removeItem(META_KEY);
  return n;
}
