#!/usr/bin/env node
// Times the convolutions of one training step of mnist-cnn and cifar-vgg-small (batch 128, 3x3 'same',
// stride 1) as the wasm backend with the distilljs kernels computes them: the forward convolution with bias
// (`FusedConv2D`, linear as before batch norm, or with ReLU as mnist-cnn's layers), the input gradient
// (`Conv2DBackpropInput`; not for the first layer, whose input is data) and the filter gradient
// (`Conv2DBackpropFilter`). Each row: the median of --reps calls after 2 warm-up calls, in ms and GFLOP/s
// (2 n h w ci co 9 flops), and as a fraction of the 128-bit-SIMD peak, computed as in gemm-bench.mjs:
//   peak = threads x GHz x 4 float32 lanes x 2 flops per fused multiply-add x FMA ports (--ports 2)
// with the clock measured here (--ghz overrides it). Needs the built package (`npx tsup`).
// Usage: node --experimental-wasm-relaxed-simd scripts/conv-bench.mjs [--threads 2] [--reps 9]
//   [--models mnist-cnn,cifar-vgg-small] [--clock wall|cpu] [--ghz G] [--ports 2] [--dist ../dist] [--json] [--no-read]
// --clock cpu with --threads 1: the kernel's own CPU time, usable on a busy machine.
// --no-read: time the kernel call alone, without reading its output back into JavaScript (the wasm
// kernels run synchronously; a training step does not read the output either, and the read of a 16 MB
// output can take longer than a first layer's convolution).
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
const reps = Number(flag('--reps', '9'));
const ghzFlag = flag('--ghz', 'measure');
const ghz = ghzFlag === 'measure' ? measureGhz() : Number(ghzFlag);
const ports = Number(flag('--ports', '2'));
const json = args.includes('--json');
const read = !args.includes('--no-read');
const clock = flag('--clock', 'wall');
const now = clockNow(clock);
const models = flag('--models', 'mnist-cnn,cifar-vgg-small').split(',');
const distDir = flag('--dist', '../dist');
const batch = 128;
/** Each model's convolutions: [height, width, in channels, out channels, activation]. */
const LAYERS = {
  'mnist-cnn': [
    [28, 28, 1, 32, 'relu'],
    [14, 14, 32, 64, 'relu'],
  ],
  'cifar-vgg-small': [
    [32, 32, 3, 32, 'linear'],
    [32, 32, 32, 32, 'linear'],
    [16, 16, 32, 64, 'linear'],
    [16, 16, 64, 64, 'linear'],
    [8, 8, 64, 128, 'linear'],
    [4, 4, 128, 128, 'linear'],
    [2, 2, 128, 128, 'linear'],
  ],
};

const { selectBackend } = await import(new URL(`${distDir}/index.js`, import.meta.url).href);
const selection = await selectBackend('wasm', { threads, relaxedSimd: 'enable' });
const relaxed = selection.engine.includes('relaxed');
const peak = (threads * ghz * 4 * 2 * ports) / (relaxed ? 1 : 2);
if (!json) {
  console.log(
    `# ${selection.engine}; batch ${batch}, median of ${reps} calls, ${clock} clock${read ? ', output read back' : ', output not read back'}`,
  );
  console.log(
    `# peak: ${threads} cores x ${ghz.toFixed(2)} GHz x 4 lanes x 2 flops x ${ports} ports${relaxed ? '' : ' / 2 (no FMA)'} = ${peak.toFixed(1)} GFLOP/s`,
  );
  console.log('| model | layer | op | shape (n,h,w,ci -> co) | ms | GFLOP/s | of peak |');
  console.log('| --- | --- | --- | --- | ---: | ---: | ---: |');
}
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
function time(run) {
  for (let i = 0; i < 2; i++) run().dispose();
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    const y = run();
    if (read) y.dataSync();
    ms.push(now() - t0);
    y.dispose();
  }
  return median(ms);
}

const total = { ms: 0, gflop: 0 };
for (const model of models) {
  const layers = LAYERS[model];
  if (!layers)
    throw new Error(`--models: unknown model '${model}'; valid: ${Object.keys(LAYERS).join(', ')}`);
  for (const [l, [h, w, ci, co, activation]] of layers.entries()) {
    const x = tf.randomNormal([batch, h, w, ci]);
    const filter = tf.randomNormal([3, 3, ci, co]);
    const bias = tf.randomNormal([co]);
    const dy = tf.randomNormal([batch, h, w, co]);
    const attrs = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1] };
    const ops = [
      [
        `forward (+bias${activation === 'relu' ? ', ReLU' : ''})`,
        () => tf.engine().runKernel('FusedConv2D', { x, filter, bias }, { ...attrs, activation }),
      ],
      ...(l === 0
        ? []
        : [
            [
              'input gradient',
              () =>
                tf
                  .engine()
                  .runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: x.shape }),
            ],
          ]),
      [
        'filter gradient',
        () =>
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: filter.shape }),
      ],
    ];
    for (const [op, run] of ops) {
      const ms = time(run);
      const gflop = (2 * batch * h * w * ci * co * 9) / 1e9;
      total.ms += ms;
      total.gflop += gflop;
      const gflops = gflop / (ms / 1000);
      const shape = `${batch},${h},${w},${ci} -> ${co}`;
      if (json)
        console.log(
          JSON.stringify({
            model,
            layer: `conv${l + 1}`,
            op,
            shape,
            ms,
            gflops,
            ofPeak: gflops / peak,
            peak,
          }),
        );
      else
        console.log(
          `| ${model} | conv${l + 1} | ${op} | ${shape} | ${ms.toFixed(2)} | ${gflops.toFixed(1)} | ${((100 * gflops) / peak).toFixed(0)}% |`,
        );
    }
    tf.dispose([x, filter, bias, dy]);
  }
}
if (!json)
  console.log(
    `| all | | | | ${total.ms.toFixed(2)} | ${(total.gflop / (total.ms / 1000)).toFixed(1)} | ${((100 * total.gflop) / (total.ms / 1000) / peak).toFixed(0)}% |`,
  );
