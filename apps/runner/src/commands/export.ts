import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import type { BackendRequest } from '@distilljs/core';
import * as models from '@distilljs/models/node';
import * as tfl from '@tensorflow/tfjs-layers';
import { RunFailedError, UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { type ModelSource, resolveModelSource } from '../model-source.js';
import { imagePreprocessingFor, type Preprocessing, readSavedPreprocessing } from '../preprocessing.js';
import { renderTable } from '../results-table.js';
import * as toolkit from '../toolkit.js';
import { datasetFromFlags } from './train.js';

const QUANTIZE = ['float16', 'uint8', 'none'] as const;
type Quantize = (typeof QUANTIZE)[number];

interface ExportOptions {
  readonly out: string;
  readonly quantize: Quantize;
  readonly maxDrop: number;
}

function exportOptions(opts: Record<string, unknown>): ExportOptions {
  const quantize = (opts.quantize as string | undefined) ?? 'uint8';
  if (!QUANTIZE.includes(quantize as Quantize)) {
    throw new UsageError(`--quantize ${quantize}: expected one of ${QUANTIZE.join(', ')}`);
  }
  const out = resolve(opts.out as string);
  if (existsSync(out) && (!statSync(out).isDirectory() || readdirSync(out).length > 0)) {
    throw new UsageError(`--out ${opts.out}: exists and is not an empty directory; choose another --out`);
  }
  return { out, quantize: quantize as Quantize, maxDrop: (opts.maxAccuracyDrop as number | undefined) ?? 1 };
}

/** The student alone: its logits output (feature-tap outputs, if any, are dropped); no optimiser state. */
function studentAlone(model: tfl.LayersModel): tfl.LayersModel {
  if (model.outputs.length === 1) return model;
  return tfl.model({
    inputs: model.inputs,
    outputs: model.outputs[0] as tfl.SymbolicTensor,
    name: model.name,
  });
}

/** Bytes of model.json and of the weight files of a saved model directory. */
function fileSizes(dir: string): { modelJson: number; weights: number } {
  const weights = readdirSync(dir)
    .filter((f) => f !== 'model.json' && f.endsWith('.bin'))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  return { modelJson: statSync(join(dir, 'model.json')).size, weights };
}

async function testAccuracy(
  modelDir: string,
  test: ReturnType<typeof toolkit.makeStream>,
): Promise<{ accuracy: number; count: number }> {
  const model = await models.loadModel(modelDir);
  try {
    const e = await toolkit.evaluate(model, test);
    return { accuracy: e.accuracy, count: e.count };
  } finally {
    model.dispose();
  }
}

async function datasetOf(source: ModelSource, opts: Record<string, unknown>) {
  const given = (opts.$given as string[] | undefined) ?? [];
  const spec =
    source.dataset && !given.includes('dataset')
      ? source.dataset
      : (datasetFromFlags(opts) as toolkit.DatasetSpec);
  return toolkit.loadDataset(spec);
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(2)} MiB`
    : `${(bytes / 1024).toFixed(1)} KiB`;
}

interface SavedFigures {
  readonly modelJson: number;
  readonly weights: number;
  readonly accuracy: number;
}

/** What `distill export` reports (and prints as JSON with --json). */
interface ExportResult {
  readonly source: string;
  readonly out: string;
  readonly quantize: Quantize;
  readonly backend: string;
  readonly dataset: string;
  readonly testCount: number;
  readonly float32: SavedFigures;
  readonly exported: SavedFigures;
  readonly weightsRatio: number;
  readonly accuracyDropPoints: number;
  readonly maxAccuracyDrop: number;
}

/**
 * `distill export RUN_OR_MODEL --out DIR [--quantize float16|uint8|none] [--max-accuracy-drop P]`: the
 * student alone as a tfjs Layers model with quantised weights and its preprocessing, checked on the test
 * split before and after quantisation.
 */
export async function exportCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const options = exportOptions(opts);
  const source = resolveModelSource(args[0] as string, 'RUN_OR_MODEL', opts.model as string | undefined);
  const selection = await toolkit.setupBackend((opts.backend as BackendRequest) ?? 'auto');
  const dataset = await datasetOf(source, opts);
  const test = toolkit.makeStream(dataset, { split: 'test', batchSize: 256, seed: 0, shuffle: false });
  const saved = readSavedPreprocessing(source.modelJson);
  const preprocessing: Preprocessing = saved ?? imagePreprocessingFor(dataset as never);

  const work = mkdtempSync(join(tmpdir(), 'distill-export-'));
  const staging = join(dirname(options.out), `.${basename(options.out)}.export-${process.pid}`);
  try {
    const loaded = await models.loadModel(source.modelJson);
    const student = studentAlone(loaded);
    models.setModelMetadata(student, {
      ...models.getModelMetadata(loaded),
      preprocessing: preprocessing as unknown as Record<string, unknown>,
    });
    const float32Dir = join(work, 'float32');
    await models.saveModel(student, float32Dir, { quantize: 'none' });
    await models.saveModel(student, staging, { quantize: options.quantize });
    writeFileSync(join(staging, 'preprocessing.json'), `${JSON.stringify(preprocessing, null, 2)}\n`);
    loaded.dispose();

    const before = await testAccuracy(float32Dir, test);
    const after = await testAccuracy(staging, test);
    const drop = (before.accuracy - after.accuracy) * 100;
    const sizes = { float32: fileSizes(float32Dir), exported: fileSizes(staging) };
    const ratio = sizes.exported.weights / sizes.float32.weights;
    const result: ExportResult = {
      source: source.label,
      out: options.out,
      quantize: options.quantize,
      backend: selection.backend,
      dataset: dataset.name,
      testCount: before.count,
      float32: { ...sizes.float32, accuracy: before.accuracy },
      exported: { ...sizes.exported, accuracy: after.accuracy },
      weightsRatio: ratio,
      accuracyDropPoints: drop,
      maxAccuracyDrop: options.maxDrop,
    };
    report(io, opts, result);
    if (drop > options.maxDrop) {
      throw new RunFailedError(
        `${options.quantize} weights cost ${drop.toFixed(2)} accuracy points on the ${before.count} test examples of ${dataset.name} (${(before.accuracy * 100).toFixed(2)}% -> ${(after.accuracy * 100).toFixed(2)}%), more than --max-accuracy-drop ${options.maxDrop}; nothing was written to ${options.out}. Try --quantize float16, or allow a larger drop`,
      );
    }
    if (existsSync(options.out)) rmSync(options.out, { recursive: true });
    renameSync(staging, options.out);
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
  }
}

function report(io: Io, opts: Record<string, unknown>, r: ExportResult): void {
  if (opts.json) {
    println(io.stdout, JSON.stringify(r));
    return;
  }
  const pct = (a: number) => `${(a * 100).toFixed(2)}%`;
  println(
    io.stdout,
    `${r.source} -> ${r.out} (${r.dataset} test split, ${r.testCount} examples, backend ${r.backend})`,
  );
  println(
    io.stdout,
    renderTable(
      ['weights', 'model.json', 'weight file', 'total', 'test accuracy'],
      [
        [
          'float32',
          mib(r.float32.modelJson),
          mib(r.float32.weights),
          mib(r.float32.modelJson + r.float32.weights),
          pct(r.float32.accuracy),
        ],
        [
          r.quantize,
          mib(r.exported.modelJson),
          mib(r.exported.weights),
          mib(r.exported.modelJson + r.exported.weights),
          pct(r.exported.accuracy),
        ],
      ],
    ),
  );
  println(
    io.stdout,
    `${r.quantize} weight file: ${(r.weightsRatio * 100).toFixed(1)}% of float32; accuracy drop ${r.accuracyDropPoints.toFixed(2)} points (limit ${r.maxAccuracyDrop})`,
  );
}
