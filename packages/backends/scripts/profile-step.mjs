#!/usr/bin/env node
// Per-kernel profile of one training step (batch 128, training mode) as `distill bench` (runBench in
// apps/runner/src/bench.ts) runs it, on wasm with the distilljs kernels: `--task train` (default) is one Adam
// step of cross entropy, `--task distill` the bench's `distill` row (hinton-student, or the models given, on
// 0.5 CE + 0.5 T^2 KL at T = 4 against hinton-teacher logits computed once beforehand; PyTorch's
// `distill-cached`). `--adam trainer` (default) steps with @distilljs/trainer's Adam as the bench does (one
// fused kernel per variable on wasm); `--adam tfjs` with tf.train.adam's dozen ops per variable.
// Needs built packages (`npx -y pnpm@9.15.9 build`): the trainer and losses are loaded from their dist/
// folders in this repository (they are not dependencies of this package).
//
// Usage: node [--experimental-wasm-relaxed-simd] scripts/profile-step.mjs [models] [--steps N]
//          [--threads N|auto] [--top N] [--stock] [--task train|distill] [--adam trainer|tfjs] [--by-layer]
//   models   comma-separated zoo names (default mnist-cnn,cifar-vgg-small; hinton-student for --task distill)
//   --steps  profiled steps after 3 warm-up steps (default 5)
//   --stat   mean (default) or min over the steps, per kernel (min: the least disturbed step)
//   --clock  wall (default) or cpu: process CPU time (all threads) instead of wall time; use with
//            --threads 1 on a busy machine
//   --detail one row per kernel and input shapes
//   --dist   the build of this package to load (default ../dist, relative to this script)
//   --stock  profile without the distilljs kernels (CNNs cannot train then: no Conv2DBackpropFilter)
//   --relaxed-simd enable|auto|off  selectBackend's relaxedSimd (default enable, as the distill runner)
//   --by-layer  also one row per layer of a dense model (MLPs): each kernel is put under the layer whose
//            weight shape [in, out] its input shapes show (matrix products, Adam on the kernel, the bias
//            gradient's Sum, ReLU and its gradient on [batch, out]); kernels of two layers of the same
//            width (hinton's hidden1 and hidden2 outputs) are listed under both names joined by '/'
//
// Each kernel's time is tfjs's kernelTimeMs (wall time around the kernel on the CPU backends); kernels that
// call other backend kernels internally are counted once, under their own name; customGrad ops (which tfjs
// profiles as if they were kernels, under their scope's name) are not counted, their kernels are. "outside kernels" is the
// step's wall time minus the sum: tape bookkeeping, Adam's JavaScript, tensor disposal.
import '@tensorflow/tfjs-backend-wasm';
import { createModel, listModels } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { clockNow, cpuMs } from './clock.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const booleanFlags = new Set(['--stock', '--detail', '--by-layer']);
const positional = args.filter(
  (a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--') && !booleanFlags.has(args[i - 1])),
);
const task = flag('--task', 'train');
if (task !== 'train' && task !== 'distill')
  throw new Error(`--task: expected train or distill, got '${task}'`);
const adam = flag('--adam', 'trainer');
const byLayer = args.includes('--by-layer');
const models = (positional[0] ?? (task === 'distill' ? 'hinton-student' : 'mnist-cnn,cifar-vgg-small')).split(
  ',',
);
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
const relaxedSimd = flag('--relaxed-simd', 'enable');
const selection = await selectBackend('wasm', { threads, trainingKernels: !stock, relaxedSimd });
const repo = (path) => new URL(`../../${path}`, import.meta.url).href;
const { createOptimizer } = await import(repo('trainer/dist/index.js'));
const { crossEntropy, distillationLoss } = await import(repo('losses/dist/index.js'));
console.log(`# ${selection.engine}, ${clock} clock, task ${task}, adam ${adam}`);
if (clock === 'cpu') {
  // CPU time of the whole process (every thread) around each kernel: steadier than wall time on a busy
  // machine; with XNNPACK threads it adds up the threads' time.
  tf.backend().time = async (f) => {
    const start = cpuMs();
    f();
    return { kernelMs: cpuMs() - start };
  };
}
const now = clockNow(clock);

function makeStep(name) {
  const info = listModels().find((m) => m.name === name);
  const shape = [...info.defaultInputShape];
  const model = createModel(name, { seed: 0 });
  const x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 0);
  const labels = new Int32Array(Array.from({ length: batch }, (_, i) => (i * 7) % 10));
  // As the bench: the teacher's logits once, before the steps (a teacher-output cache).
  const teacher = task === 'distill' ? createModel('hinton-teacher', { seed: 1 }) : undefined;
  const cached = teacher ? tf.tidy(() => teacher.apply(x, { training: false })) : undefined;
  const loss = () => {
    const logits = model.apply(x, { training: true });
    return cached === undefined
      ? crossEntropy(logits, labels)
      : distillationLoss(logits, cached, labels, { temperature: 4, alpha: 0.5 });
  };
  const optimizer = adam === 'tfjs' ? tf.train.adam(1e-3) : createOptimizer({ name: 'adam', lr: 1e-3 });
  const vars = model.trainableWeights.map((w) => w.read());
  const trainerStep = () => {
    const { value, grads } = tf.variableGrads(loss, vars);
    optimizer.applyGradients(
      vars,
      vars.map((v) => grads[v.name]),
      1e-3,
    );
    return value;
  };
  return {
    model,
    run: () => tf.tidy(() => (adam === 'tfjs' ? optimizer.minimize(loss, true, vars) : trainerStep())),
    dispose() {
      optimizer.dispose();
      tf.dispose([x, ...(cached ? [cached] : [])]);
      model.dispose();
      teacher?.dispose();
    },
  };
}

