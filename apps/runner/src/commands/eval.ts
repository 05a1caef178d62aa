import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BackendRequest } from '@distilljs/core';
import { UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { type PredictionRow, predictStream, writePredictionsCsv } from '../predictions-csv.js';
import { formatPercent, renderTable } from '../results-table.js';
import { loadRunRecord, recordTestLook, saveRunRecord } from '../run-record.js';
import * as toolkit from '../toolkit.js';
import { datasetFromFlags } from './train.js';

/** The models an `--model` reference names: every finished model of a run directory, or one model. */
interface Target {
  name: string;
  location: string;
  dataset?: unknown;
  /** The run directory and stage id, when the model is a stage of a run of ours. */
  run?: { dir: string; stage: string };
}

function modelLocations(ref: string): Target[] {
  if (/^https?:\/\//.test(ref)) return [{ name: ref, location: ref }];
  const abs = resolve(ref);
  if (!existsSync(abs)) throw new UsageError(`--model ${ref}: no such file or directory`);
  if (
    statSync(abs).isDirectory() &&
    existsSync(join(abs, 'run.json')) &&
    !existsSync(join(abs, 'model.json'))
  ) {
    const record = loadRunRecord(abs);
    const found = record.stages.filter((s) => s.modelDir && existsSync(join(abs, s.modelDir, 'model.json')));
    if (found.length === 0) throw new UsageError(`--model ${ref}: the run directory holds no finished model`);
    const dataset = (record.config as { dataset?: unknown } | undefined)?.dataset;
    return found.map((s) => ({
      name: `${s.name} (seed ${s.seed})`,
      location: join(abs, s.modelDir!),
      dataset,
      run: { dir: abs, stage: s.id },
    }));
  }
  return [{ name: ref, location: abs }];
}

/** A look at the test split of a run's models is one more test evaluation: its run.json counts it. */
function countTestLooks(targets: readonly Target[]): void {
  const dir = targets[0]?.run?.dir;
  if (!dir) return;
  const record = loadRunRecord(dir);
  for (const t of targets)
    if (t.run) recordTestLook(record, { stage: t.run.stage, model: 'final', purpose: 'distill eval' });
  saveRunRecord(dir, record);
}

/**
 * `distill eval`: errors, accuracy, NLL and calibration of trained models on the test split (or, with
 * `--split validation`, on the validation split a run directory's configuration carves from training).
 */
export async function evalCommand(opts: Record<string, unknown>, io: Io): Promise<void> {
  const targets = modelLocations(opts.model as string);
  const selection = await toolkit.setupBackend((opts.backend as BackendRequest) ?? 'auto');
  // a run directory is evaluated on its own dataset unless --dataset is given
  const given = (opts.$given as string[] | undefined) ?? [];
  const recorded = targets[0]?.dataset as toolkit.DatasetSpec | undefined;
  const spec =
    recorded && !given.includes('dataset')
      ? {
          ...recorded,
          ...(opts.testSize ? { testSize: opts.testSize as number } : {}),
          ...(opts.dataDir ? { dir: opts.dataDir as string } : {}),
        }
      : (datasetFromFlags(opts) as toolkit.DatasetSpec);
  const dataset = await toolkit.loadDataset(spec);
  const split = (opts.split as 'test' | 'validation' | undefined) ?? 'test';
  const stream = toolkit.makeStream(dataset, { split, batchSize: 256, seed: 0, shuffle: false });
  const results = [];
  const predictions: PredictionRow[] = [];
  for (const t of targets) {
    const { model, notes } = await toolkit.loadTeacherFrom(t.location, dataset);
    for (const n of notes) io.stderr.write(`${t.name}: ${n}\n`);
    const e = await toolkit.evaluate(model, stream);
    results.push({ name: t.name, location: t.location, params: toolkit.countParams(model), split, ...e });
    if (opts.predictions) predictions.push(...(await predictStream(model, stream, t.name)));
    model.dispose();
  }
  if (opts.predictions) writePredictionsCsv(resolve(opts.predictions as string), predictions);
  if (split === 'test') countTestLooks(targets);
  if (opts.json) {
    println(
      io.stdout,
      JSON.stringify({
        backend: selection.backend,
        dataset: dataset.name,
        split,
        splitCount: dataset[split].count,
        results,
      }),
    );
    return;
  }
  println(
    io.stdout,
    `scored on the ${split} split of ${dataset.name} (${dataset[split].count} examples${split === 'validation' ? `, carved from the training split with seed ${dataset.validationSplit.seed}` : ''}), backend ${selection.backend}`,
  );
  println(
    io.stdout,
    renderTable(
      ['model', `${split} errors`, `${split} accuracy`, `${split} NLL`, `${split} ECE (15 bins)`],
      results.map((r) => [
        r.name,
        `${r.errors} / ${r.count}`,
        formatPercent(r.accuracy),
        r.nll.toFixed(4),
        r.ece.toFixed(4),
      ]),
    ),
  );
}
