#!/usr/bin/env node
// Times the matrix products of one training step of hinton-student (784-800-800-10) and hinton-teacher
// (784-1200-1200-10), batch 128, as the wasm backend with the distilljs kernels computes them: the forward
// product with bias and ReLU (`_FusedMatMul`, as tfjs-layers' Dense calls it), the input gradient
// dX = dY W^T (`BatchMatMul` with transposeB; not for the first layer, whose input needs none) and the
// weight gradient dW = X^T dY (`BatchMatMul` with transposeA). Each row: the median of --reps calls after 3
// warm-up calls, in ms and GFLOP/s (2 m k n flops), and as a fraction of the 128-bit-SIMD peak:
//   peak = cores x GHz x 4 float32 lanes x 2 flops per fused multiply-add x FMA ports
// (--ports 2; --ghz: the clock, by default measured here as the rate of a chain of dependent integer
// multiply-ors, 4 cycles each (imul 3 + or 1), timed on the process's CPU clock: about 3.7 GHz on this
// host's cores, which run above the 2.6 GHz nominal clock that lscpu's BogoMIPS shows). WebAssembly SIMD
// has a fused multiply-add only in relaxed SIMD (`f32x4.relaxed_madd`), which the distill runner enables;
// without it (plain SIMD) a product and a sum cost two instructions, so the plain-SIMD peak is half.
// Needs the built package (`npx tsup`).
// Usage: node scripts/gemm-bench.mjs [--threads 2] [--reps 15] [--relaxed-simd enable|off] [--ghz 2.6]
//   [--ports 2] [--models hinton-student,hinton-teacher] [--clock wall|cpu] [--dist ../dist] [--json]
// --clock cpu: the process's CPU time (all threads) per call instead of wall time; with --threads 1 it is
// the kernel's own time even on a busy machine (its fraction is then of one core's peak).
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { clockNow } from './clock.mjs';
import { measureGhz } from './measure-ghz.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const threads = Number(flag('--threads', '2'));
const reps = Number(flag('--reps', '15'));
const relaxedSimd = flag('--relaxed-simd', 'enable');
const ghzFlag = flag('--ghz', 'measure');
const ghz = ghzFlag === 'measure' ? measureGhz() : Number(ghzFlag);
const ports = Number(flag('--ports', '2'));
const json = args.includes('--json');
const clock = flag('--clock', 'wall');
const now = clockNow(clock);
const models = flag('--models', 'hinton-student,hinton-teacher').split(',');
const batch = 128;
const LAYERS = {
  'hinton-student': [784, 800, 800, 10],
  'hinton-teacher': [784, 1200, 1200, 10],
};

// --dist: another build of this package (relative to this script), for before/after comparisons.
const distDir = flag('--dist', '../dist');
const { selectBackend } = await import(new URL(`${distDir}/index.js`, import.meta.url).href);
const selection = await selectBackend('wasm', { threads, relaxedSimd });
const relaxed = selection.engine.includes('relaxed');
const peak = threads * ghz * 4 * 2 * ports;
const plainPeak = peak / 2;
const usedPeak = relaxed ? peak : plainPeak;
if (!json) {
  console.log(`# ${selection.engine}; batch ${batch}, median of ${reps} calls, ${clock} clock`);
  console.log(
    `# peak: ${threads} cores x ${ghz.toFixed(2)} GHz (${ghzFlag === 'measure' ? 'measured' : '--ghz'}) x 4 lanes x 2 flops (FMA) x ${ports} ports = ${peak.toFixed(1)} GFLOP/s with FMA (relaxed SIMD), ${plainPeak.toFixed(1)} without (plain SIMD); fractions below use ${usedPeak.toFixed(1)}`,
  );
  console.log('| model | layer | product | shape (m x k x n) | ms | GFLOP/s | of peak |');
  console.log('| --- | --- | --- | --- | ---: | ---: | ---: |');
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];

function time(run) {
  for (let i = 0; i < 3; i++) run().dispose();
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    const y = run();
    y.dataSync();
    ms.push(now() - t0);
    y.dispose();
  }
  return median(ms);
}

let total = { ms: 0, gflop: 0 };
for (const model of models) {
  const sizes = LAYERS[model];
  if (!sizes)
    throw new Error(`gemm-bench: unknown model '${model}'; valid: ${Object.keys(LAYERS).join(', ')}`);
  const modelTotal = { ms: 0, gflop: 0 };
  for (let l = 0; l + 1 < sizes.length; l++) {
    const k = sizes[l];
    const n = sizes[l + 1];
    const layer = l + 2 === sizes.length ? 'logits' : `hidden${l + 1}`;
    const x = tf.randomNormal([batch, k]);
    const w = tf.randomNormal([k, n]);
    const bias = tf.randomNormal([n]);
    const dy = tf.randomNormal([batch, n]);
    const activation = layer === 'logits' ? 'linear' : 'relu';
    const products = [
      ['forward x W + b', `${batch} x ${k} x ${n}`, () => tf.fused.matMul({ a: x, b: w, bias, activation })],
      ...(l === 0 ? [] : [['dX = dY W^T', `${batch} x ${n} x ${k}`, () => tf.matMul(dy, w, false, true)]]),
      ['dW = X^T dY', `${k} x ${batch} x ${n}`, () => tf.matMul(x, dy, true, false)],
    ];
    for (const [name, shape, run] of products) {
      const ms = time(run);
      const gflop = (2 * batch * k * n) / 1e9;
      modelTotal.ms += ms;
      modelTotal.gflop += gflop;
      const gflops = gflop / (ms / 1000);
      const row = { model, layer, product: name, shape, ms, gflops, ofPeak: gflops / usedPeak };
      if (json) console.log(JSON.stringify({ ...row, engine: selection.engine, peak: usedPeak }));
      else
        console.log(
          `| ${model} | ${layer} | ${name} | ${shape} | ${ms.toFixed(2)} | ${gflops.toFixed(1)} | ${(100 * row.ofPeak).toFixed(0)}% |`,
        );
    }
    tf.dispose([x, w, bias, dy]);
  }
  if (!json)
    console.log(
      `| ${model} | all | all products of a step | | ${modelTotal.ms.toFixed(2)} | ${(modelTotal.gflop / (modelTotal.ms / 1000)).toFixed(1)} | ${((100 * modelTotal.gflop) / (modelTotal.ms / 1000) / usedPeak).toFixed(0)}% |`,
    );
  total = { ms: total.ms + modelTotal.ms, gflop: total.gflop + modelTotal.gflop };
}
