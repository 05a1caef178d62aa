import type { Logs } from '@distilljs/core';
import type { EpochRecord } from './checkpoint.js';
import type { EvaluationResult } from './evaluate.js';

/** One epoch of a history: its logs and, with validation, the full evaluation. */
export interface HistoryEpoch extends EpochRecord {
  readonly evaluation?: EvaluationResult;
}

/** What {@link fit} and {@link distill} return: Keras' History plus best/final figures and notes. */
export interface History {
  readonly kind: 'fit' | 'distill';
  /** One record per finished epoch (a partial epoch when stopped mid-epoch). */
  readonly epochs: readonly HistoryEpoch[];
  /** Keras-style columns: `history.loss[e]`, `history.val_acc[e]`, ... */
  readonly history: Record<string, number[]>;
  /** Global steps done. */
  readonly steps: number;
  readonly stepsPerEpoch: number;
  /** Why training ended. */
  readonly stopReason: 'completed' | 'early-stopping' | 'stopped';
  /** Logs (and evaluation) of the last epoch. */
  readonly final: HistoryEpoch | undefined;
  /** The best epoch by `monitor`. */
  readonly best: (HistoryEpoch & { readonly monitor: string; readonly mode: 'min' | 'max' }) | undefined;
  /** Decisions taken (teacher-output cache, resume, checkpoints). */
  readonly notes: readonly string[];
  /** Wall-clock seconds of training (including earlier sessions of a resumed run). */
  readonly seconds: number;
}

/** @internal Builds Keras-style columns from epoch records. */
export function historyColumns(epochs: readonly EpochRecord[]): Record<string, number[]> {
  const cols: Record<string, number[]> = {};
  epochs.forEach((r, i) => {
    for (const [k, v] of Object.entries(r.logs as Logs)) {
      cols[k] ??= new Array<number>(i).fill(Number.NaN);
      cols[k].push(v);
    }
    for (const col of Object.values(cols)) if (col.length < i + 1) col.push(Number.NaN);
  });
  return cols;
}
