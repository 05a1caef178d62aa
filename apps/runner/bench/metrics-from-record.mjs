// usage (from apps/runner): node bench/metrics-from-record.mjs RUN_DIR
// metrics.csv of an interrupted run, from its run.json, with the runner's own metricsToCsv (same columns
// as writeRunOutputs: train_* on training batches, val_* on the validation split).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { metricsToCsv } from '../dist/index.js';

const dir = process.argv[2];
const record = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
const named = (logs) =>
  Object.fromEntries(
    Object.entries(logs).map(([k, v]) => [
      k.startsWith('val_') || ['lr', 'seconds', 'samplesPerSec'].includes(k) ? k : `train_${k}`,
      v,
    ]),
  );
const rows = record.stages.flatMap((s) =>
  s.history.map((h) => ({
    stage: s.name,
    seed: s.seed,
    ...(s.teacherSeed !== undefined ? { teacherSeed: s.teacherSeed } : {}),
    epoch: h.epoch,
    values: named(h.logs),
  })),
);
writeFileSync(join(dir, 'metrics.csv'), metricsToCsv(rows));
