// Benchmark: does a distillation epoch from the teacher-output cache cost about the same as a plain
// student epoch? Runs against the built package (`npx tsup` in packages/trainer and its dependencies).
//
//   node bench/cache-overhead.mjs [--backend wasm|cpu] [--examples 2048] [--epochs 3] [--rounds 3] [--student 800,800] [--modes fit,cache,live,cacheCe] [--stock]
//
// On wasm the training kernels of @distilljs/backends are registered (as the runner does) unless --stock.
// Prints, per mode, the median process CPU time (user + system; less sensitive than wall time to other
// processes sharing the machine, as tfjs runs single-threaded in Node) of the epochs after the first of
// each run (which warms up), and the median CPU time of one training step of those epochs (robust to
// bursts of load on a shared machine):
//   fit            the student trained on labels alone
//   distill cache  the same student distilled from cached teacher logits (the teacher pass is reported apart)
//   distill live   the same, with the teacher run on every batch (what augmentation forces)
//   cacheCe        (optional) from the cache but with loss 'cross-entropy': the cache's own cost
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { parseArgs } from 'node:util';
import { registerWasmTrainingKernels } from '@distilljs/backends';
import { Rng } from '@distilljs/core';
import { distill, fit } from '@distilljs/trainer';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    examples: { type: 'string', default: '2048' },
    epochs: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '128' },
    student: { type: 'string', default: '800,800' },
    stock: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'fit,cache,live' },
  },
});
await tf.setBackend(values.backend);
const kernels = values.backend === 'wasm' && !values.stock;
if (kernels) registerWasmTrainingKernels();
const n = Number(values.examples);
const epochs = Number(values.epochs);
const rounds = Number(values.rounds);
const batchSize = Number(values.batch);
const dim = 784;
const classes = 10;

// MNIST-sized random data with a learnable signal.
const rng = new Rng(1);
const x = new Float32Array(n * dim);
const y = new Int32Array(n);
for (let i = 0; i < n; i++) {
  y[i] = i % classes;
  for (let j = 0; j < dim; j++) x[i * dim + j] = rng.next() + (j % classes === y[i] ? 0.5 : 0);
}
const stream = {
  size: n,
  batchSize,
  inputShape: [dim],
  numClasses: classes,
  augmented: false,
  fingerprint: `bench:${n}`,
  batchesPerEpoch: Math.ceil(n / batchSize),
  *epoch(e) {
    const order = new Rng(100 + e).permutation(n);
    for (let s = 0; s < n; s += batchSize) {
      const idx = order.slice(s, Math.min(n, s + batchSize));
      const xs = new Float32Array(idx.length * dim);
      const labels = new Int32Array(idx.length);
      idx.forEach((src, i) => {
        xs.set(x.subarray(src * dim, (src + 1) * dim), i * dim);
        labels[i] = y[src];
      });
      yield { xs: tf.tensor2d(xs, [idx.length, dim]), labels, indices: idx };
    }
  },
};

function mlp(hidden, seed) {
  const m = tfl.sequential();
  hidden.forEach((h, i) => {
    m.add(
      tfl.layers.dense({
        units: h,
        activation: 'relu',
        ...(i === 0 ? { inputShape: [dim] } : {}),
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + i }),
      }),
    );
  });
  m.add(
    tfl.layers.dense({
      units: classes,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 99 }),
    }),
  );
  return m;
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
/**
 * Callbacks recording process CPU seconds per epoch and per step (onBatchBegin to onBatchEnd: teacher
 * targets, forward, loss, gradients, update), skipping the first epoch of every run (warm-up).
 */
