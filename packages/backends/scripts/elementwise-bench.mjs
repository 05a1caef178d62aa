#!/usr/bin/env node
// Times the element-wise, pooling and reduction kernels of the mnist-cnn and cifar-vgg-small training
// steps (batch 128) one at a time on wasm with the distilljs kernels, at the exact shapes of those steps:
// Relu, its gradient, 2x2 max pooling and its gradient, Sum over the leading axes (bias gradients), and
// the batch-norm kernels (FusedBatchNorm, DistilljsBatchNormRelu, DistilljsBatchNormTrainingGrad plain and
// with `relu`, i.e. the ReLU's mask inside it).
// Needs the built package (`npx -y pnpm@9.15.9 build`).
//
// Usage: node [--experimental-wasm-relaxed-simd] scripts/elementwise-bench.mjs [--threads N|auto]
//          [--clock wall|cpu] [--reps N] [--dist DIR]
//   --threads  the backend's threads (1: no SIMD helper thread; default auto)
//   --clock    wall (default) or cpu (process CPU time, all threads: use with --threads 1 on a busy machine)
//   --reps     timed calls per kernel and shape after 3 warm-up calls (default 30); min and median reported
//   --dist     the build of this package to load (default ../dist, relative to this script), for A/B runs
//   --only A,B only the kernels whose row name contains one of these strings
//   --rotate N each call reads the next of N copies of its inputs (default 1): with N copies larger than
//              the caches, the inputs come from memory as in a training step, not from the cache
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { clockNow } from './clock.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const threadsFlag = flag('--threads', 'auto');
const reps = Number(flag('--reps', '30'));
const clock = flag('--clock', 'wall');
const rotate = Number(flag('--rotate', '1'));
const only = flag('--only', '')
  .split(',')
  .filter((s) => s.length > 0);
const { selectBackend } = await import(
  new URL(`${flag('--dist', '../dist')}/index.js`, import.meta.url).href
);
const selection = await selectBackend('wasm', {
  threads: threadsFlag === 'auto' ? 'auto' : Number(threadsFlag),
  relaxedSimd: 'enable',
});
const now = clockNow(clock);
console.log(
  `# ${selection.engine}, ${clock} clock, ${reps} reps, ${rotate} input copies; ms per call: min, median`,
);

/** [N, H, W, C] activations of the two steps' ReLU and pooling layers. */
const shapes = [
  [128, 28, 28, 32],
  [128, 14, 14, 64],
  [128, 32, 32, 32],
  [128, 16, 16, 64],
  [128, 8, 8, 128],
];

function time(fn) {
  for (let i = 0; i < 3; i++) tf.dispose(fn(i % rotate));
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    const out = fn(i % rotate);
    ms.push(now() - t0);
    tf.dispose(out);
  }
  ms.sort((a, b) => a - b);
  return [ms[0], ms[Math.floor(ms.length / 2)]];
}

const rows = [];
for (const shape of shapes) {
  const copies = (make) => Array.from({ length: rotate }, (_, i) => make(i));
  const xs = copies((i) => tf.randomNormal(shape, 0, 1, 'float32', 1 + 3 * i));
  const dys = copies((i) => tf.randomNormal(shape, 0, 1, 'float32', 2 + 3 * i));
  const pooled = xs.map((x) => tf.maxPool(x, 2, 2, 'valid'));
  const dyPooled = copies((i) => tf.randomNormal(pooled[0].shape, 0, 1, 'float32', 3 + 3 * i));
  const c = shape[3];
  const [mean, variance] = tf.tidy(() => {
    const m = tf.moments(xs[0], [0, 1, 2]);
    return [m.mean, m.variance];
  });
  const scale = tf.randomNormal([c], 1, 0.2, 'float32', 4);
  const offset = tf.randomNormal([c], 0, 0.2, 'float32', 5);
  const bnInputs = (i) => ({ x: xs[i], mean, variance, offset, scale });
  const bnGrad = (i, relu) =>
    tf
      .engine()
      .runKernel(
        'DistilljsBatchNormTrainingGrad',
        { x: xs[i], mean, variance, scale, offset, dy: dys[i] },
        { varianceEpsilon: 1e-5, relu },
      );
  const kernels = {
    Relu: (i) => tf.relu(xs[i]),
    _DistilljsReluGrad: (i) => tf.engine().runKernel('_DistilljsReluGrad', { dy: dys[i], x: xs[i] }),
    MaxPool: (i) => tf.maxPool(xs[i], 2, 2, 'valid'),
    MaxPoolGrad: (i) =>
      tf
        .engine()
        .runKernel(
          'MaxPoolGrad',
          { dy: dyPooled[i], input: xs[i], output: pooled[i] },
          { filterSize: 2, strides: 2, pad: 'valid' },
        ),
    Sum: (i) => tf.sum(dys[i], [0, 1, 2]),
    FusedBatchNorm: (i) => tf.engine().runKernel('FusedBatchNorm', bnInputs(i), { varianceEpsilon: 1e-5 }),
    DistilljsBatchNormRelu: (i) =>
      tf.engine().runKernel('DistilljsBatchNormRelu', bnInputs(i), { varianceEpsilon: 1e-5 }),
    DistilljsBatchNormTrainingGrad: (i) => bnGrad(i, false),
    'DistilljsBatchNormTrainingGrad relu': (i) => bnGrad(i, true),
  };
  for (const [name, fn] of Object.entries(kernels)) {
    if (tf.getKernel(name.split(' ')[0], 'wasm') === undefined) continue;
    if (only.length > 0 && !only.some((o) => name.includes(o))) continue;
    const [min, median] = time(fn);
    rows.push(
      `${`${name} [${shape}]`.padEnd(52)} ${min.toFixed(2).padStart(7)} ${median.toFixed(2).padStart(7)}`,
    );
  }
  tf.dispose([...xs, ...dys, ...pooled, ...dyPooled, mean, variance, scale, offset]);
}
console.log(rows.join('\n'));
