// Speed of the logit-distillation losses (packages/losses/README.md, "Speed").
// 1. Each loss's forward and backward (tf.grad with respect to the student logits, as the trainer's
//    step takes it) on random [128, 10] and [128, 100] logits, against plain KD.
// 2. The hinton-student distill step of `distill bench --tasks distill` (one Adam step, teacher logits
//    cached) with each loss, against the same step with KD.
// Rounds alternate the methods' order; each figure is the median over rounds of the per-round mean.
//   node bench/logit-losses.mjs [--backend wasm|cpu] [--rounds 5] [--iters 20] [--steps 8] [--methods a,b]
//   --methods  the methods to time besides KD (default all), e.g. --methods mlkd,ttm
import { selectBackend } from '@distilljs/backends';
import { getLoss, gradientReversal } from '@distilljs/losses';
import { createModel } from '@distilljs/models';
import { createOptimizer } from '@distilljs/trainer';
import * as tf from '@tensorflow/tfjs-core';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const backend = arg('backend', 'wasm');
const rounds = Number(arg('rounds', 5));
const iters = Number(arg('iters', 20));
const steps = Number(arg('steps', 8));
const selection = await selectBackend(backend, { relaxedSimd: 'enable' });

/** name -> (input) => loss input overrides; CTKD adds a learnable temperature behind its reversal. */
const METHODS = {
  kd: { loss: 'kd', T: 4, alpha: 0.9 },
  'kd+ls': { loss: 'kd', T: 2, alpha: 0.989, extra: { logitStandardization: true } },
  dkd: { loss: 'dkd', T: 4, alpha: 0.5 },
  dist: { loss: 'dist', T: 4, alpha: 0.5, extra: { distBeta: 2, distGamma: 2 } },
  ttm: { loss: 'ttm', T: 10, alpha: 0.978 },
  wttm: { loss: 'wttm', T: 10, alpha: 0.9 },
  nkd: { loss: 'nkd', T: 1, alpha: 0.5 },
  mlkd: { loss: 'mlkd', T: 4, alpha: 0.9 },
  'kd+ctkd': { loss: 'kd', T: 4, alpha: 0.9, ctkd: true },
};

const rawT = tf.variable(tf.scalar(1));
function lossOf(name, s, t, labels) {
  const m = METHODS[name];
  const descriptor = getLoss(m.loss);
  const temperatureTensor = m.ctkd
    ? tf.add(tf.mul(tf.sigmoid(gradientReversal(rawT, 0.5)), 20), 1)
    : undefined;
  const parts = descriptor.compute({
    studentLogits: s,
    teacherLogits: t,
    labels,
    temperature: m.T,
    alpha: m.alpha,
    ...(m.extra ?? {}),
    ...(temperatureTensor ? { temperatureTensor } : {}),
  });
  tf.dispose([parts.soft, parts.hard]);
  return parts.loss;
}

function labelsOf(batch, classes, seed) {
  const y = new Int32Array(batch);
  for (let i = 0; i < batch; i++) y[i] = (i * 7 + seed) % classes;
  return y;
}

/** Median over rounds of the mean ms of `fn` per method, methods in alternating order. */
async function timeRounds(names, fn) {
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const name of order) samples[name].push(await fn(name));
  }
  const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  return Object.fromEntries(names.map((n) => [n, median(samples[n])]));
}

const only = arg('methods', undefined)?.split(',');
for (const name of only ?? []) {
  if (!(name in METHODS))
    throw new Error(`--methods: no method '${name}'; choose from ${Object.keys(METHODS).join(', ')}`);
}
const names = Object.keys(METHODS).filter((n) => n === 'kd' || !only || only.includes(n));
const lines = [];
lines.push(`backend: ${selection.engine}; ${rounds} alternating rounds, medians`);

for (const classes of [10, 100]) {
  const s = tf.randomNormal([128, classes], 0, 3, 'float32', 1);
  const t = tf.randomNormal([128, classes], 0, 3, 'float32', 2);
  const labels = labelsOf(128, classes, 3);
  const grad = tf.grad((x) => lossOf(currentName, x, t, labels));
  let currentName = 'kd';
  const ms = await timeRounds(names, async (name) => {
    currentName = name;
    for (let i = 0; i < 3; i++) tf.dispose(grad(s)); // warm-up
    const start = performance.now();
    for (let i = 0; i < iters; i++) {
      const g = grad(s);
      await g.data();
      g.dispose();
    }
    return (performance.now() - start) / iters;
  });
  lines.push(`loss forward+backward, [128, ${classes}] logits: ms per call (x KD)`);
  for (const n of names)
    lines.push(`  ${n.padEnd(8)} ${ms[n].toFixed(3).padStart(8)}  x${(ms[n] / ms.kd).toFixed(2)}`);
  tf.dispose([s, t]);
}

// The hinton-student distill step (bench's `distill` task): Adam on the student, teacher logits cached.
const student = createModel('hinton-student', { seed: 0 });
const teacher = createModel('hinton-teacher', { seed: 1 });
const x = tf.randomNormal([128, 28, 28, 1], 0, 1, 'float32', 0);
const cached = tf.tidy(() => teacher.apply(x, { training: false }));
const labels = labelsOf(128, 10, 0);
const vars = student.trainableWeights.map((w) => w.read());
const optimizer = createOptimizer({ name: 'adam', lr: 1e-3 });
const step = (name) =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(
      () => lossOf(name, student.apply(x, { training: true }), cached, labels),
      [...vars, ...(METHODS[name].ctkd ? [rawT] : [])],
    );
    optimizer.applyGradients(
      vars,
      vars.map((v) => grads[v.name]),
      1e-3,
    );
    return value;
  });
const stepMs = await timeRounds(names, async (name) => {
  for (let i = 0; i < 2; i++) tf.dispose(step(name));
  const start = performance.now();
  for (let i = 0; i < steps; i++) {
    const v = step(name);
    await v.data();
    v.dispose();
  }
  return (performance.now() - start) / steps;
});
lines.push('hinton-student distill step (batch 128, teacher logits cached): ms per step (x KD)');
for (const n of names)
  lines.push(`  ${n.padEnd(8)} ${stepMs[n].toFixed(1).padStart(8)}  x${(stepMs[n] / stepMs.kd).toFixed(3)}`);
console.log(lines.join('\n'));
