import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Rng } from '@distilljs/core';
import { batchNormalization, batchNormRelu } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { composedAdam } from './__fixtures__/composed-adam.js';
import { conv2DBackpropFilterGemm, filterGrid } from './kernels/conv2d-backprop-filter-gemm.js';
import { conv2DBackpropFilterRows } from './kernels/conv2d-backprop-filter-rows.js';
import { conv2DBackpropFilterTaps } from './kernels/conv2d-backprop-filter-taps.js';
import { conv2DBackpropFilterWinograd } from './kernels/conv2d-backprop-filter-winograd.js';
import { setWinogradLargeTiles } from './kernels/conv2d-winograd.js';
import { maxPool } from './kernels/max-pool.js';
import { setSimdKernelsEnabled, simdKernels } from './kernels/simd/simd-kernels.js';
import {
  hasWasmTrainingKernels,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from './register-wasm-training-kernels.js';

/** Runs `fn` on the named backend with fresh tensors built from plain arrays; returns its values. */
async function on(backend: string, fn: () => tf.Tensor): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(fn);
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { shape, values };
}

function randomArray(rng: Rng, shape: number[]): Float32Array {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

/** Max |a - b| / max(|b|, 1e-3 * scale): relative error against the cpu reference. */
function expectClose(actual: Float32Array, expected: Float32Array, tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i] as number;
    const err = Math.abs((actual[i] as number) - e) / Math.max(Math.abs(e), scale * 1e-2, 1e-6);
    worst = Math.max(worst, err);
  }
  expect(worst).toBeLessThan(tol);
}

/**
 * `layerGrad(false)` on cpu against `layerGrad(true)` on wasm (to 1e-4); returns the kernels the wasm run
 * profiled.
 */
async function layerGradAgainstCpu(layerGrad: (fused: boolean) => tf.Tensor): Promise<string[]> {
  await tf.setBackend('cpu');
  const want = tf.tidy(() => layerGrad(false));
  const wantValues = (await want.data()) as Float32Array;
  want.dispose();
  await tf.setBackend('wasm');
  const profile = await tf.profile(() => layerGrad(true));
  const got = profile.result as tf.Tensor;
  expectClose((await got.data()) as Float32Array, wantValues);
  got.dispose();
  return profile.kernels.map((k) => k.name);
}

/** A built batch-norm layer given gamma and beta (its moving statistics as built). */
function withGammaBeta(layer: tfl.layers.Layer, shape: number[], gamma: Float32Array, beta: Float32Array) {
  layer.build(shape);
  const weights = layer.getWeights();
  layer.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), weights[2] as tf.Tensor, weights[3] as tf.Tensor]);
  return layer;
}

async function compare(fn: () => tf.Tensor, tol?: number): Promise<void> {
  const ref = await on('cpu', fn);
  const got = await on('wasm', fn);
  expect(got.shape).toEqual(ref.shape);
  expectClose(got.values, ref.values, tol);
}

/**
 * F(4x4, 3x3)'s tolerance: its transforms scale terms by up to 8 and 1/24 before they cancel, so its
 * rounding error is about ten times the direct convolution's (against a float64 reference, 64 channels:
 * largest error 6e-6 of the largest output, against 9e-7 for the cpu backend's direct convolution).
 */
const WINOGRAD4_TOL = 5e-4;

type FilterCase = {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  pad: 'same' | 'valid' | number[][];
};

type ConvCase = { x: number[]; co: number; pad: 'same' | 'valid' | number[][] };

/**
 * Compares wasm with cpu on each 3x3 stride-1 case: the convolution, and the fused one with a bias, linear
 * and ReLU (three calls of the kernel under test per case).
 */
async function checkConvCases(rng: Rng, cases: ConvCase[], tol?: number): Promise<void> {
  for (const c of cases) {
    const ci = c.x[3] as number;
    const xs = randomArray(rng, c.x);
    const f = randomArray(rng, [3, 3, ci, c.co]);
    const bias = randomArray(rng, [c.co]);
    const pad = c.pad as 'same';
    const shape = c.x as [number, number, number, number];
    await compare(() => tf.conv2d(tf.tensor4d(xs, shape), tf.tensor4d(f, [3, 3, ci, c.co]), 1, pad), tol);
    for (const activation of ['linear', 'relu'] as const) {
      await compare(
        () =>
          tf.fused.conv2d({
            x: tf.tensor4d(xs, shape),
            filter: tf.tensor4d(f, [3, 3, ci, c.co]),
            bias: tf.tensor1d(bias),
            strides: 1,
            pad,
            activation,
          }),
        tol,
      );
    }
  }
}

/** Compares wasm with cpu on the input gradient of a 3x3 'same' convolution of x [n, h, w, ci] to co channels. */
async function checkInputGradient(rng: Rng, x: [number, number, number, number], co: number, tol?: number) {
  const [n, h, w, ci] = x;
  const xs = randomArray(rng, x);
  const fs = randomArray(rng, [3, 3, ci, co]);
  const ws = randomArray(rng, [n, h, w, co]);
  await compare(
    () =>
      tf.grad((z: tf.Tensor) =>
        tf.sum(
          tf.mul(
            tf.conv2d(z as tf.Tensor4D, tf.tensor4d(fs, [3, 3, ci, co]), 1, 'same'),
            tf.tensor4d(ws, [n, h, w, co]),
          ),
        ),
      )(tf.tensor4d(xs, x)),
    tol,
  );
}

/**
 * Checks a heap filter-gradient kernel called directly (`direct`) against the cpu backend's
 * `Conv2DBackpropFilter` on each case, and that it applies to each.
 */
