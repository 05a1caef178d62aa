#!/usr/bin/env node
// Times the element-wise, pooling and reduction kernels of the mnist-cnn and cifar-vgg-small training
// steps (batch 128) one at a time on wasm with the distilljs kernels, at the exact shapes of those steps:
// Relu, its gradient, 2x2 max pooling and its gradient, Sum over the leading axes (bias gradients).
// Needs the built package (`npx -y pnpm@9.15.9 build`).
//
// Usage: node [--experimental-wasm-relaxed-simd] scripts/elementwise-bench.mjs [--threads N|auto]
//          [--clock wall|cpu] [--reps N] [--dist DIR]
//   --threads  the backend's threads (1: no SIMD helper thread; default auto)
//   --clock    wall (default) or cpu (process CPU time, all threads: use with --threads 1 on a busy machine)
//   --reps     timed calls per kernel and shape after 3 warm-up calls (default 30); min and median reported
//   --dist     the build of this package to load (default ../dist, relative to this script), for A/B runs
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
const { selectBackend } = await import(
  new URL(`${flag('--dist', '../dist')}/index.js`, import.meta.url).href
);
const selection = await selectBackend('wasm', {
  threads: threadsFlag === 'auto' ? 'auto' : Number(threadsFlag),
  relaxedSimd: 'enable',
});
const now = clockNow(clock);
console.log(`# ${selection.engine}, ${clock} clock, ${reps} reps; ms per call: min, median`);

/** [N, H, W, C] activations of the two steps' ReLU and pooling layers. */
const shapes = [
  [128, 28, 28, 32],
  [128, 14, 14, 64],
  [128, 32, 32, 32],
  [128, 16, 16, 64],
  [128, 8, 8, 128],
];

function time(fn) {
  for (let i = 0; i < 3; i++) tf.dispose(fn());
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    const out = fn();
    ms.push(now() - t0);
    tf.dispose(out);
  }
  ms.sort((a, b) => a - b);
  return [ms[0], ms[Math.floor(ms.length / 2)]];
}

const rows = [];
for (const shape of shapes) {
  const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
  const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
  const pooled = tf.maxPool(x, 2, 2, 'valid');
  const dyPooled = tf.randomNormal(pooled.shape, 0, 1, 'float32', 3);
  const kernels = {
    Relu: () => tf.relu(x),
    _DistilljsReluGrad: () => tf.engine().runKernel('_DistilljsReluGrad', { dy, x }),
    MaxPool: () => tf.maxPool(x, 2, 2, 'valid'),
    MaxPoolGrad: () =>
      tf
        .engine()
        .runKernel(
          'MaxPoolGrad',
          { dy: dyPooled, input: x, output: pooled },
          { filterSize: 2, strides: 2, pad: 'valid' },
        ),
    Sum: () => tf.sum(dy, [0, 1, 2]),
  };
  for (const [name, fn] of Object.entries(kernels)) {
    if (tf.getKernel(name, 'wasm') === undefined) continue;
    const [min, median] = time(fn);
    rows.push(
      `${`${name} [${shape}]`.padEnd(36)} ${min.toFixed(2).padStart(7)} ${median.toFixed(2).padStart(7)}`,
    );
  }
  tf.dispose([x, dy, pooled, dyPooled]);
}
console.log(rows.join('\n'));
