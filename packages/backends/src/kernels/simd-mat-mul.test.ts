import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../register-wasm-training-kernels.js';
import { simdMatMul } from './simd-mat-mul.js';
import { requireKernel } from './wasm-kernel-utils.js';

function randomArray(rng: Rng, size: number): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = rng.normal();
  return a;
}

/** Worst |got - want| / max(|want|, 1e-2 * max|want|). */
function worstError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = want[i] as number;
    worst = Math.max(worst, Math.abs((got[i] as number) - e) / Math.max(Math.abs(e), 1e-2 * scale, 1e-6));
  }
  return worst;
}

interface Case {
  readonly m: number;
  readonly k: number;
  readonly n: number;
  readonly ta: boolean;
  readonly tb: boolean;
  readonly bias: boolean;
  readonly relu: boolean;
  readonly batchOne?: boolean;
}

// Rows 1-3 past a block of 4, columns past blocks of 8 by 1-7 (the 4-wide and 1-wide tails), several row
// chunks, depth 1, the dense layers' three products (x W + b with ReLU, x^T dy, dy W^T), batch-1 rank 3.
const CASES: Case[] = [
  { m: 13, k: 9, n: 21, ta: false, tb: false, bias: true, relu: true },
  { m: 4, k: 1, n: 8, ta: false, tb: false, bias: false, relu: false },
  { m: 1, k: 17, n: 3, ta: false, tb: false, bias: true, relu: false },
  { m: 70, k: 33, n: 45, ta: false, tb: false, bias: true, relu: true },
  { m: 37, k: 19, n: 12, ta: true, tb: false, bias: false, relu: false },
  { m: 6, k: 40, n: 29, ta: true, tb: false, bias: true, relu: true },
  { m: 23, k: 31, n: 50, ta: false, tb: true, bias: false, relu: false },
  { m: 9, k: 5, n: 7, ta: false, tb: true, bias: false, relu: true },
  { m: 66, k: 10, n: 34, ta: false, tb: true, bias: false, relu: false, batchOne: true },
  { m: 18, k: 26, n: 10, ta: false, tb: false, bias: true, relu: false, batchOne: true },
  // B over 1 MB: shared out by columns (chunks of 88 columns, the last 84: a 4-wide tail inside a chunk).
  { m: 13, k: 400, n: 700, ta: false, tb: false, bias: true, relu: true },
];

async function product(c: Case, a: Float32Array, b: Float32Array, bias: Float32Array, direct: boolean) {
  const aShape = [...(c.batchOne ? [1] : []), ...(c.ta ? [c.k, c.m] : [c.m, c.k])];
  const bShape = [...(c.batchOne ? [1] : []), ...(c.tb ? [c.n, c.k] : [c.k, c.n])];
  const out = tf.tidy(() => {
    const at = tf.tensor(a, aShape);
    const bt = tf.tensor(b, bShape);
    const bt1 = c.bias ? tf.tensor1d(bias) : undefined;
    if (!direct) {
      return tf.fused.matMul({
        a: at,
        b: bt,
        transposeA: c.ta,
        transposeB: c.tb,
        ...(bt1 ? { bias: bt1 } : {}),
        activation: c.relu ? 'relu' : 'linear',
      });
    }
    const info = simdMatMul(
      tf.backend(),
      requireKernel('Transpose', 'wasm'),
      at,
      bt,
      c.ta,
      c.tb,
      bt1,
      c.relu ? 'relu' : 'linear',
    );
    expect(info, `the SIMD product applies to ${JSON.stringify(c)}`).toBeDefined();
    return tf.engine().makeTensorFromTensorInfo(info as tf.TensorInfo);
  });
  const values = await out.data();
  const shape = out.shape;
  out.dispose();
  return { values, shape };
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('simdMatMul', () => {
  it('matches the cpu backend on every tail of its blocks, each transpose, bias and ReLU', async () => {
    const rng = new Rng(27);
    for (const c of CASES) {
      const a = randomArray(rng, c.m * c.k);
      const b = randomArray(rng, c.k * c.n);
      const bias = randomArray(rng, c.n);
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const got = await product(c, a, b, bias, true);
      // Through the registered kernels too (what tfjs-layers' Dense and its gradients call).
      const viaKernel = await product(c, a, b, bias, false);
      expect(tf.memory().numTensors).toBe(before);
      await tf.setBackend('cpu');
      const want = await product(c, a, b, bias, false);
      expect(got.shape).toEqual(want.shape);
      expect(worstError(got.values, want.values), JSON.stringify(c)).toBeLessThan(1e-4);
      expect(Array.from(viaKernel.values)).toEqual(Array.from(got.values));
    }
    await tf.setBackend('wasm');
  });

  it('leaves batched products, both operands transposed and other activations to the fallback', async () => {
    await tf.setBackend('wasm');
    const transpose = requireKernel('Transpose', 'wasm');
    const backend = tf.backend();
    const [a, b, a3, b3] = [tf.ones([4, 8]), tf.ones([8, 4]), tf.ones([2, 4, 8]), tf.ones([2, 8, 4])];
    expect(simdMatMul(backend, transpose, a3, b3, false, false, undefined, 'linear')).toBeUndefined();
    expect(simdMatMul(backend, transpose, b, a, true, true, undefined, 'linear')).toBeUndefined();
    expect(simdMatMul(backend, transpose, a, b, false, false, undefined, 'elu')).toBeUndefined();
    tf.dispose([a, b, a3, b3]);
  });
});
