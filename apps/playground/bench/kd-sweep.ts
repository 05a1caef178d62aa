// Measures the playground's defaults: for several seeds, trains the teacher once, then for each student
// setting the baseline (labels) and the distilled student (soft targets) through the page's own
// `runSession`, and prints the errors of both. Run by kd-sweep.mjs (Vite loads this TypeScript):
//   node bench/kd-sweep.mjs --split val --seeds 1,2,3 --configs '[{"studentSize":500,"studentEpochs":30}]'
// `--split val` holds out the last 1,495 training digits as a validation split (teacher and students
// train on the first 7,000) for choosing settings; `--split test` is the page's split (8,495 / 1,505).

import { selectBackend } from '@distilljs/backends';
import type { ImageDataset } from '@distilljs/core';
import { embeddedMnistFromDigits } from '@distilljs/datasets';
import { TrainingController } from '@distilljs/trainer';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { RunResult } from '../src/comparison.js';
import type { RunSettings } from '../src/run-settings.js';
import { runSession, type SessionHooks } from '../src/session.js';
import { readMnistDigits } from '../vite/pack-data.js';

const BASE: RunSettings = {
  dataset: 'mnist',
  teacherModel: 'mlp-400x400-dropout',
  studentModel: 'mlp-30x30',
  teacherEpochs: 3,
  studentEpochs: 30,
  temperature: 4,
  alpha: 0.9,
  trainSize: 8495,
  studentSize: 500,
  testSize: 1505,
  batchSize: 128,
  learningRate: 0.001,
  seed: 1,
};

function validationSplit(data: ImageDataset, keep: number): ImageDataset {
  const px = data.imageShape[0] * data.imageShape[1] * data.imageShape[2];
  const n = data.train.count;
  return {
    ...data,
    train: {
      images: data.train.images.slice(0, keep * px),
      labels: data.train.labels.slice(0, keep),
      count: keep,
    },
    test: {
      images: data.train.images.slice(keep * px, n * px),
      labels: data.train.labels.slice(keep, n),
      count: n - keep,
    },
  };
}

function arg(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
}

export async function main(argv: string[]): Promise<void> {
  const split = arg(argv, 'split', 'val');
  const seeds = arg(argv, 'seeds', '1,2,3').split(',').map(Number);
  const configs = JSON.parse(arg(argv, 'configs', '[{}]')) as Partial<RunSettings>[];
  const common = JSON.parse(arg(argv, 'common', '{}')) as Partial<RunSettings>;
  const backend = await selectBackend('wasm');
  console.log(`backend ${backend.engine}: ${backend.reason}`);
  const full = embeddedMnistFromDigits(readMnistDigits());
  const data = split === 'val' ? validationSplit(full, 7000) : full;
  console.log(`split ${split}: train ${data.train.count}, evaluation ${data.test.count}`);
  const rows: { seed: number; config: string; teacher: number; baseline: number; distilled: number }[] = [];
  for (const seed of seeds) {
    let teacher: { model: LayersModel; name: string } | undefined;
    let teacherErrors = Number.NaN;
    for (const cfg of configs) {
      const settings: RunSettings = {
        ...BASE,
        ...common,
        ...cfg,
        trainSize: data.train.count,
        testSize: data.test.count,
        seed,
      };
      const results: Partial<Record<string, RunResult>> = {};
      const hooks: SessionHooks = {
        onRunStart: () => {},
        onBatch: () => {},
        onEpoch: () => {},
        onRunEnd: (run, result) => {
          results[run] = result;
        },
        onMessage: () => {},
      };
      const t0 = Date.now();
      const models = await runSession(settings, data, hooks, new TrainingController(), teacher);
      if (!teacher) {
        teacher = { model: models.teacher as LayersModel, name: settings.teacherModel };
        teacherErrors = Math.round((1 - results.teacher!.accuracy) * results.teacher!.testCount);
      }
      const errors = (r: RunResult | undefined) => Math.round((1 - r!.accuracy) * r!.testCount);
      const row = {
        seed,
        config: JSON.stringify(cfg),
        teacher: teacherErrors,
        baseline: errors(results.baseline),
        distilled: errors(results.distilled),
        seconds: [results.teacher?.seconds, results.baseline?.seconds, results.distilled?.seconds].map((x) =>
          x === undefined ? null : Number(x.toFixed(1)),
        ),
      };
      rows.push(row);
      models.baseline?.dispose();
      models.distilled?.dispose();
      console.log(`${JSON.stringify(row)} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    }
    teacher?.model.dispose();
  }
  console.log('\nmean errors over seeds (baseline -> distilled, wins):');
  for (const cfg of configs) {
    const c = JSON.stringify(cfg);
    const r = rows.filter((x) => x.config === c);
    const mean = (k: 'baseline' | 'distilled' | 'teacher') => r.reduce((s, x) => s + x[k], 0) / r.length;
    const wins = r.filter((x) => x.distilled < x.baseline).length;
    console.log(
      `${c}: teacher ${mean('teacher').toFixed(1)}, baseline ${mean('baseline').toFixed(1)}, distilled ${mean('distilled').toFixed(1)}, distilled better in ${wins}/${r.length}`,
    );
  }
}