/** The dense layers of a model: name, [in, out]. */
function denseLayers(model) {
  return model.layers
    .filter((l) => l.getClassName() === 'Dense')
    .map((l) => ({ name: l.name, inOut: l.getWeights()[0].shape }));
}

/** The layer (or layers, joined by '/') a kernel belongs to, from its input shapes; see --by-layer. */
function layerOf(layers, kernel, shapes) {
  const squeeze = (s) => {
    const t = [...s];
    while (t.length > 1 && t[0] === 1) t.shift();
    return t;
  };
  const ss = shapes.filter((s) => Array.isArray(s)).map(squeeze);
  const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
  for (const l of layers) if (ss.some((s) => same(s, l.inOut))) return l.name;
  const ranks2 = ss.filter((s) => s.length === 2);
  for (const l of layers) {
    if (
      kernel.includes('MatMul') &&
      ranks2.length === 2 &&
      ranks2[0][0] === batch &&
      ranks2[1][0] === batch
    ) {
      const lasts = [ranks2[0][1], ranks2[1][1]].sort((a, b) => a - b);
      // [batch, in] and [batch, out]: the weight gradient X^T dY (unique when no other layer is in -> out).
      const pair = (m) => [...m.inOut].sort((a, b) => a - b);
      if (same(lasts, pair(l)) && layers.filter((m) => same(pair(m), lasts)).length === 1) return l.name;
    }
  }
  if (
    ss.length > 0 &&
    ss.every((s) => (s.length === 1 || (s.length === 2 && s[0] === batch)) && s.at(-1) !== 10)
  ) {
    const width = ss[0].at(-1);
    const named = layers.filter((l) => l.inOut[1] === width).map((l) => l.name);
    if (named.length > 0) return named.join('/');
  }
  return '(loss, input, other)';
}

/** True when `name` is a kernel registered for the active backend (not a customGrad op's scope name). */
const isKernel = (name) => tf.getKernel(name, tf.getBackend()) !== undefined;

for (const name of models) {
  const step = makeStep(name);
  const layers = byLayer ? denseLayers(step.model) : [];
  const perLayerStep = [];
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
    const layerRow = new Map();
    for (const k of profile.kernels) {
      // Ops built with customGrad (`fusedConv2d__op`, the batch-norm layers' op, profiled under the name of
      // the scope around it: `unnamed scope` for a tidy) are not kernels: their time is that of the kernels
      // they run, which are listed on their own. Counting it too would count those kernels twice (and
      // make "outside kernels" that much too small).
      if (!isKernel(k.name)) continue;
      const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
      const key = detail ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}` : k.name;
      const entry = row.get(key) ?? { ms: 0, calls: 0 };
      entry.ms += ms;
      entry.calls += 1;
      row.set(key, entry);
      if (byLayer) {
        const layer = layerOf(layers, k.name, k.inputShapes);
        const e = layerRow.get(layer) ?? { ms: 0, calls: 0 };
        e.ms += ms;
        e.calls += 1;
        layerRow.set(layer, e);
      }
    }
    perStep.push(row);
    perLayerStep.push(layerRow);
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
  if (byLayer) {
    console.log(
      `\n${'layer (kernels by input shapes)'.padEnd(34)} ${'ms/step'.padStart(9)} ${'share'.padStart(6)} ${'calls'.padStart(6)}`,
    );
    const keys = new Set(perLayerStep.flatMap((r) => [...r.keys()]));
    const rowsL = [...keys].map((key) => ({
      key,
      ms: reduce(perLayerStep.map((r) => r.get(key)?.ms ?? 0)),
      calls: perLayerStep[0].get(key)?.calls ?? 0,
    }));
    for (const r of rowsL.sort((a, b) => b.ms - a.ms)) {
      console.log(
        `${r.key.padEnd(34)} ${r.ms.toFixed(1).padStart(9)} ${`${((100 * r.ms) / wall).toFixed(0)}%`.padStart(6)} ${String(r.calls).padStart(6)}`,
      );
    }
  }
}
