#!/usr/bin/env node
// Times the wasm Conv2DBackpropFilter kernel (the filter gradient) on cifar-vgg-small's layer shapes, batch
// 128, 3x3 'same': the median of 9 calls after 2 warm-up calls, wall clock and process CPU time.
// Needs the built package (`npx tsup`). Compare plain and relaxed SIMD on Node 20:
//   node scripts/filter-grad-bench.mjs 2
//   node --experimental-wasm-relaxed-simd scripts/filter-grad-bench.mjs 2
// Usage: node scripts/filter-grad-bench.mjs [threads (default 1)]
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';

const { selectBackend } = await import(new URL('../dist/index.js', import.meta.url).href);
const threads = Number(process.argv[2] ?? 1);
const selection = await selectBackend('wasm', { threads });
console.log(`# ${selection.engine}`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
for (const [n, h, w, ci, co] of [
  [128, 32, 32, 32, 32],
  [128, 16, 16, 64, 64],
  [128, 8, 8, 64, 128],
  [128, 32, 32, 3, 32],
]) {
  const x = tf.randomNormal([n, h, w, ci]);
  const dy = tf.randomNormal([n, h, w, co]);
  const run = () =>
    tf.engine().runKernel(
      'Conv2DBackpropFilter',
      { x, dy },
      {
        strides: [1, 1],
        pad: 'same',
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape: [3, 3, ci, co],
      },
    );
  for (let i = 0; i < 2; i++) run().dispose();
  const cpu = [];
  const wall = [];
  for (let i = 0; i < 9; i++) {
    const c0 = cpuMs();
    const w0 = performance.now();
    const y = run();
    y.dataSync();
    wall.push(performance.now() - w0);
    cpu.push(cpuMs() - c0);
    y.dispose();
  }
  const gflop = (2 * n * h * w * ci * co * 9) / 1e9;
  console.log(
    `${[n, h, w, ci].join('x')} -> ${co}: wall ${median(wall).toFixed(1)} ms (${((gflop / median(wall)) * 1000).toFixed(1)} GFLOP/s), cpu ${median(cpu).toFixed(1)} ms`,
  );
  tf.dispose([x, dy]);
}
