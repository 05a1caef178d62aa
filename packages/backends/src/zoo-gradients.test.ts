import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '@distilljs/core';
import { createModel, listModels, MODEL_NAMES } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerCpuTrainingKernels, unregisterCpuTrainingKernels } from './register-cpu-training-kernels.js';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from './register-wasm-training-kernels.js';

const BATCH = 1;

/** Gradients of the cross entropy of one batch with respect to every trainable weight, as plain arrays. */
async function gradients(
  backend: string,
  name: (typeof MODEL_NAMES)[number],
  x: Float32Array,
  shape: number[],
  labels: Int32Array,
): Promise<Map<string, Float32Array>> {
  await tf.setBackend(backend);
  const model = createModel(name, { seed: 3, inputShape: shape });
  const vars = model.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  const { grads } = tf.variableGrads(
    () =>
      tf.tidy(() => {
        const logits = model.apply(tf.tensor(x, [BATCH, ...shape]), { training: false }) as tf.Tensor2D;
        return tf.losses.softmaxCrossEntropy(
          tf.oneHot(tf.tensor1d(labels, 'int32'), 10),
          logits,
        ) as tf.Scalar;
      }),
    vars,
  );
  const out = new Map<string, Float32Array>();
  for (const [k, g] of Object.entries(grads))
    out.set(k.replace(/_\d+$/, ''), (await g.data()) as Float32Array);
  tf.dispose(Object.values(grads));
  model.dispose();
  return out;
}

function norm(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v * v;
  return Math.sqrt(s);
}

/** ||a - b|| / max(||b||, floor). */
function relativeError(a: Float32Array, b: Float32Array, floor: number): number {
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.sqrt(diff) / Math.max(norm(b), floor, 1e-12);
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
  // The cpu reference computes filter gradients with the distilljs cpu kernel: the stock one costs ~100x a
  // forward convolution (minutes for cifar-vgg-large). register-cpu-training-kernels.test.ts, in this same
  // suite, checks that kernel against the stock one; scripts/check-zoo-gradients.mjs uses the stock kernel.
  registerCpuTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
  unregisterCpuTrainingKernels();
});

// Inference mode (dropout off, batch norm with its moving statistics) keeps the comparison deterministic and
// well conditioned: with batch statistics over two examples, a 1e-6 change of the input already moves the
// first layers' gradients by ~1e-5 on cpu alone. Every kernel the distilljs wasm kernels replace runs the
// same in both modes.
describe('zoo gradients on wasm (with the distilljs kernels) match cpu', () => {
  for (const name of MODEL_NAMES) {
    it(name, async () => {
      const info = listModels().find((m) => m.name === name);
      // ResNets end in global average pooling: an 8x8 input exercises every layer at 1/16 of the cost.
      const shape = name.startsWith('resnet') ? [8, 8, 3] : [...(info?.defaultInputShape ?? [28, 28, 1])];
      const rng = new Rng(5);
      const x = new Float32Array(BATCH * shape.reduce((p, d) => p * d, 1));
      for (let i = 0; i < x.length; i++) x[i] = rng.next();
      const labels = Int32Array.from({ length: BATCH }, () => rng.int(10));
      const ref = await gradients('cpu', name, x, shape, labels);
      const got = await gradients('wasm', name, x, shape, labels);
      expect([...got.keys()]).toEqual([...ref.keys()]);
      // Gradients that are analytically ~0 compare against the model's largest gradient instead of 0.
      let largest = 0;
      for (const g of ref.values()) largest = Math.max(largest, norm(g));
      for (const [k, g] of ref) {
        const err = relativeError(got.get(k) as Float32Array, g, 1e-3 * largest);
        expect(err, `${name} ${k}`).toBeLessThan(1e-4);
      }
      // cifar-vgg-large takes ~7 CPU-seconds, up to ~30 s of wall time when the machine is busy.
    }, 120_000);
  }
});
