import { getBackend, version_core as tfjsCoreVersion } from '@tensorflow/tfjs-core';
import { version_layers as tfjsLayersVersion } from '@tensorflow/tfjs-layers';
import { version as trainerVersion } from '../package.json';
import type { EvaluationResult } from './evaluate.js';
import type { History } from './history.js';

/** A JSON record of one run: enough to know what ran, where, how long, and what came out. */
export interface RunRecord {
  readonly format: 'distilljs-run';
  readonly version: 1;
  readonly createdAt: string;
  /** What the caller ran (models, data, loss, T, alpha, optimiser...): any JSON. */
  readonly config: unknown;
  readonly seed: number | undefined;
  readonly backend: string;
  readonly versions: Readonly<Record<string, string>>;
  readonly timings: { readonly totalSeconds: number; readonly epochSeconds: readonly number[] };
  readonly history: {
    readonly kind: History['kind'];
    readonly steps: number;
    readonly stopReason: History['stopReason'];
    readonly epochs: History['epochs'];
    readonly notes: readonly string[];
    readonly best: History['best'];
  };
  readonly finalMetrics: EvaluationResult | undefined;
}

/**
 * Builds the run record (JSON) of a finished {@link History}: config, versions of tfjs and this
 * package, the backend, the seed, timings, the history and final metrics. Write it with
 * `JSON.stringify(record, null, 2)`.
 */
export function createRunRecord(args: {
  config: unknown;
  history: History;
  seed?: number;
  finalMetrics?: EvaluationResult;
}): RunRecord {
  const { history } = args;
  const node = (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
  return {
    format: 'distilljs-run',
    version: 1,
    createdAt: new Date().toISOString(),
    config: args.config,
    seed: args.seed,
    backend: getBackend(),
    versions: {
      '@distilljs/trainer': trainerVersion,
      '@tensorflow/tfjs-core': tfjsCoreVersion,
      '@tensorflow/tfjs-layers': tfjsLayersVersion,
      ...(node ? { node } : {}),
    },
    timings: {
      totalSeconds: history.seconds,
      epochSeconds: history.epochs.map((e) => e.logs.seconds ?? Number.NaN),
    },
    history: {
      kind: history.kind,
      steps: history.steps,
      stopReason: history.stopReason,
      epochs: history.epochs,
      notes: history.notes,
      best: history.best,
    },
    finalMetrics: args.finalMetrics ?? history.final?.evaluation,
  };
}
