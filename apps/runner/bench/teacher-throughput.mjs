// Benchmark (not a test): teacher logits per second for the zoo's hinton-teacher (784-1200-1200-10, seed 1)
// run by onnxruntime-node from an ONNX export of the same weights, against the same network on tfjs's
// wasm backend with distilljs's kernels (and on tfjs's pure-JS cpu backend, logits/s only); then the
// teacher-output cache fill for all 60,000 Fashion-MNIST training images (one evaluation pass of
// teacher.logits, batch 256, as the trainer's cache fill does) with ONNX Runtime and with wasm. Medians of ROUNDS rounds; the load average is printed with
// every figure, because the machine may be shared.
//
//   cd apps/runner && node bench/teacher-throughput.mjs [ROUNDS=5]
// Needs Debian's python3-torch (/usr/bin/python3) for the export, and dataset-fashion-mnist.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '@distilljs/backends';
import { createBatchStream, loadFashionMnist } from '@distilljs/datasets';
import { createModel, layersTeacher } from '@distilljs/models';
import { loadOnnxTeacher } from '@distilljs/models/node';
import * as tf from '@tensorflow/tfjs-core';

const rounds = Number(process.argv[2] ?? 5);
const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'teacher-bench-'));
const load = () =>
  loadavg()
    .map((v) => v.toFixed(1))
    .join(' / ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

await selectBackend('wasm');
const model = createModel('hinton-teacher', { seed: 1 });
const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
const weights = { kernels: [], biases: [] };
for (const l of dense) {
  const [k, b] = l.getWeights();
  weights.kernels.push({ shape: k.shape, values: Array.from(k.dataSync()) });
  weights.biases.push(Array.from(b.dataSync()));
}
writeFileSync(join(work, 'weights.json'), JSON.stringify(weights));
const onnxPath = join(work, 'hinton-teacher.onnx');
execFileSync('/usr/bin/python3', [join(here, 'export-mlp-onnx.py'), join(work, 'weights.json'), onnxPath]);

const ds = await loadFashionMnist({ source: 'dir', dir: '/usr/share/datasets/fashion-mnist' });
const batchSize = 256;
const firstBatch = () =>
  createBatchStream(ds, { split: 'test', batchSize: 1024 }).epoch(0)[Symbol.iterator]().next().value;
let first;

async function measure(name, teacher, fill = true) {
  // logits/s: 10 calls on the same 1,024-image batch (after one warm-up call)
  (await teacher.logits(first)).dispose();
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) (await teacher.logits(first)).dispose();
    rates.push((10 * 1024) / ((performance.now() - t0) / 1000));
  }
  // cache fill: one pass over the 60,000 training images
  const fills = [];
  for (let r = 0; fill && r < rounds; r++) {
    const out = new Float32Array(ds.train.count * 10);
    const t0 = performance.now();
    for (const batch of createBatchStream(ds, { split: 'train', batchSize, shuffle: false }).epoch(0)) {
      const y = await teacher.logits(batch);
      out.set(await y.data(), batch.indices[0] * 10);
      y.dispose();
      batch.xs.dispose();
    }
    fills.push((performance.now() - t0) / 1000);
  }
  const row = {
    teacher: name,
    backend: tf.getBackend(),
    logitsPerSecond: Math.round(median(rates)),
    cacheFillSeconds60k: fill ? Number(median(fills).toFixed(2)) : 'not measured',
    rounds,
    loadAverage1m5m15m: load(),
  };
  console.log(JSON.stringify(row));
  return row;
}

const diffs = [];
for (const backend of ['wasm', 'cpu']) {
  if (backend !== 'wasm') await selectBackend(backend);
  first = firstBatch();
  const layers = layersTeacher(createModel('hinton-teacher', { seed: 1 }));
  const onnx = await loadOnnxTeacher(onnxPath, { inputShape: [28, 28, 1], numClasses: 10 });
  const a = await layers.logits(first);
  const b = await onnx.logits(first);
  diffs.push(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
  tf.dispose([a, b]);
  if (backend === 'wasm') await measure('hinton-teacher as ONNX (onnxruntime-node, CPU)', onnx);
  // the pure-JS cpu backend (~1 GFLOP/s) would take minutes per 60,000-image pass: logits/s only
  await measure(`hinton-teacher as a tfjs Layers model (${backend})`, layers, backend === 'wasm');
}
console.log(
  JSON.stringify({
    maxAbsDiffOnnxVsTfjs: diffs,
    node: process.version,
    cpus: (await import('node:os')).cpus().length,
  }),
);
