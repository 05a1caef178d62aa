#!/usr/bin/env node
// Per-kernel profile of one training step (batch 128, softmax cross entropy, training mode) as `distill bench`
// (runBench in apps/runner/src/bench.ts) runs it, on wasm with the distilljs kernels, except for the optimizer:
// Adam 1e-3 here is tf.train.adam, where the bench steps with @distilljs/trainer's Adam (one fused kernel per
// variable on wasm).
// Needs built packages (`npx turbo run build --filter=@distilljs/backends...`).
//
// Usage: node scripts/profile-step.mjs [models] [--steps N] [--threads N|auto] [--top N] [--stock]
//   models   comma-separated zoo names (default mnist-cnn,cifar-vgg-small)
//   --steps  profiled steps after 3 warm-up steps (default 5)
//   --stat   mean (default) or min over the steps, per kernel (min: the least disturbed step)
//   --clock  wall (default) or cpu: process CPU time (all threads) instead of wall time; use with
//            --threads 1 on a busy machine
//   --detail one row per kernel and input shapes
//   --dist   the build of this package to load (default ../dist, relative to this script)
//   --stock  profile without the distilljs kernels (CNNs cannot train then: no Conv2DBackpropFilter)
//
// Each kernel's time is tfjs's kernelTimeMs (wall time around the kernel on the CPU backends); kernels that
// call other backend kernels internally are counted once, under their own name. "outside kernels" is the
// step's wall time minus the sum: tape bookkeeping, Adam's JavaScript, tensor disposal.
import '@tensorflow/tfjs-backend-wasm';
import { createModel, listModels } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const models = (positional[0] ?? 'mnist-cnn,cifar-vgg-small').split(',');
const steps = Number(flag('--steps', '5'));
const top = Number(flag('--top', '12'));
const threadsFlag = flag('--threads', 'auto');
const threads = threadsFlag === 'auto' ? 'auto' : Number(threadsFlag);
const stock = args.includes('--stock');
const detail = args.includes('--detail');
const distDir = flag('--dist', '../dist');
const clock = flag('--clock', 'wall');
const stat = flag('--stat', 'mean');
const batch = 128;

const { selectBackend } = await import(new URL(`${distDir}/index.js`, import.meta.url).href);
const selection = await selectBackend('wasm', { threads, trainingKernels: !stock });
console.log(`# ${selection.engine}, ${clock} clock`);
if (clock === 'cpu') {
  // CPU time of the whole process (every thread) around each kernel: steadier than wall time on a busy
  // machine; with XNNPACK threads it adds up the threads' time.
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  tf.backend().time = async (f) => {
    const start = cpuMs();
    f();
    return { kernelMs: cpuMs() - start };
  };
}
const now =
  clock === 'cpu'
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();

function makeStep(name) {
  const info = listModels().find((m) => m.name === name);
  const shape = [...info.defaultInputShape];
  const model = createModel(name, { seed: 0 });
  const x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 0);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: batch }, (_, i) => (i * 7) % 10),
      'int32',
    ),
    10,
  );
  const optimizer = tf.train.adam(1e-3);
  const vars = model.trainableWeights.map((w) => w.read());
  return {
    run: () =>
      tf.tidy(() =>
        optimizer.minimize(
          () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true })),
          true,
          vars,
        ),
      ),
    dispose() {
      optimizer.dispose();
      tf.dispose([x, labels]);
      model.dispose();
    },
  };
}

for (const name of models) {
  const step = makeStep(name);
  for (let i = 0; i < 3; i++) {
    const c = step.run();
    await c.data();
    c.dispose();
  }
  // Per step: ms per kernel (summed over its calls) and calls; then the mean, or the minimum (the least
  // disturbed step on a busy machine), over the steps.
  const perStep = [];
  const walls = [];
  for (let i = 0; i < steps; i++) {
    const t0 = now();
    let cost;
    const profile = await tf.profile(() => {
      cost = step.run();
      return cost;
    });
    await cost.data();
    walls.push(now() - t0);
    cost.dispose();
    const row = new Map();
    for (const k of profile.kernels) {
      // Ops built with customGrad (`fusedConv2d__op`) wrap kernels that are listed on their own.
      if (k.name.endsWith('__op')) continue;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const key = detail ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}` : k.name;
      const entry = row.get(key) ?? { ms: 0, calls: 0 };
      entry.ms += ms;
      entry.calls += 1;
      row.set(key, entry);
    }
    perStep.push(row);
  }
  const reduce = (values) =>
    stat === 'min' ? Math.min(...values) : values.reduce((a, b) => a + b, 0) / values.length;
  const perKernel = new Map();
  for (const key of new Set(perStep.flatMap((row) => [...row.keys()]))) {
    const ms = reduce(perStep.map((row) => row.get(key)?.ms ?? 0));
    perKernel.set(key, { ms, calls: perStep[0].get(key)?.calls ?? 0 });
  }
  const wall = reduce(walls);
  step.dispose();
  const rows = [...perKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`\n## ${name}: ${wall.toFixed(1)} ms per step (${stat} of ${steps}, profiled, ${clock} clock)`);
  console.log(
    `${'kernel'.padEnd(detail ? 60 : 26)} ${'ms/step'.padStart(9)} ${'share'.padStart(6)} ${'calls'.padStart(6)}`,
  );
  for (const [k, e] of rows.slice(0, top)) {
    console.log(
      `${k.padEnd(detail ? 60 : 26)} ${e.ms.toFixed(1).padStart(9)} ${`${((100 * e.ms) / wall).toFixed(0)}%`.padStart(6)} ${String(e.calls).padStart(6)}`,
    );
  }
  const rest = rows.slice(top).reduce((s, [, e]) => s + e.ms, 0);
  console.log(
    `${`(${Math.max(0, rows.length - top)} other kernels)`.padEnd(detail ? 60 : 26)} ${rest.toFixed(1).padStart(9)}`,
  );
  console.log(`${'(outside kernels)'.padEnd(detail ? 60 : 26)} ${(wall - inKernels).toFixed(1).padStart(9)}`);
}