function cpuTimer() {
  const seconds = [];
  const steps = [];
  let epochStart;
  let stepStart;
  let warm = false;
  return {
    seconds,
    steps,
    callbacks: {
      onEpochBegin: (epoch) => {
        warm = epoch > 0;
        epochStart = process.cpuUsage();
      },
      onBatchBegin: () => {
        stepStart = process.cpuUsage();
      },
      onBatchEnd: () => {
        const d = process.cpuUsage(stepStart);
        if (warm) steps.push((d.user + d.system) / 1e6);
      },
      onEpochEnd: () => {
        const d = process.cpuUsage(epochStart);
        if (warm) seconds.push((d.user + d.system) / 1e6);
      },
    },
  };
}
const epochSeconds = (t) => median(t.seconds);
const stepMs = (t) => median(t.steps) * 1000;

const teacher = mlp([1200, 1200], 1); // the size of Hinton's MNIST teacher
const studentHidden = values.student.split(',').map(Number); // default: the size of his student
const common = { epochs, optimizer: { name: 'sgd', lr: 0.01, momentum: 0.9 }, seed: 1 };

// The modes take turns, `rounds` times, each round starting with the next mode, so neither a slow spell
// of the (shared) machine nor the position in a round favours one of them.
const fitT = cpuTimer();
const cacheT = cpuTimer();
const liveT = cpuTimer();
const cacheCeT = cpuTimer();
const notes = [];
const runs = {
  fit: () => fit(mlp(studentHidden, 2), stream, { ...common, callbacks: fitT.callbacks }),
  cache: () =>
    distill({
      teacher,
      student: mlp(studentHidden, 2),
      data: stream,
      ...common,
      callbacks: [cacheT.callbacks, { onMessage: (m) => notes.push(m) }],
    }),
  // Cached teacher outputs fetched and uploaded every step but a loss without a teacher term: the cost of
  // the cache alone, apart from the cost of the KD term.
  cacheCe: () =>
    distill({
      teacher,
      student: mlp(studentHidden, 2),
      data: stream,
      ...common,
      loss: 'cross-entropy',
      callbacks: cacheCeT.callbacks,
    }),
  live: () =>
    distill({
      teacher,
      student: mlp(studentHidden, 2),
      data: stream,
      ...common,
      teacherCache: { mode: 'off' },
      callbacks: liveT.callbacks,
    }),
};
const modes = values.modes.split(',');
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < modes.length; k++) await runs[modes[(round + k) % modes.length]]();
}

const fitS = epochSeconds(fitT);
const cacheS = epochSeconds(cacheT);
const liveS = epochSeconds(liveT);
const arch = `784-${studentHidden.join('-')}-10`;
console.log(
  `backend ${tf.getBackend()}${kernels ? ' + @distilljs/backends training kernels' : ''}, ${n} examples of ${dim}, batch ${batchSize}, teacher 784-1200-1200-10, student ${arch}, ${rounds} rounds of ${epochs} epochs per mode (median CPU s of epochs 2..${epochs})`,
);
const pct = (a, b) => `${a >= b ? '+' : ''}${((a / b - 1) * 100).toFixed(1)}%`;
const row = (label, t, s) =>
  `${label.padEnd(28)}epoch ${s.toFixed(3)} CPU s (${t.seconds.length} epochs: ${Math.min(...t.seconds).toFixed(3)}..${Math.max(...t.seconds).toFixed(3)})` +
  (t === fitT ? '' : ` ${pct(s, fitS)}`) +
  `; step ${stepMs(t).toFixed(2)} CPU ms (median of ${t.steps.length})` +
  (t === fitT ? '' : ` ${pct(stepMs(t), stepMs(fitT))}`);
console.log(row('fit (labels only)', fitT, fitS));
if (modes.includes('cache')) console.log(row('distill, teacher cache', cacheT, cacheS));
if (modes.includes('live')) console.log(row('distill, teacher per batch', liveT, liveS));
if (modes.includes('cacheCe'))
  console.log(row('distill from cache, CE only', cacheCeT, epochSeconds(cacheCeT)));
console.log(notes.find((m) => m.startsWith('teacher-output cache')) ?? '');
