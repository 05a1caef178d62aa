import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { InvalidArgumentError, Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuConv2DBackpropFilter } from './kernels/cpu-conv2d-backprop-filter.js';
import {
  hasCpuTrainingKernels,
  registerCpuTrainingKernels,
  unregisterCpuTrainingKernels,
} from './register-cpu-training-kernels.js';

interface Case {
  readonly x: [number, number, number, number];
  readonly filter: [number, number, number, number];
  readonly strides: [number, number];
  readonly pad: 'same' | 'valid';
}

function randomTensor(rng: Rng, shape: number[]): tf.Tensor {
  const values = Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.next() * 2 - 1);
  return tf.tensor(values, shape);
}

/** The filter gradient through the kernel registered now, for a random dy of the forward output's shape. */
async function filterGrad(
  c: Case,
  seed: number,
  dataFormat: 'NHWC' | 'NCHW' = 'NHWC',
): Promise<Float32Array> {
  const rng = new Rng(seed);
  const x = randomTensor(rng, c.x);
  const outShape = tf.tidy(
    () => tf.conv2d(x as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape,
  );
  const dy = randomTensor(rng, outShape);
  const xIn = dataFormat === 'NHWC' ? x : tf.transpose(x, [0, 3, 1, 2]);
  const dyIn = dataFormat === 'NHWC' ? dy : tf.transpose(dy, [0, 3, 1, 2]);
  const out = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x: xIn, dy: dyIn }, {
    strides: c.strides,
    pad: c.pad,
    dataFormat,
    dimRoundingMode: undefined,
    filterShape: c.filter,
  } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const values = (await out.data()) as Float32Array;
  tf.dispose([x, dy, xIn, dyIn, out]);
  return values;
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff += ((a[i] as number) - (b[i] as number)) ** 2;
    ref += (b[i] as number) ** 2;
  }
  return Math.sqrt(diff) / Math.max(Math.sqrt(ref), 1e-12);
}

/** Random shapes: strides 1-2 (and one of 3), 'same'/'valid', non-square filters and images, batch 1-3. */
function randomCases(count: number): Case[] {
  const rng = new Rng(11);
  const cases: Case[] = [
    { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], strides: [1, 1], pad: 'same' },
    { x: [2, 9, 7, 2], filter: [3, 3, 2, 5], strides: [2, 2], pad: 'same' },
    { x: [1, 9, 7, 2], filter: [3, 2, 2, 3], strides: [2, 2], pad: 'valid' },
    { x: [3, 10, 11, 4], filter: [1, 1, 4, 6], strides: [2, 2], pad: 'valid' },
    { x: [1, 12, 12, 3], filter: [5, 5, 3, 2], strides: [3, 1], pad: 'same' },
  ];
  while (cases.length < count) {
    const kh = 1 + rng.int(4);
    const kw = 1 + rng.int(4);
    const sh = 1 + rng.int(2);
    const sw = 1 + rng.int(2);
    const pad = rng.next() < 0.5 ? 'same' : 'valid';
    cases.push({
      x: [1 + rng.int(3), kh + rng.int(9), kw + rng.int(9), 1 + rng.int(6)],
      filter: [kh, kw, 0, 1 + rng.int(7)],
      strides: [sh, sw],
      pad,
    });
    const last = cases[cases.length - 1] as Case;
    last.filter[2] = last.x[3];
  }
  return cases;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
  unregisterCpuTrainingKernels();
});

afterAll(() => {
  unregisterCpuTrainingKernels();
});

describe('registerCpuTrainingKernels', () => {
  const cases = randomCases(24);
  for (const [i, c] of cases.entries()) {
    it(`Conv2DBackpropFilter matches the stock cpu kernel: x [${c.x}], filter [${c.filter}], strides [${c.strides}], ${c.pad}`, async () => {
      unregisterCpuTrainingKernels();
      const expected = await filterGrad(c, 100 + i);
      const before = tf.memory().numTensors;
      expect(registerCpuTrainingKernels().alreadyRegistered).toBe(false);
      const got = await filterGrad(c, 100 + i);
      expect(tf.memory().numTensors).toBe(before);
      expect(got.length).toBe(c.filter.reduce((p, d) => p * d, 1));
      expect(relativeError(got, expected)).toBeLessThan(1e-4);
      unregisterCpuTrainingKernels();
    });
  }

  it('gives the same filter gradient through tf.grad of a conv2d with stride 2', async () => {
    const rng = new Rng(3);
    const x = randomTensor(rng, [2, 11, 9, 3]) as tf.Tensor4D;
    const filter = randomTensor(rng, [3, 3, 3, 4]) as tf.Tensor4D;
    const loss = (f: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, f as tf.Tensor4D, 2, 'same')));
    const stock = tf.grad(loss)(filter);
    registerCpuTrainingKernels();
    const fast = tf.grad(loss)(filter);
    expect(
      relativeError((await fast.data()) as Float32Array, (await stock.data()) as Float32Array),
    ).toBeLessThan(1e-4);
    unregisterCpuTrainingKernels();
    tf.dispose([x, filter, stock, fast]);
  });

  it('hands NCHW data to the stock kernel', async () => {
    const c: Case = { x: [2, 6, 6, 3], filter: [3, 3, 3, 2], strides: [2, 2], pad: 'same' };
    const expected = await filterGrad(c, 7);
    registerCpuTrainingKernels();
    const got = await filterGrad(c, 7, 'NCHW');
    unregisterCpuTrainingKernels();
    expect(relativeError(got, expected)).toBeLessThan(1e-5);
    expect(() =>
      cpuConv2DBackpropFilter(undefined, {
        inputs: {},
        backend: tf.backend(),
        attrs: { dataFormat: 'NCHW' },
      }),
    ).toThrow(InvalidArgumentError);
  });

  it('is idempotent and undoable', () => {
    const stock = tf.getKernel(tf.Conv2DBackpropFilter, 'cpu');
    expect(hasCpuTrainingKernels()).toBe(false);
    const first = registerCpuTrainingKernels();
    expect(first).toEqual({
      backendName: 'cpu',
      kernels: ['Conv2DBackpropFilter (replaced)'],
      alreadyRegistered: false,
    });
    expect(registerCpuTrainingKernels().alreadyRegistered).toBe(true);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')).not.toBe(stock);
    expect(unregisterCpuTrainingKernels()).toBe(true);
    expect(unregisterCpuTrainingKernels()).toBe(false);
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'cpu')).toBe(stock);
    expect(hasCpuTrainingKernels()).toBe(false);
  });

  it('names the missing package when the backend has no kernels', () => {
    expect(() => registerCpuTrainingKernels('no-such-backend')).toThrow(
      /registerCpuTrainingKernels: the 'no-such-backend' backend has no 'Conv2DBackpropFilter' kernel registered; import '@tensorflow\/tfjs-backend-cpu'/,
    );
  });
});
