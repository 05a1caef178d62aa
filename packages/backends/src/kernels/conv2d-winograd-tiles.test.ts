import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { expectLikeCpu, randomArray } from '../__fixtures__/like-cpu.js';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../register-wasm-training-kernels.js';
import { simdKernels } from './simd/simd-kernels.js';

type Pad = 'same' | 'valid' | number[][];
interface Case {
  readonly x: [number, number, number, number];
  readonly f: [number, number, number, number];
  readonly pad: Pad;
}

// 4x4 outputs (F(4x4, 3x3)), 2x2, 6x6, 2x6 and 4x2 (F(2x2, 3x3)) ('same'); 'valid' and explicit unequal padding; 17 and 5 images
// (image chunks of 2 with a last chunk of 1; 68 and 5 tiles, so the products' row chunks end in a part
// chunk and in single rows); 16-32 input and 8-24 output channels.
const CASES: Case[] = [
  { x: [3, 4, 4, 16], f: [3, 3, 16, 16], pad: 'same' },
  { x: [5, 2, 2, 32], f: [3, 3, 32, 16], pad: 'same' },
  { x: [17, 4, 4, 24], f: [3, 3, 24, 16], pad: 'same' },
  { x: [2, 2, 4, 20], f: [3, 3, 20, 8], pad: 'same' },
  { x: [2, 6, 6, 16], f: [3, 3, 16, 16], pad: 'same' },
  { x: [3, 2, 6, 24], f: [3, 3, 24, 16], pad: 'same' },
  { x: [2, 6, 4, 16], f: [3, 3, 16, 8], pad: 'valid' },
  { x: [2, 6, 6, 16], f: [3, 3, 16, 16], pad: 'valid' },
  {
    x: [2, 5, 3, 16],
    f: [3, 3, 16, 24],
    pad: [
      [0, 0],
      [1, 0],
      [2, 1],
      [0, 0],
    ],
  },
  {
    x: [3, 4, 3, 16],
    f: [3, 3, 16, 8],
    pad: [
      [0, 0],
      [2, 0],
      [0, 1],
      [0, 0],
    ],
  },
];

/** Spies on a kernel of both variants (F(2x2, 3x3) and F(4x4, 3x3)); `calls()` counts both. */
function spyOn(name: 'Input' | 'Output' | 'Dy') {
  const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
  expect(simd).toBeDefined();
  const kernels = simd as NonNullable<typeof simd>;
  const spies = [vi.spyOn(kernels, `winoTiles${name}`), vi.spyOn(kernels, `winoTiles4${name}`)];
  return {
    calls: () => spies.reduce((sum, s) => sum + s.mock.calls.length, 0),
    /** Calls of the F(4x4, 3x3) kernel. */
    calls4: () => (spies[1] as (typeof spies)[number]).mock.calls.length,
    restore: () => {
      for (const s of spies) s.mockRestore();
    },
  };
}

/**
 * F(4x4, 3x3) (outputs of whole 4x4 tiles) rounds about ten times as much as the direct convolution (its
 * transforms multiply by up to 8), as the lead's convWino4 tests allow; F(2x2, 3x3) within 1e-4.
 */
function tolerance(c: Case): number {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, c.pad as 'same');
  return info.outHeight % 4 === 0 && info.outWidth % 4 === 0 ? 5e-4 : 1e-4;
}

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('conv2dWinogradTiles (batched Winograd tiles for small outputs)', () => {
  it('matches cpu forward: plain, and fused with or without bias, linear and ReLU', async () => {
    await tf.setBackend('wasm');
    const spy = spyOn('Output');
    try {
      const rng = new Rng(41);
      for (const c of CASES) {
        const x = randomArray(rng, c.x);
        const f = randomArray(rng, c.f);
        const bias = randomArray(rng, [c.f[3]]);
        const pad = c.pad as 'same';
        const label = JSON.stringify(c);
        const calls = spy.calls();
        const calls4 = spy.calls4();
        await expectLikeCpu(
          () => tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(f, c.f), 1, pad),
          label,
          tolerance(c),
        );
        for (const activation of ['linear', 'relu'] as const) {
          for (const withBias of [true, false]) {
            await expectLikeCpu(
              () =>
                tf.fused.conv2d({
                  x: tf.tensor4d(x, c.x),
                  filter: tf.tensor4d(f, c.f),
                  ...(withBias ? { bias: tf.tensor1d(bias) } : {}),
                  strides: 1,
                  pad,
                  activation,
                }),
              `${label} ${activation} ${withBias ? 'bias' : 'no bias'}`,
              tolerance(c),
            );
          }
        }
        expect(spy.calls() - calls, label).toBe(5);
        // Outputs of whole 4x4 tiles take F(4x4, 3x3).
        if (tolerance(c) > 1e-4) expect(spy.calls4() - calls4, label).toBe(5);
      }
    } finally {
      spy.restore();
    }
  });

  it('matches cpu for the input gradient (Conv2DBackpropInput), through the same kernels', async () => {
    await tf.setBackend('wasm');
    const spy = spyOn('Input');
    try {
      const rng = new Rng(42);
      for (const c of CASES) {
        const pad = c.pad as 'same';
        const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, pad);
        const dy = randomArray(rng, info.outShape);
        const f = randomArray(rng, c.f);
        const label = JSON.stringify(c);
        const calls = spy.calls();
        await expectLikeCpu(
          () =>
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropInput',
                { dy: tf.tensor4d(dy, info.outShape), filter: tf.tensor4d(f, c.f) },
                { strides: 1, pad, dataFormat: 'NHWC', inputShape: c.x },
              ) as tf.Tensor,
          label,
          tolerance(c),
        );
        // With 'same' padding the gradient is a small 'same' convolution of dy (co input channels) with
        // the flipped filter (ci output channels): the batched kernels take it where co >= 16 and 8 | ci.
        if (c.pad === 'same' && c.f[3] >= 16 && c.f[2] % 8 === 0) expect(spy.calls() - calls, label).toBe(1);
      }
    } finally {
      spy.restore();
    }
  });

  it('matches cpu for the filter gradient (Conv2DBackpropFilter)', async () => {
    await tf.setBackend('wasm');
    const spy = spyOn('Dy');
    try {
      const rng = new Rng(43);
      for (const c of CASES) {
        const pad = c.pad as 'same';
        const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, pad);
        const x = randomArray(rng, c.x);
        const dy = randomArray(rng, info.outShape);
        const label = JSON.stringify(c);
        const calls = spy.calls();
        await expectLikeCpu(
          () =>
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x: tf.tensor4d(x, c.x), dy: tf.tensor4d(dy, info.outShape) },
                { strides: 1, pad, dataFormat: 'NHWC', filterShape: c.f },
              ) as tf.Tensor,
          label,
          tolerance(c),
        );
        expect(spy.calls() - calls, label).toBe(1);
      }
    } finally {
      spy.restore();
    }
  });
});