async function checkFilterKernel(
  rng: Rng,
  cases: FilterCase[],
  label: string,
  direct: (
    backend: ReturnType<typeof tf.backend>,
    x: tf.Tensor4D,
    dy: tf.Tensor4D,
    info: tf.backend_util.Conv2DInfo,
  ) => tf.TensorInfo | undefined,
  tol?: number,
): Promise<void> {
  for (const c of cases) {
    const fShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.co];
    const info = tf.backend_util.computeConv2DInfo(
      c.x,
      fShape,
      1,
      1,
      c.pad as Parameters<typeof tf.backend_util.computeConv2DInfo>[4],
    );
    const x = randomArray(rng, c.x);
    const dy = randomArray(rng, info.outShape);
    await compare(() => {
      const xt = tf.tensor4d(x, c.x);
      const dyt = tf.tensor4d(dy, info.outShape);
      if (tf.getBackend() === 'cpu') {
        return tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: xt, dy: dyt },
            { strides: 1, pad: c.pad, dataFormat: 'NHWC', filterShape: fShape },
          ) as tf.Tensor;
      }
      const out = direct(tf.backend(), xt, dyt, info);
      expect(out, `the ${label} applies to ${JSON.stringify(c)}`).toBeDefined();
      return tf.engine().makeTensorFromTensorInfo(out as tf.TensorInfo);
    }, tol);
  }
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('registerWasmTrainingKernels', () => {
  it('is idempotent and reports what it registered', () => {
    expect(hasWasmTrainingKernels()).toBe(true);
    const again = registerWasmTrainingKernels();
    expect(again.alreadyRegistered).toBe(true);
    expect(again.kernels).toContain('Conv2DBackpropFilter (added)');
    expect(again.kernels).toContain('Tile (replaced)');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('matches cpu for matMul with every transpose combination on random shapes', async () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 12; trial++) {
      const m = 1 + rng.int(70);
      const k = 1 + rng.int(70);
      const n = 1 + rng.int(70);
      const ta = rng.next() < 0.5;
      const tb = rng.next() < 0.5;
      const aShape = ta ? [k, m] : [m, k];
      const bShape = tb ? [n, k] : [k, n];
      const a = randomArray(rng, aShape);
      const b = randomArray(rng, bShape);
      await compare(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb));
    }
  });

  it('matches cpu for a b^T with a large b (computed as (b a^T)^T), plain, batch-1 and fused', async () => {
    const rng = new Rng(14);
    for (const [m, k, n] of [
      [3, 40, 50],
      [16, 64, 200],
      [1, 7, 9],
    ] as const) {
      const a = randomArray(rng, [m, k]);
      const b = randomArray(rng, [n, k]);
      await compare(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [n, k]), false, true));
      await compare(() => tf.matMul(tf.tensor3d(a, [1, m, k]), tf.tensor2d(b, [n, k]), false, true));
      await compare(() =>
        tf.fused.matMul({
          a: tf.tensor2d(a, [m, k]),
          b: tf.tensor2d(b, [n, k]),
          transposeB: true,
          activation: 'relu',
        }),
      );
    }
  });

  it('matches cpu for batched matMul, with broadcasting and transposes', async () => {
    const rng = new Rng(8);
    for (const [batchA, batchB] of [
      [[3], [3]],
      [[2, 2], [1]],
      [[1], [4]],
      [[2], [2]],
    ] as Array<[number[], number[]]>) {
      const [m, k, n] = [40, 33, 37];
      const ta = rng.next() < 0.5;
      const tb = rng.next() < 0.5;
      const aShape = [...batchA, ...(ta ? [k, m] : [m, k])];
      const bShape = [...batchB, ...(tb ? [n, k] : [k, n])];
      const a = randomArray(rng, aShape);
      const b = randomArray(rng, bShape);
      await compare(() => tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb));
    }
  });

  it('matches cpu for fused matMul (bias, relu) with transposes', async () => {
    const rng = new Rng(9);
    for (const [ta, tb] of [
      [true, false],
      [false, true],
      [true, true],
    ] as Array<[boolean, boolean]>) {
      const [m, k, n] = [17, 29, 23];
      const aShape = ta ? [k, m] : [m, k];
      const bShape = tb ? [n, k] : [k, n];
      const a = randomArray(rng, aShape);
      const b = randomArray(rng, bShape);
      const bias = randomArray(rng, [n]);
      await compare(() =>
        tf.fused.matMul({
          a: tf.tensor(a, aShape),
          b: tf.tensor(b, bShape),
          transposeA: ta,
          transposeB: tb,
          bias: tf.tensor(bias),
          activation: 'relu',
        }),
      );
    }
  });

  it('matches cpu for conv2d gradients (filter and input) over strides and padding', async () => {
    const rng = new Rng(10);
    const cases: Array<{
      x: number[];
      k: [number, number];
      co: number;
      s: [number, number];
      pad: 'same' | 'valid';
    }> = [
      { x: [2, 7, 7, 3], k: [3, 3], co: 4, s: [1, 1], pad: 'same' },
      { x: [3, 8, 6, 2], k: [3, 3], co: 5, s: [1, 1], pad: 'valid' },
      { x: [2, 9, 9, 3], k: [3, 3], co: 4, s: [2, 2], pad: 'same' },
      { x: [2, 8, 8, 3], k: [3, 3], co: 4, s: [2, 2], pad: 'same' },
      { x: [2, 9, 8, 2], k: [2, 3], co: 3, s: [2, 3], pad: 'valid' },
      { x: [1, 10, 10, 4], k: [5, 5], co: 2, s: [1, 1], pad: 'same' },
      { x: [2, 7, 7, 3], k: [1, 1], co: 6, s: [2, 2], pad: 'valid' },
      { x: [2, 6, 6, 3], k: [4, 4], co: 2, s: [1, 1], pad: 'same' },
    ];
    for (const c of cases) {
      const ci = c.x[3] as number;
      const fShape = [c.k[0], c.k[1], ci, c.co];
      const x = randomArray(rng, c.x);
      const f = randomArray(rng, fShape);
      const xShape = c.x as [number, number, number, number];
      const outShape = tf.backend_util.computeConv2DInfo(
        xShape,
        fShape as [number, number, number, number],
        c.s,
        1,
        c.pad,
      ).outShape;
      const dy = randomArray(rng, outShape);
      // Forward pass, for reference.
      await compare(() =>
        tf.conv2d(
          tf.tensor4d(x, xShape),
          tf.tensor4d(f, fShape as [number, number, number, number]),
          c.s,
          c.pad,
        ),
      );
      // Filter gradient: the kernel this package adds.
      await compare(
        () =>
          tf.engine().runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, outShape) },
            {
              strides: c.s,
              pad: c.pad,
              dataFormat: 'NHWC',

              filterShape: fShape,
            },
          ) as tf.Tensor,
      );
      // Input gradient.
      await compare(
        () =>
          tf.engine().runKernel(
            'Conv2DBackpropInput',
            {
              dy: tf.tensor4d(dy, outShape),
              filter: tf.tensor4d(f, fShape as [number, number, number, number]),
            },
            {
              strides: c.s,
              pad: c.pad,
              dataFormat: 'NHWC',

              inputShape: xShape,
            },
          ) as tf.Tensor,
      );
    }
  });

  it('matches cpu for stride-1 convolutions in the direct SIMD kernel: forward, fused, and input gradients', async () => {
    await tf.setBackend('wasm');
    const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
    expect(simd).toBeDefined();
    const spy = vi.spyOn(simd as NonNullable<typeof simd>, 'convDirect');
    try {
      const rng = new Rng(41);
      type Case = { x: number[]; f: number[]; pad: 'same' | 'valid' | number[][] };
      const cases: Case[] = [
        // 'same' 3x3; a row of 6: a block of 4 positions and one overlapping it by 2 (an odd height, which
        // the batched Winograd tiles of small outputs do not take).
        { x: [3, 5, 6, 16], f: [3, 3, 16, 8], pad: 'same' },
        // 'valid' 3x5 (ow 5: blocks at 0 and 1), 17 images: chunks of 2 with a last chunk of 1.
        { x: [17, 5, 9, 16], f: [3, 5, 16, 16], pad: 'valid' },
        // Explicit, unequal padding.
        {
          x: [2, 6, 8, 24],
          f: [3, 3, 24, 8],
          pad: [
            [0, 0],
            [2, 0],
            [1, 2],
            [0, 0],
          ],
        },
        // An even filter with 'same' padding (one more row and column after than before).
        { x: [2, 4, 5, 16], f: [2, 2, 16, 24], pad: 'same' },
      ];
      for (const c of cases) {
        const x = randomArray(rng, c.x);
        const f = randomArray(rng, c.f);
        const co = c.f[3] as number;
        const bias = randomArray(rng, [co]);
        const pad = c.pad as 'same';
        await compare(() => tf.conv2d(tf.tensor4d(x, c.x as never), tf.tensor4d(f, c.f as never), 1, pad));
        for (const activation of ['linear', 'relu'] as const) {
          await compare(() =>
            tf.fused.conv2d({
              x: tf.tensor4d(x, c.x as never),
              filter: tf.tensor4d(f, c.f as never),
              bias: tf.tensor1d(bias),
              strides: 1,
              pad,
              activation,
            }),
          );
        }
      }
      const calls = spy.mock.calls.length;
      expect(calls).toBeGreaterThanOrEqual(cases.length * 3);
      // The input gradient: a convolution of dy (16 channels) with the flipped filter, 16 output channels.
      const xs = randomArray(rng, [4, 7, 7, 16]);
      const fs = randomArray(rng, [3, 3, 16, 16]);
      const ws = randomArray(rng, [4, 7, 7, 16]);
      await compare(() =>
        tf.grad((z: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.conv2d(z as tf.Tensor4D, tf.tensor4d(fs, [3, 3, 16, 16]), 1, 'same'),
              tf.tensor4d(ws, [4, 7, 7, 16]),
            ),
          ),
        )(tf.tensor4d(xs, [4, 7, 7, 16])),
      );
      expect(spy.mock.calls.length).toBeGreaterThan(calls + 1);
    } finally {
      spy.mockRestore();
    }
  });

  it('matches cpu for 3x3 convolutions in the F(4x4, 3x3) Winograd kernel: forward, fused, and input gradients', async () => {
    await tf.setBackend('wasm');
    const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
    expect(simd).toBeDefined();
    const spy = vi.spyOn(simd as NonNullable<typeof simd>, 'convWino4');
    const small = vi.spyOn(simd as NonNullable<typeof simd>, 'convWino');
    const direct = vi.spyOn(simd as NonNullable<typeof simd>, 'convDirect');
    try {
      const rng = new Rng(47);
      const cases: ConvCase[] = [
        // 4 tiles an image, 2 a row: one band of two tile rows; 17 images: uneven chunks.
        { x: [17, 8, 8, 16], co: 8, pad: 'same' },
        // 5 tiles a row, 15 an image: bands of 5 (blocks of 4 tiles, the second overlapping the first).
        { x: [2, 12, 20, 24], co: 16, pad: 'same' },
        // 'valid': an 8 x 12 output (3 tiles a row, 6 an image: bands of 4, the last overlapping).
        { x: [2, 10, 14, 20], co: 24, pad: 'valid' },
        // Explicit, unequal padding.
        {
          x: [2, 8, 8, 16],
          co: 8,
          pad: [
            [0, 0],
            [2, 0],
            [0, 2],
            [0, 0],
          ],
        },
      ];
      await checkConvCases(rng, cases, WINOGRAD4_TOL);
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(cases.length * 3);
      expect(small).not.toHaveBeenCalled();
      expect(direct).not.toHaveBeenCalled();
      // The input gradient: a 3x3 convolution of dy (32 channels) with the flipped filter, 16 outputs.
      const calls = spy.mock.calls.length;
      await checkInputGradient(rng, [3, 8, 12, 16], 32, WINOGRAD4_TOL);
      expect(spy.mock.calls.length).toBeGreaterThan(calls + 1);
    } finally {
      spy.mockRestore();
      small.mockRestore();
      direct.mockRestore();
    }
  });

  it('matches cpu for 3x3 convolutions in the F(2x2, 3x3) Winograd kernel: forward, fused, and input gradients', async () => {
    await tf.setBackend('wasm');
    const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
    expect(simd).toBeDefined();
    const spy = vi.spyOn(simd as NonNullable<typeof simd>, 'convWino');
    const direct = vi.spyOn(simd as NonNullable<typeof simd>, 'convDirect');
    // F(2x2, 3x3) only: the 8x8 cases below would otherwise take F(4x4, 3x3).
    const large = setWinogradLargeTiles(false);
    try {
      const rng = new Rng(43);
      const cases: ConvCase[] = [
        // 4 tiles a row: one block.
        { x: [3, 8, 8, 16], co: 8, pad: 'same' },
        // 7 tiles a row (mnist-cnn's second layer): a block overlapping the one before; 17 images: chunks
        // of 2 and a last one of 1.
        { x: [17, 14, 14, 32], co: 16, pad: 'same' },
        // 'valid': an 8 x 10 output; 20 input and 24 output channels.
        { x: [2, 10, 12, 20], co: 24, pad: 'valid' },
        // Explicit, unequal padding.
        {
          x: [2, 6, 10, 16],
          co: 8,
          pad: [
            [0, 0],
            [2, 0],
            [0, 2],
            [0, 0],
          ],
        },
      ];
      await checkConvCases(rng, cases);
      expect(spy.mock.calls.length).toBeGreaterThanOrEqual(cases.length * 3);
      expect(direct).not.toHaveBeenCalled();
      // The input gradient: a 3x3 convolution of dy (16 channels) with the flipped filter.
      const calls = spy.mock.calls.length;
      await checkInputGradient(rng, [4, 8, 10, 16], 16);
      expect(spy.mock.calls.length).toBeGreaterThan(calls + 1);
    } finally {
      setWinogradLargeTiles(large);
      spy.mockRestore();
      direct.mockRestore();
    }
  });

  it('matches cpu for 3x3 filter gradients in the F(4x4, 3x3) Winograd kernel', async () => {
    const rng = new Rng(45);
    const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
    const spy = vi.spyOn(simd as NonNullable<typeof simd>, 'filterWino4');
    const small = vi.spyOn(simd as NonNullable<typeof simd>, 'filterWino');
    try {
      const cases: FilterCase[] = [
        // 16 tiles an image (cifar-vgg-small's 16x16 layers).
        { x: [3, 16, 16, 16], k: [3, 3], co: 8, pad: 'same' },
        // 4 tiles an image: blocks of a chunk's 3 images, the last chunk's of 1.
        { x: [19, 8, 8, 16], k: [3, 3], co: 8, pad: 'same' },
        // 17 images: chunks of 2 and a last one of 1.
        { x: [17, 16, 16, 32], k: [3, 3], co: 16, pad: 'same' },
        // 'valid': a 16 x 20 output; 20 input and 24 output channels.
        { x: [2, 18, 22, 20], k: [3, 3], co: 24, pad: 'valid' },
        // Explicit, unequal padding.
        {
          x: [2, 16, 16, 16],
          k: [3, 3],
          co: 8,
          pad: [
            [0, 0],
            [2, 0],
            [0, 2],
            [0, 0],
          ],
        },
      ];
      await checkFilterKernel(
        rng,
        cases,
        'F(4x4) filter kernel',
        conv2DBackpropFilterWinograd,
        WINOGRAD4_TOL,
      );
      // Smaller blocks than the default 512 KB of transforms: 2 of an image's 3 tile rows (120 KB each), the
      // last block of 1.
      await checkFilterKernel(
        rng,
        [{ x: [1, 12, 32, 48], k: [3, 3], co: 56, pad: 'same' }],
        'F(4x4) filter kernel, blocks of 2 tile rows',
        (b, x, dy, info) => conv2DBackpropFilterWinograd(b, x, dy, info, 256 * 1024),
        WINOGRAD4_TOL,
      );
      // Blocks of 2 images (4 tile rows of 6912 bytes of transforms) in chunks of 3, so each chunk ends with
      // a block of 1 image; the last chunk (19 = 6 x 3 + 1) of 1.
      await checkFilterKernel(
        rng,
        [{ x: [19, 8, 8, 16], k: [3, 3], co: 8, pad: 'same' }],
        'F(4x4) filter kernel, blocks of 2 images',
        (b, x, dy, info) => conv2DBackpropFilterWinograd(b, x, dy, info, 4 * 36 * 2 * (16 + 8) * 4),
        WINOGRAD4_TOL,
      );
      expect(spy).toHaveBeenCalledTimes(cases.length + 2);
      expect(small).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
      small.mockRestore();
    }
  });

  it('matches cpu for 3x3 filter gradients in the F(2x2, 3x3) Winograd kernel', async () => {
    const rng = new Rng(44);
    // F(2x2, 3x3) only: the 16x16 case below would otherwise take F(4x4, 3x3).
    const large = setWinogradLargeTiles(false);
    try {
      const cases: FilterCase[] = [
        { x: [3, 8, 8, 16], k: [3, 3], co: 8, pad: 'same' },
        // 17 images: chunks of 2 and a last one of 1; 7 x 7 tiles an image.
        { x: [17, 14, 14, 32], k: [3, 3], co: 16, pad: 'same' },
        // 'valid': an 8 x 10 output; 20 input and 24 output channels.
        { x: [2, 10, 12, 20], k: [3, 3], co: 24, pad: 'valid' },
        // Blocks of 2 tile rows (a tile row's transforms are 106 KB of the 256 KB a block may use), the
        // last block of 1.
        { x: [1, 10, 32, 48], k: [3, 3], co: 56, pad: 'same' },
        // 2 x 2 tiles (cifar-vgg-small's last layer).
        { x: [5, 4, 4, 16], k: [3, 3], co: 8, pad: 'same' },
        // Whole 4x4 tiles, which F(4x4, 3x3) takes when allowed.
        { x: [2, 16, 16, 16], k: [3, 3], co: 8, pad: 'same' },
        // Explicit, unequal padding.
        {
          x: [2, 6, 10, 16],
          k: [3, 3],
          co: 8,
          pad: [
            [0, 0],
            [2, 0],
            [0, 2],
            [0, 0],
          ],
        },
      ];
      await checkFilterKernel(rng, cases, 'Winograd filter kernel', conv2DBackpropFilterWinograd);
      // What it does not take: odd outputs, other filters, strides, few channels.
      tf.tidy(() => {
        const b = tf.backend();
        const odd = tf.backend_util.computeConv2DInfo([1, 7, 7, 16], [3, 3, 16, 8], 1, 1, 'same');
        const five = tf.backend_util.computeConv2DInfo([1, 8, 8, 16], [5, 5, 16, 8], 1, 1, 'same');
        const few = tf.backend_util.computeConv2DInfo([1, 8, 8, 4], [3, 3, 4, 8], 1, 1, 'same');
        expect(
          conv2DBackpropFilterWinograd(b, tf.ones([1, 7, 7, 16]), tf.ones([1, 7, 7, 8]), odd),
        ).toBeUndefined();
        expect(
          conv2DBackpropFilterWinograd(b, tf.ones([1, 8, 8, 16]), tf.ones([1, 8, 8, 8]), five),
        ).toBeUndefined();
        expect(
          conv2DBackpropFilterWinograd(b, tf.ones([1, 8, 8, 4]), tf.ones([1, 8, 8, 8]), few),
        ).toBeUndefined();
      });
    } finally {
      setWinogradLargeTiles(large);
    }
  });

  it('matches cpu for stride-1 filter gradients on random shapes (heap matrix products)', async () => {
    const rng = new Rng(12);
    let direct = 0;
    for (let trial = 0; trial < 16; trial++) {
      const k: [number, number] = trial < 2 ? [3, 3] : [1 + rng.int(5), 1 + rng.int(5)];
      // Explicit, asymmetric padding in the last two trials (rows and images share their zero padding
      // on the grid, so uneven pads are where an off-by-one would show).
      const pad: 'same' | 'valid' | number[][] =
        trial >= 14
          ? [
              [0, 0],
              [rng.int(3), rng.int(3)],
              [rng.int(3), rng.int(3)],
              [0, 0],
            ]
          : trial < 2 || rng.next() < 0.6
            ? 'same'
            : 'valid';
      // 10..20 pixels; 1..20 channels: both the gathered (< 16 channels) and the per-tap products; the
      // first two cases have 17 images of 16 x 16 grid positions.
      const xShape: [number, number, number, number] = [
        trial < 2 ? 17 : 1 + rng.int(5),
        trial < 2 ? 14 : 10 + rng.int(11),
        trial < 2 ? 14 : 10 + rng.int(11),
        trial === 1 ? 1 + rng.int(15) : trial < 4 ? 16 + rng.int(5) : 1 + rng.int(20),
      ];
      const fShape: [number, number, number, number] = [k[0], k[1], xShape[3], 1 + rng.int(12)];
      const info = tf.backend_util.computeConv2DInfo(
        xShape,
        fShape,
        1,
        1,
        pad as Parameters<typeof tf.backend_util.computeConv2DInfo>[4],
      );
      const x = randomArray(rng, xShape);
      const dy = randomArray(rng, info.outShape);
      const grad = () =>
        tf
          .engine()
          .runKernel(
            'Conv2DBackpropFilter',
            { x: tf.tensor4d(x, xShape), dy: tf.tensor4d(dy, info.outShape) },
            { strides: 1, pad, dataFormat: 'NHWC', filterShape: fShape },
          ) as tf.Tensor;
      await compare(grad);
      if (trial < 4 || trial >= 14) {
        // Without the SIMD kernels (x is laid out on the grid in JavaScript): the same values.
        setSimdKernelsEnabled(false);
        try {
          await compare(grad);
        } finally {
          setSimdKernelsEnabled(true);
        }
      }
      // Count the cases the heap path took (the others use the convolution formulation).
      await tf.setBackend('wasm');
      const xt = tf.tensor4d(x, xShape);
      const dyt = tf.tensor4d(dy, info.outShape);
      const out = conv2DBackpropFilterGemm(tf.backend(), xt, dyt, info);
      if (out !== undefined) {
        direct++;
        tf.engine().makeTensorFromTensorInfo(out).dispose();
        // The XNNPACK formulation itself (the kernel may have taken the SIMD taps instead).
        await compare(() => {
          if (tf.getBackend() === 'cpu') return grad();
          const got = conv2DBackpropFilterGemm(
            tf.backend(),
            tf.tensor4d(x, xShape),
            tf.tensor4d(dy, info.outShape),
            info,
          );
          return tf.engine().makeTensorFromTensorInfo(got as tf.TensorInfo);
        });
        if (xShape[3] < 16) {
          // The gathered rows in chunks of two images, summed: the same values.
          await compare(() => {
            if (tf.getBackend() === 'cpu') return grad();
            const chunked = conv2DBackpropFilterGemm(
              tf.backend(),
              tf.tensor4d(x, xShape),
              tf.tensor4d(dy, info.outShape),
              info,
              k[0] * k[1] * xShape[3] * (2 * filterGrid(info).imageStride + filterGrid(info).tail),
            );
            return tf.engine().makeTensorFromTensorInfo(chunked as tf.TensorInfo);
          });
        }
      }
      tf.dispose([xt, dyt]);
    }
    expect(direct).toBeGreaterThanOrEqual(9);
  });

  it('matches cpu for the SIMD filter-gradient rows (fewer than 16 input channels, stride 1)', async () => {
    await tf.setBackend('wasm');
    expect(simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm)).toBeDefined();
    const rng = new Rng(21);
    // co 32 and 64 (8 vectors at a time), 16 and 48 (4), 4, 8 and 12 (1); 'same' and 'valid'; odd and
    // non-square filters; one image and several.
    const cases: FilterCase[] = [
      { x: [3, 12, 12, 1], k: [3, 3], co: 32, pad: 'same' },
      { x: [2, 9, 11, 3], k: [3, 3], co: 64, pad: 'same' },
      { x: [1, 10, 10, 2], k: [5, 3], co: 16, pad: 'valid' },
      { x: [2, 8, 7, 15], k: [2, 2], co: 48, pad: 'same' },
      { x: [4, 6, 6, 1], k: [1, 1], co: 4, pad: 'valid' },
      { x: [2, 11, 9, 5], k: [4, 2], co: 8, pad: 'same' },
      { x: [1, 7, 13, 3], k: [3, 5], co: 12, pad: 'valid' },
    ];
    await checkFilterKernel(rng, cases, 'SIMD rows kernel', conv2DBackpropFilterRows);
    // Where it does not apply, it says so and the XNNPACK formulations run.
    const info = tf.backend_util.computeConv2DInfo([1, 6, 6, 16], [3, 3, 16, 8], 1, 1, 'same');
    const info2 = tf.backend_util.computeConv2DInfo([1, 6, 6, 2], [3, 3, 2, 6], 1, 1, 'same');
    const info3 = tf.backend_util.computeConv2DInfo([1, 6, 6, 2], [3, 3, 2, 8], 2, 1, 'same');
    tf.tidy(() => {
      expect(
        conv2DBackpropFilterRows(tf.backend(), tf.ones([1, 6, 6, 16]), tf.ones([1, 6, 6, 8]), info),
      ).toBeUndefined();
      expect(
        conv2DBackpropFilterRows(tf.backend(), tf.ones([1, 6, 6, 2]), tf.ones([1, 6, 6, 6]), info2),
      ).toBeUndefined();
      expect(
        conv2DBackpropFilterRows(tf.backend(), tf.ones([1, 6, 6, 2]), tf.ones([1, 3, 3, 8]), info3),
      ).toBeUndefined();
    });
  });

  it('matches cpu for the SIMD filter-gradient taps (channels multiples of 4 and 8, stride 1)', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(22);
    // 'same', 'valid' and explicit uneven padding (taps whose window leaves the image on one side), even
    // and non-square filters, 1x1, a filter larger than the image.
    const cases: FilterCase[] = [
      { x: [3, 7, 7, 4], k: [3, 3], co: 8, pad: 'same' },
      { x: [2, 9, 6, 8], k: [3, 3], co: 16, pad: 'valid' },
      { x: [2, 5, 8, 12], k: [2, 4], co: 24, pad: 'same' },
      { x: [1, 6, 6, 4], k: [1, 1], co: 8, pad: 'valid' },
      { x: [2, 3, 3, 4], k: [5, 5], co: 8, pad: 'same' },
      // Rows wide enough that the kernel works in blocks of 2 output rows (30 * (64 + 72) * 4 bytes a row
      // against a 32 KB budget), the last block shorter; the taps' rows straddle the blocks.
      { x: [1, 7, 30, 64], k: [3, 3], co: 72, pad: 'same' },
      {
        x: [2, 6, 7, 8],
        k: [3, 2],
        co: 8,
        pad: [
          [0, 0],
          [2, 0],
          [0, 1],
          [0, 0],
        ],
      },
    ];
    // One XNNPACK thread here (tfjs's Node default), so the kernel runs on this thread alone.
    await checkFilterKernel(rng, cases, 'SIMD taps kernel', conv2DBackpropFilterTaps);
    // Channel counts it does not take, and strides above 1.
    tf.tidy(() => {
      const i1 = tf.backend_util.computeConv2DInfo([1, 6, 6, 6], [3, 3, 6, 8], 1, 1, 'same');
      const i2 = tf.backend_util.computeConv2DInfo([1, 6, 6, 4], [3, 3, 4, 12], 1, 1, 'same');
      const i3 = tf.backend_util.computeConv2DInfo([1, 6, 6, 4], [3, 3, 4, 8], 2, 1, 'same');
      const b = tf.backend();
      expect(conv2DBackpropFilterTaps(b, tf.ones([1, 6, 6, 6]), tf.ones([1, 6, 6, 8]), i1)).toBeUndefined();
      expect(conv2DBackpropFilterTaps(b, tf.ones([1, 6, 6, 4]), tf.ones([1, 6, 6, 12]), i2)).toBeUndefined();
      expect(conv2DBackpropFilterTaps(b, tf.ones([1, 6, 6, 4]), tf.ones([1, 3, 3, 8]), i3)).toBeUndefined();
    });
  });

  it('matches cpu for 2x2 max-pool gradients on multiples of 4 channels, with and without the SIMD kernel', async () => {
    const rng = new Rng(22);
    const cases: Array<{ x: number[]; pad: 'same' | 'valid' }> = [
      { x: [2, 8, 8, 4], pad: 'valid' },
      { x: [3, 6, 10, 32], pad: 'valid' },
      // A last row and column no window covers: they must get zeros.
      { x: [2, 7, 9, 8], pad: 'valid' },
      { x: [1, 5, 5, 12], pad: 'valid' },
    ];
    try {
      for (const simd of [true, false]) {
        setSimdKernelsEnabled(simd);
        for (const c of cases) {
          const values = randomArray(rng, c.x);
          // ReLU-like zeros make ties (whole windows of zeros among them): the first maximum of a window
          // gets the gradient, the others none.
          for (let i = 0; i < values.length; i++) if ((values[i] as number) < 0.3) values[i] = 0;
          // A NaN in the first window of channels 1 and 2 (at its first and second position): skipped, as
          // the cpu backend skips it.
          values[1] = Number.NaN;
          values[(c.x[3] as number) + 2] = Number.NaN;
          const outShape = tf.backend_util.computePool2DInfo(
            c.x as [number, number, number, number],
            2,
            2,
            1,
            c.pad,
          ).outShape;
          const dy = randomArray(rng, outShape);
          // dx holds garbage from earlier tensors unless every position is written: run it twice.
          for (let round = 0; round < 2; round++) {
            await compare(() => {
              const x = tf.tensor4d(values, c.x as [number, number, number, number]);
              return tf.grad((z: tf.Tensor) =>
                tf.mul(tf.maxPool(z as tf.Tensor4D, 2, 2, c.pad), tf.tensor(dy, outShape)),
              )(x);
            });
          }
        }
      }
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('matches cpu for 2x2 stride-2 max pooling in the SIMD kernel (odd sizes, NaN), and falls back for others', async () => {
    const rng = new Rng(31);
    const noFallback = () => {
      throw new Error('the SIMD max pooling should apply');
    };
    const cases: Array<{ x: number[]; f: number; s: number; pad: 'same' | 'valid'; simd: boolean }> = [
      { x: [2, 8, 8, 4], f: 2, s: 2, pad: 'valid', simd: true },
      // A last row and column no window covers ('valid' on odd sizes): not read.
      { x: [3, 7, 9, 8], f: 2, s: 2, pad: 'valid', simd: true },
      { x: [1, 5, 3, 36], f: 2, s: 2, pad: 'valid', simd: true },
      // 'same' on even sizes has no padding: the SIMD kernel applies.
      { x: [2, 6, 10, 12], f: 2, s: 2, pad: 'same', simd: true },
      // 'same' on odd sizes pads the last window, channels not a multiple of 4, other windows: fallback.
      { x: [2, 7, 9, 8], f: 2, s: 2, pad: 'same', simd: false },
      { x: [2, 8, 8, 6], f: 2, s: 2, pad: 'valid', simd: false },
      { x: [2, 9, 9, 4], f: 3, s: 2, pad: 'same', simd: false },
      { x: [2, 6, 6, 4], f: 2, s: 1, pad: 'valid', simd: false },
    ];
    for (const c of cases) {
      const values = randomArray(rng, c.x);
      // Ties (ReLU-like zeros); for the SIMD kernel also a NaN (skipped, as the cpu backend skips it; the
      // stock kernel propagates it) and a window of NaNs (-Infinity).
      for (let i = 0; i < values.length; i++) if ((values[i] as number) < 0.3) values[i] = 0;
      if (c.simd) {
        values[5] = Number.NaN;
        const ch = c.x[3] as number;
        const row = (c.x[2] as number) * ch;
        for (const at of [0, ch, row, row + ch]) values[at + 1] = Number.NaN;
      }
      const shape = c.x as [number, number, number, number];
      const ref = await on('cpu', () => tf.maxPool(tf.tensor4d(values, shape), c.f, c.s, c.pad));
      const got = await on('wasm', () => tf.maxPool(tf.tensor4d(values, shape), c.f, c.s, c.pad));
      expect(got.shape).toEqual(ref.shape);
      if (c.simd) {
        expect(Array.from(got.values)).toEqual(Array.from(ref.values));
        // Called directly with a fallback that throws: the SIMD kernel really computed it.
        const direct = await on('wasm', () => {
          const x = tf.tensor4d(values, shape);
          const out = maxPool(noFallback, {
            inputs: { x },
            backend: tf.backend(),
            attrs: { filterSize: c.f, strides: c.s, pad: c.pad },
          });
          return tf.engine().makeTensorFromTensorInfo(out);
        });
        expect(Array.from(direct.values)).toEqual(Array.from(ref.values));
      } else {
        expect(Array.from(got.values)).toEqual(Array.from(ref.values));
        await tf.setBackend('wasm');
        const x = tf.tensor4d(values, shape);
        expect(() =>
          maxPool(noFallback, {
            inputs: { x },
            backend: tf.backend(),
            attrs: { filterSize: c.f, strides: c.s, pad: c.pad },
          }),
        ).toThrow(/should apply/);
        x.dispose();
      }
    }
  });

  it("frees the max-pool kernels' outputs when their SIMD kernel fails", async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const kernels = simdKernels((backend as unknown as { wasm: unknown }).wasm) as NonNullable<
      ReturnType<typeof simdKernels>
    >;
    const original = { pool: kernels.maxPool2x2, grad: kernels.maxPoolGrad2x2 };
    const fail = () => {
      throw new Error('kernel trapped');
    };
    kernels.maxPool2x2 = fail;
    kernels.maxPoolGrad2x2 = fail;
    const x = tf.ones([2, 4, 4, 4]);
    const dy = tf.ones([2, 2, 2, 4]);
    try {
      const before = backend.numDataIds();
      expect(() => tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid')).toThrow(/kernel trapped/);
      expect(() =>
        tf
          .engine()
          .runKernel(
            'MaxPoolGrad',
            { dy, input: x, output: dy },
            { filterSize: 2, strides: 2, pad: 'valid' },
          ),
      ).toThrow(/kernel trapped/);
      expect(backend.numDataIds()).toBe(before);
    } finally {
      kernels.maxPool2x2 = original.pool;
      kernels.maxPoolGrad2x2 = original.grad;
      tf.dispose([x, dy]);
    }
  });

  it('matches cpu for maxPool gradients, including ties and overlapping padded windows', async () => {
    const rng = new Rng(11);
    const cases: Array<{ x: number[]; f: [number, number]; s: [number, number]; pad: 'same' | 'valid' }> = [
      { x: [2, 8, 8, 3], f: [2, 2], s: [2, 2], pad: 'valid' },
      { x: [2, 7, 9, 2], f: [3, 3], s: [2, 2], pad: 'same' },
      { x: [1, 6, 6, 4], f: [3, 2], s: [1, 2], pad: 'valid' },
      { x: [3, 5, 5, 1], f: [2, 2], s: [1, 1], pad: 'same' },
      // 2x2, stride 2 (the disjoint-window path), with a last row and column no window covers.
      { x: [2, 7, 9, 5], f: [2, 2], s: [2, 2], pad: 'valid' },
      { x: [2, 7, 9, 3], f: [2, 2], s: [2, 2], pad: 'same' },
    ];
    for (const c of cases) {
      const values = randomArray(rng, c.x);
      // ReLU-like zeros make ties: the first maximum of a window must get the whole gradient.
      for (let i = 0; i < values.length; i++) if ((values[i] as number) < 0.3) values[i] = 0;
      const outShape = tf.backend_util.computePool2DInfo(
        c.x as [number, number, number, number],
        c.f,
        c.s,
        1,
        c.pad,
      ).outShape;
      const dy = randomArray(rng, outShape);
      await compare(() => {
        const x = tf.tensor4d(values, c.x as [number, number, number, number]);
        return tf.grad((z: tf.Tensor) =>
          tf.mul(tf.maxPool(z as tf.Tensor4D, c.f, c.s, c.pad), tf.tensor(dy, outShape)),
        )(x);
      });
    }
  });

  it('matches cpu for sum and mean over leading axes, and falls back for other axes', async () => {
    const rng = new Rng(12);
    const x = randomArray(rng, [6, 5, 4, 3]);
    const shape = [6, 5, 4, 3];
    for (const axis of [[0], [0, 1], [0, 1, 2], [1, 0], [1], [2, 3], [0, 2], -1]) {
      for (const keepDims of [false, true]) {
        await compare(() => tf.sum(tf.tensor(x, shape), axis, keepDims));
        await compare(() => tf.mean(tf.tensor(x, shape), axis, keepDims));
      }
    }
    await compare(() => tf.sum(tf.tensor(x, shape)));
    // Kept sizes that are multiples of 16 and of 4 go to the SIMD column sums, in blocks of 64 rows (the
    // 130 x 2 rows end in a partial block), also with large offsets (float64 accumulation).
    for (const s2 of [
      [130, 2, 32],
      [67, 3, 12],
      [5, 4],
    ]) {
      const big = randomArray(rng, s2).map((v, i) => v + (i % 3) * 1000);
      for (const axis of [[0], [0, 1]]) {
        if (axis.length >= s2.length) continue;
        await compare(() => tf.sum(tf.tensor(big, s2), axis));
        await compare(() => tf.mean(tf.tensor(big, s2), axis, true));
      }
    }
  });

  it('matches cpu for training-mode batch-norm gradients (fused kernel) and mean gradients', async () => {
    const rng = new Rng(15);
    const x3 = randomArray(rng, [2, 3, 4]);
    // (tfjs cannot differentiate batchNorm without a scale on any backend: its gradient saves the missing
    // input; tfjs-layers always passes gamma.)
    // Channels that are multiples of 4 go to the SIMD kernels (forward and the gradient's sums, in blocks
    // of 64 rows); the others to JavaScript and the backend's own kernel.
    for (const shape of [
      [3, 5, 4, 6],
      [2, 3, 3, 1],
      [7, 9],
      [4, 2, 5, 3],
      [3, 5, 7, 8],
      [130, 4],
    ]) {
      const c = shape[shape.length - 1] as number;
      const x = randomArray(rng, shape);
      const gamma = randomArray(rng, [c]);
      const beta = randomArray(rng, [c]);
      const w = randomArray(rng, [...shape]);
      // What tfjs-layers' BatchNormalization computes in training: batch statistics, then batchNorm.
      const loss = (xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const axes = shape.slice(0, -1).map((_, i) => i);
        const { mean, variance } = tf.moments(xs, axes);
        const y = tf.batchNorm(xs, mean, variance, b, g, 1e-3);
        return tf.sum(tf.mul(y, tf.tensor(w, [...shape])));
      };
      for (const wrt of [0, 1, 2]) {
        await compare(() => {
          const inputs = [tf.tensor(x, [...shape]), tf.tensor1d(gamma), tf.tensor1d(beta)];
          return tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => loss(a, g, b))(inputs)[
            wrt
          ] as tf.Tensor;
        });
      }
    }
    // On wasm the fused kernel ran (on cpu, above, tfjs's own gradient did); unregistering restores it.
    await tf.setBackend('wasm');
    const profile = await tf.profile(() =>
      tf.grad((z: tf.Tensor) => {
        const { mean, variance } = tf.moments(z, [0]);
        return tf.sum(tf.batchNorm(z, mean, variance, tf.zeros([3]), tf.ones([3])));
      })(tf.tensor2d(x3, [8, 3])),
    );
    tf.dispose(profile.result as tf.Tensor);
    expect(profile.kernels.map((k) => k.name)).toContain('_DistilljsFusedBatchNormGrad');
    const ours = tf.getGradient('FusedBatchNorm');
    unregisterWasmTrainingKernels();
    expect(tf.getGradient('FusedBatchNorm')).not.toBe(ours);
    expect(tf.getKernel('_DistilljsFusedBatchNormGrad', 'wasm')).toBeUndefined();
    registerWasmTrainingKernels();
    await compare(() => tf.grad((z: tf.Tensor) => tf.mean(tf.mul(z, z), [0, 2]))(tf.tensor(x3, [2, 3, 4])));
  });

  it('matches cpu for the fused training-mode batch-norm gradient, kernel and layer', async () => {
    const rng = new Rng(24);
    // c a multiple of 4 (SIMD sums and dx pass, 70 rows: a partial 64-row block) and not (JavaScript).
    for (const shape of [
      [2, 5, 7, 8],
      [70, 12],
      [3, 4, 4, 3],
    ]) {
      const c = shape[shape.length - 1] as number;
      const x = randomArray(rng, shape).map((v) => 2 * v + 1);
      const dy = randomArray(rng, shape);
      const gamma = randomArray(rng, [c]);
      const eps = 1e-5;
      const axes = shape.slice(0, -1).map((_, i) => i);
      const inputs = () => {
        const xt = tf.tensor(x, shape);
        const { mean, variance } = tf.moments(xt, axes);
        return { x: xt, mean, variance, scale: tf.tensor1d(gamma), dy: tf.tensor(dy, shape) };
      };
      for (const output of [0, 1, 2]) {
        await compare(() => {
          const i = inputs();
          if (tf.getBackend() === 'cpu') {
            // The closed form of BATCH_NORM_TRAINING_GRAD_KERNEL from tfjs ops.
            const n = tf.util.sizeFromShape(shape) / c;
            const r = tf.rsqrt(tf.add(i.variance, eps));
            const xc = tf.sub(i.x, i.mean);
            const sumDy = tf.sum(i.dy, axes);
            const sumDyXc = tf.sum(tf.mul(i.dy, xc), axes);
            const dx = tf.mul(
              tf.mul(i.scale, r),
              tf.sub(tf.sub(i.dy, tf.div(sumDy, n)), tf.mul(xc, tf.div(tf.mul(tf.square(r), sumDyXc), n))),
            );
            return [dx, tf.mul(r, sumDyXc), sumDy][output] as tf.Tensor;
          }
          const outs = tf
            .engine()
            .runKernel('DistilljsBatchNormTrainingGrad', i, { varianceEpsilon: eps }) as tf.Tensor[];
          return outs[output] as tf.Tensor;
        });
      }
    }
    // The zoo's batch-norm layer in training mode: on wasm it runs the kernel, and its gradients match
    // tfjs-layers' own layer on cpu.
    const shape = [16, 6, 6, 8];
    const x = randomArray(rng, shape);
    const w = randomArray(rng, shape);
    const gammaBeta = [randomArray(rng, [8]).map((v) => 1 + 0.3 * v), randomArray(rng, [8])];
    const layerGrad = (fused: boolean) => {
      const layer = withGammaBeta(
        fused
          ? batchNormalization({ momentum: 0.9, epsilon: 1e-5 })
          : tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
        shape,
        gammaBeta[0] as Float32Array,
        gammaBeta[1] as Float32Array,
      );
      return tf.grad((xs: tf.Tensor) =>
        tf.sum(tf.mul(layer.apply(xs, { training: true }) as tf.Tensor, tf.tensor(w, shape))),
      )(tf.tensor(x, shape));
    };
    const names = await layerGradAgainstCpu(layerGrad);
    expect(names).toContain('DistilljsBatchNormTrainingGrad');
    expect(names).toContain('DistilljsBatchNormMoments');
  });

  it('matches cpu for the fused batch norm + ReLU and its gradient, SIMD on and off, kernel and layer', async () => {
    const rng = new Rng(26);
    const eps = 1e-5;
    // c a multiple of 4 (SIMD; 70 and 130 rows leave partial 64-row blocks) and not (JavaScript).
    const shapes = [
      [2, 5, 7, 8],
      [70, 12],
      [130, 16],
      [3, 4, 4, 3],
    ];
    for (const shape of shapes) {
      const c = shape[shape.length - 1] as number;
      const axes = shape.slice(0, -1).map((_, i) => i);
      const x = randomArray(rng, shape).map((v) => 2 * v + 1);
      const dy = randomArray(rng, shape);
      const gamma = randomArray(rng, [c]).map((v) => 1 + 0.5 * v);
      const beta = randomArray(rng, [c]).map((v) => 0.5 * v);
      // The batch statistics, computed once here (the backends' own reductions differ in the last bits
      // with SIMD on and off).
      const rows = x.length / c;
      const mean = new Float32Array(c);
      const variance = new Float32Array(c);
      for (let k = 0; k < c; k++) {
        let m = 0;
        for (let r = 0; r < rows; r++) m += x[r * c + k] as number;
        m /= rows;
        let v = 0;
        for (let r = 0; r < rows; r++) v += ((x[r * c + k] as number) - m) ** 2;
        mean[k] = m;
        variance[k] = v / rows;
      }
      const inputs = () => ({
        x: tf.tensor(x, shape),
        mean: tf.tensor1d(mean),
        variance: tf.tensor1d(variance),
        offset: tf.tensor1d(beta),
        scale: tf.tensor1d(gamma),
      });
      const forward = () => {
        const i = inputs();
        if (tf.getBackend() === 'cpu')
          return tf.relu(tf.batchNorm(i.x, i.mean, i.variance, i.offset, i.scale, eps));
        return tf.engine().runKernel('DistilljsBatchNormRelu', i, { varianceEpsilon: eps }) as tf.Tensor;
      };
      const gradient = (output: number) => () => {
        const i = inputs();
        const d = tf.tensor(dy, shape);
        if (tf.getBackend() === 'cpu') {
          // The ReLU's gradient, then the closed form of BATCH_NORM_TRAINING_GRAD_KERNEL, from tfjs ops.
          const masked = tf.mul(
            d,
            tf.step(tf.relu(tf.batchNorm(i.x, i.mean, i.variance, i.offset, i.scale, eps))),
          );
          const n = tf.util.sizeFromShape(shape) / c;
          const r = tf.rsqrt(tf.add(i.variance, eps));
          const xc = tf.sub(i.x, i.mean);
          const sumDy = tf.sum(masked, axes);
          const sumDyXc = tf.sum(tf.mul(masked, xc), axes);
          const dx = tf.mul(
            tf.mul(i.scale, r),
            tf.sub(tf.sub(masked, tf.div(sumDy, n)), tf.mul(xc, tf.div(tf.mul(tf.square(r), sumDyXc), n))),
          );
          return [dx, tf.mul(r, sumDyXc), sumDy][output] as tf.Tensor;
        }
        const outs = tf
          .engine()
          .runKernel(
            'DistilljsBatchNormTrainingGrad',
            { ...i, dy: d },
            { varianceEpsilon: eps, relu: true },
          ) as tf.Tensor[];
        return outs[output] as tf.Tensor;
      };
      const results: Float32Array[][] = [];
      for (const simd of [true, false]) {
        setSimdKernelsEnabled(simd);
        try {
          await compare(forward);
          for (const output of [0, 1, 2]) await compare(gradient(output));
          await tf.setBackend('wasm');
          results.push(
            await Promise.all(
              [forward, gradient(0), gradient(1), gradient(2)].map(async (f) => {
                const t = tf.tidy(f);
                const v = (await t.data()) as Float32Array;
                t.dispose();
                return v;
              }),
            ),
          );
        } finally {
          setSimdKernelsEnabled(true);
        }
      }
      const [withSimd, withoutSimd] = results as [Float32Array[], Float32Array[]];
      // The forward pass in SIMD and in JavaScript: the same float32 operations, the same bits; about half
      // of the values are clamped.
      expect(Array.from(withSimd[0] as Float32Array)).toEqual(Array.from(withoutSimd[0] as Float32Array));
      const zeros = Array.from(withSimd[0] as Float32Array).filter((v) => v === 0).length;
      expect(zeros).toBeGreaterThan(tf.util.sizeFromShape(shape) / 5);
      expect(zeros).toBeLessThan((4 * tf.util.sizeFromShape(shape)) / 5);
      for (const k of [1, 2, 3]) expectClose(withSimd[k] as Float32Array, withoutSimd[k] as Float32Array);
    }
    // A NaN input: NaN forward where the cpu ReLU gives NaN, and the gradient NaN wherever the ReLU's own
    // gradient followed by the unmasked kernel gives NaN (the mask is NaN there, as step(NaN)).
    await tf.setBackend('wasm');
    const shape = [6, 8];
    const x = randomArray(rng, shape);
    x[11] = Number.NaN;
    const nanPattern = (relu: boolean) =>
      tf.tidy(() => {
        const xt = tf.tensor(x, shape);
        const mean = tf.tensor1d(randomArray(rng, [8]).map(() => 0.1));
        const variance = tf.ones([8]);
        const i = { x: xt, mean, variance, offset: tf.zeros([8]), scale: tf.ones([8]) };
        const d = tf.onesLike(xt);
        const outs = relu
          ? (tf
              .engine()
              .runKernel(
                'DistilljsBatchNormTrainingGrad',
                { ...i, dy: d },
                { varianceEpsilon: eps, relu: true },
              ) as tf.Tensor[])
          : (tf.engine().runKernel(
              'DistilljsBatchNormTrainingGrad',
              {
                ...i,
                dy: tf.mul(d, tf.step(tf.relu(tf.batchNorm(xt, mean, variance, i.offset, i.scale, eps)))),
              },
              { varianceEpsilon: eps },
            ) as tf.Tensor[]);
        return tf.concat(outs.map((t) => tf.reshape(tf.isNaN(t), [-1])));
      });
    const [fusedNaN, composedNaN] = [nanPattern(true), nanPattern(false)];
    expect(Array.from(await fusedNaN.data())).toEqual(Array.from(await composedNaN.data()));
    expect(Array.from(await fusedNaN.data()).some((v) => v === 1)).toBe(true);
    tf.dispose([fusedNaN, composedNaN]);
    // The zoo's fused layers in training: on wasm they run the two kernels and no ReLU kernel at all, and
    // their gradients match tfjs-layers' batch norm and ReLU on cpu.
    const layerShape = [16, 6, 6, 8];
    const xs = randomArray(rng, layerShape);
    const w = randomArray(rng, layerShape);
    const gammaBeta = [randomArray(rng, [8]).map((v) => 1 + 0.3 * v), randomArray(rng, [8])];
    const layerGrad = (fused: boolean) => {
      const pair = fused
        ? batchNormRelu({ momentum: 0.9, epsilon: 1e-5 })
        : {
            batchNorm: tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
            relu: tfl.layers.activation({ activation: 'relu' }),
          };
      withGammaBeta(pair.batchNorm, layerShape, gammaBeta[0] as Float32Array, gammaBeta[1] as Float32Array);
      const apply = (t: tf.Tensor) =>
        pair.relu.apply(pair.batchNorm.apply(t, { training: true }), { training: true }) as tf.Tensor;
      return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(apply(t), tf.tensor(w, layerShape))))(
        tf.tensor(xs, layerShape),
      );
    };
    const names = await layerGradAgainstCpu(layerGrad);
    expect(names).toContain('DistilljsBatchNormRelu');
    expect(names).toContain('DistilljsBatchNormTrainingGrad');
    expect(names.filter((n) => n === 'Relu' || n === '_DistilljsReluGrad' || n === 'FusedBatchNorm')).toEqual(
      [],
    );
  });

  it('computes the batch-norm statistics kernel with the bits of the composed ops, SIMD on and off', async () => {
    const rng = new Rng(25);
    // c a multiple of 16 (four vectors), of 4 (one), and not (composed from the backend's kernels); 70
    // and 130 rows leave partial 64-row blocks.
    const shapes = [
      [2, 5, 7, 32],
      [70, 12],
      [130, 8],
      [3, 4, 4, 3],
    ];
    const statistics = (x: Float32Array, shape: number[], fused: boolean) =>
      tf.tidy(() => {
        const xt = tf.tensor(x, shape);
        if (fused)
          return tf.stack(tf.engine().runKernel('DistilljsBatchNormMoments', { x: xt }) as tf.Tensor[]);
        const axes = shape.slice(0, -1).map((_, i) => i);
        const mean = tf.mean(xt, axes);
        return tf.stack([mean, tf.mean(tf.square(tf.sub(xt, mean)), axes)]);
      });
    for (const simd of [true, false]) {
      setSimdKernelsEnabled(simd);
      try {
        for (const shape of shapes) {
          const x = randomArray(rng, shape).map((v) => 3 * v + 2);
          await compare(() => statistics(x, shape, tf.getBackend() === 'wasm'));
          await tf.setBackend('wasm');
          const [fused, composed] = [statistics(x, shape, true), statistics(x, shape, false)];
          expect(Array.from(await fused.data())).toEqual(Array.from(await composed.data()));
          tf.dispose([fused, composed]);
        }
      } finally {
        setSimdKernelsEnabled(true);
      }
    }
    await tf.setBackend('wasm');
    expect(() => tf.engine().runKernel('DistilljsBatchNormMoments', { x: tf.tensor1d([1, 2]) })).toThrow(
      /needs a float32 input x of rank 2 or more \(channels last\), got float32 \[2\]/,
    );
  });

  it('matches cpu for batchNorm (inference form), with and without scale and offset', async () => {
    const rng = new Rng(16);
    for (const shape of [
      [2, 3, 5, 8],
      [70, 12],
      [4, 3, 6],
      [3, 4, 4, 3],
    ]) {
      const c = shape[shape.length - 1] as number;
      const x = randomArray(rng, shape).map((v) => 3 * v + 5);
      const mean = randomArray(rng, [c]).map((v) => v + 5);
      const variance = randomArray(rng, [c]).map((v) => 9 + 2 * v * v);
      const scale = randomArray(rng, [c]);
      const offset = randomArray(rng, [c]);
      for (const [useScale, useOffset] of [
        [true, true],
        [false, true],
        [true, false],
        [false, false],
      ]) {
        await compare(() =>
          tf.batchNorm(
            tf.tensor(x, shape),
            tf.tensor1d(mean),
            tf.tensor1d(variance),
            useOffset ? tf.tensor1d(offset) : undefined,
            useScale ? tf.tensor1d(scale) : undefined,
            0.01,
          ),
        );
      }
    }
    // Statistics broadcast from a rank-4 tensor still go to the backend's own kernel.
    const x = randomArray(rng, [2, 2, 2, 4]);
    await compare(() =>
      tf.batchNorm4d(
        tf.tensor4d(x, [2, 2, 2, 4]),
        tf.fill([2, 2, 2, 4], 0.5) as tf.Tensor4D,
        tf.fill([2, 2, 2, 4], 2) as tf.Tensor4D,
      ),
    );
  });

  it('matches cpu for relu gradients in one kernel, and keeps NaN inputs NaN', async () => {
    const rng = new Rng(17);
    for (const shape of [[4, 6, 6, 8], [7, 5], [3]]) {
      const x = randomArray(rng, shape);
      x[0] = 0;
      const w = randomArray(rng, shape);
      await compare(() =>
        tf.grad((z: tf.Tensor) => tf.sum(tf.mul(tf.relu(z), tf.tensor(w, shape))))(tf.tensor(x, shape)),
      );
    }
    await tf.setBackend('wasm');
    const profile = await tf.profile(() =>
      tf.grad((z: tf.Tensor) => tf.sum(tf.relu(z)))(tf.tensor1d([1, -1, Number.NaN, 2, 0, -3, 4, 5])),
    );
    const g = profile.result as tf.Tensor;
    expect(Array.from(await g.data())).toEqual([1, 0, Number.NaN, 1, 0, 0, 1, 1]);
    g.dispose();
    expect(profile.kernels.map((k) => k.name)).toContain('_DistilljsReluGrad');
    expect(profile.kernels.map((k) => k.name)).not.toContain('Step');
  });

  it('computes the fused Adam update with the bits of the composed float32 ops', async () => {
    const rng = new Rng(23);
    for (const size of [4099, 3]) {
      // Tiny moments and gradients so the subnormal flush acts; 4096 in SIMD, the rest in JavaScript.
      const arr = (scale: number) =>
        Array.from({ length: size }, (_, i) => (i % 3 === 0 ? 1e-36 : scale) * rng.normal());
      const p = arr(1);
      const g = arr(0.1);
      const m = arr(0.01);
      const v = arr(0.001).map(Math.abs);
      const attrs = {
        beta1: 0.9,
        oneMinusBeta1: 1 - 0.9,
        beta2: 0.999,
        oneMinusBeta2: 1 - 0.999,
        biasCorrection2: 1 - 0.999 ** 3,
        epsilon: 1e-8,
        stepSize: 0.01 / (1 - 0.9 ** 3),
        decay: 1 - 0.01 * 0.2,
      };
      // The formula of ADAM_UPDATE_KERNEL as separate float32 ops, on the cpu backend.
      await tf.setBackend('cpu');
      const want = composedAdam([p, g, m, v], attrs);
      await tf.setBackend('wasm');
      const got = tf.tidy(() => {
        const outs = tf
          .engine()
          .runKernel(
            'DistilljsAdamUpdate',
            { p: tf.tensor1d(p), g: tf.tensor1d(g), m: tf.tensor1d(m), v: tf.tensor1d(v) },
            attrs,
          ) as tf.Tensor[];
        return outs.map((t) => Array.from(t.dataSync()));
      });
      expect(got).toEqual(want);
    }
    expect(() =>
      tf.tidy(() =>
        tf.engine().runKernel('DistilljsAdamUpdate', {
          p: tf.zeros([4]),
          g: tf.zeros([5]),
          m: tf.zeros([4]),
          v: tf.zeros([4]),
        }),
      ),
    ).toThrow(/input 'g' must be float32 of the variable's shape \[4\], got float32 \[5\]/);
  });

  it('matches cpu for tile, float32 and int32, leading and inner repetitions', async () => {
    const rng = new Rng(13);
    const cases: Array<[number[], number[]]> = [
      [
        [1, 1, 1, 5],
        [4, 3, 2, 1],
      ],
      [
        [2, 3],
        [3, 1],
      ],
      [
        [2, 3],
        [1, 4],
      ],
      [
        [2, 1, 3],
        [2, 3, 2],
      ],
      [[4], [3]],
      [
        [1, 3],
        [1, 1],
      ],
    ];
    for (const [shape, reps] of cases) {
      const x = randomArray(rng, shape);
      await compare(() => tf.tile(tf.tensor(x, shape), reps));
      const ints = Int32Array.from(x, (v) => Math.round(v * 100));
      await compare(() => tf.cast(tf.tile(tf.tensor(ints, shape, 'int32'), reps), 'float32'));
    }
  });

  it('matches cpu for reverse, float32 and int32: filter flips, the last axis, negative and size-1 axes', async () => {
    const rng = new Rng(17);
    const cases: Array<[number[], number[]]> = [
      [
        [3, 3, 4, 8],
        [0, 1],
      ],
      [[3, 3, 2, 3], [1]],
      [[2, 3, 40], [1]],
      [[2, 3, 4], [2]],
      [
        [2, 3, 4],
        [0, -1],
      ],
      [[2, 1, 5], [1]],
      [[7], [0]],
      [[2, 5, 3], []],
    ];
    for (const [shape, dims] of cases) {
      const x = randomArray(rng, shape);
      await compare(() => tf.reverse(tf.tensor(x, shape), dims));
      const ints = Int32Array.from(x, (v) => Math.round(v * 100));
      await compare(() => tf.cast(tf.reverse(tf.tensor(ints, shape, 'int32'), dims), 'float32'));
    }
  });

  it('clones and same-dtype casts without copying, and still converts real casts', async () => {
    await tf.setBackend('wasm');
    const buffers = () => tf.backend().numDataIds();
    const start = buffers();
    const x = tf.tensor2d([1.5, -2.25, 3, 4], [2, 2]);
    const clone = tf.clone(x);
    const same = tf.cast(x, 'float32');
    expect(buffers()).toBe(start + 1);
    x.dispose();
    // The shared data outlives the tensor it came from.
    expect(Array.from(await clone.data())).toEqual([1.5, -2.25, 3, 4]);
    expect(Array.from(await same.data())).toEqual([1.5, -2.25, 3, 4]);
    const ints = tf.cast(clone, 'int32');
    expect(buffers()).toBe(start + 2);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(await ints.data())).toEqual([1, -2, 3, 4]);
    same.dispose();
    expect(Array.from(await clone.data())).toEqual([1.5, -2.25, 3, 4]);
    tf.dispose([clone, ints]);
    expect(buffers()).toBe(start);
  });

  it('unregisters back to the stock kernels and registers again', async () => {
    await tf.setBackend('wasm');
    const ours = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc;
    expect(unregisterWasmTrainingKernels()).toBe(true);
    expect(unregisterWasmTrainingKernels()).toBe(false);
    expect(hasWasmTrainingKernels()).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc).not.toBe(ours);
    const stock = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 3]), false, true));
    expect(Array.from(await stock.data())).toEqual(new Array(8).fill(3));
    stock.dispose();
    expect(registerWasmTrainingKernels().alreadyRegistered).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('frees its intermediates when a kernel throws', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const bytes = tf.memory().numBytes;
    expect(() => tf.tidy(() => tf.matMul(tf.ones([3, 4]), tf.ones([5, 4]), true, false))).toThrow();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
  });
});
