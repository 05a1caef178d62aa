#!/usr/bin/env node
// Gradient check of every zoo model (the heavy ones included): the gradient of the cross entropy of one
// example with respect to every trainable weight, on wasm with the distilljs kernels against the cpu
// backend, in inference mode. Prints the worst relative error per model. Needs built packages
// (`npx turbo run build --filter=@distilljs/backends...`). Usage: node scripts/check-zoo-gradients.mjs [names]
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { createModel, listModels, MODEL_NAMES } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { registerWasmTrainingKernels } from '../dist/index.js';

const names = process.argv[2] ? process.argv[2].split(',') : MODEL_NAMES;
await tf.setBackend('wasm');
registerWasmTrainingKernels();

async function gradients(backend, name, x, shape, label) {
  await tf.setBackend(backend);
  const model = createModel(name, { seed: 3, inputShape: shape });
  const vars = model.trainableWeights.map((w) => w.read());
  const { grads } = tf.variableGrads(
    () =>
      tf.tidy(() =>
        tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d([label], 'int32'), 10),
          model.apply(tf.tensor(x, [1, ...shape]), { training: false }),
        ),
      ),
    vars,
  );
  const out = new Map();
  for (const [k, g] of Object.entries(grads)) out.set(k.replace(/_\d+$/, ''), await g.data());
  tf.dispose(Object.values(grads));
  model.dispose();
  return out;
}
const norm = (a) => Math.sqrt(a.reduce((s, v) => s + v * v, 0));
let failed = false;
for (const name of names) {
  const info = listModels().find((m) => m.name === name);
  const shape = name.startsWith('resnet') ? [8, 8, 3] : [...info.defaultInputShape];
  const x = Float32Array.from(
    { length: shape.reduce((p, d) => p * d, 1) },
    (_, i) => (Math.sin(i * 12.9898) + 1) / 2,
  );
  const t0 = performance.now();
  const ref = await gradients('cpu', name, x, shape, 3);
  const got = await gradients('wasm', name, x, shape, 3);
  const largest = Math.max(...[...ref.values()].map(norm));
  let worst = 0;
  let worstName = '';
  for (const [k, g] of ref) {
    const w = got.get(k);
    let d = 0;
    for (let i = 0; i < g.length; i++) d += (w[i] - g[i]) ** 2;
    const err = Math.sqrt(d) / Math.max(norm(g), 1e-3 * largest, 1e-12);
    if (err > worst) [worst, worstName] = [err, k];
  }
  const ok = worst < 1e-4;
  failed ||= !ok;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${name.padEnd(16)} ${ref.size} weights, worst relative error ${worst.toExponential(2)} (${worstName}), ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
process.exit(failed ? 1 : 0);
