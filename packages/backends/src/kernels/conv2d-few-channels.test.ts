import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
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

// Input channels 1 (MNIST), 3 (CIFAR), 5, 2 and 15 (the largest this kernel takes); odd widths, so rows end
// in 1-3 single positions after the blocks of 4; rows narrower than one block; 17 images (chunks of 2 and
// a last chunk of 1); 'same', 'valid', an even filter and explicit unequal padding.
const CASES: Case[] = [
  { x: [3, 9, 7, 1], f: [3, 3, 1, 32], pad: 'same' },
  { x: [2, 10, 11, 3], f: [3, 3, 3, 8], pad: 'valid' },
  { x: [17, 6, 9, 3], f: [3, 3, 3, 16], pad: 'same' },
  { x: [2, 8, 13, 5], f: [5, 3, 5, 16], pad: 'same' },
  { x: [3, 5, 3, 5], f: [3, 3, 5, 8], pad: 'same' },
  { x: [2, 6, 5, 1], f: [4, 4, 1, 8], pad: 'valid' },
  { x: [2, 7, 6, 2], f: [2, 2, 2, 24], pad: 'same' },
  {
    x: [2, 6, 9, 15],
    f: [3, 3, 15, 8],
    pad: [
      [0, 0],
      [2, 0],
      [1, 2],
      [0, 0],
    ],
  },
  { x: [4, 5, 7, 3], f: [1, 1, 3, 8], pad: 'valid' },
];

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

describe('conv2dFewChannels (the SIMD kernel convFew)', () => {
  it('matches cpu for stride-1 convolutions with 1-15 input channels: plain, and fused with or without bias, linear and ReLU', async () => {
    await tf.setBackend('wasm');
    const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
    expect(simd).toBeDefined();
    const spy = vi.spyOn(simd as NonNullable<typeof simd>, 'convFew');
    try {
      const rng = new Rng(27);
      for (const c of CASES) {
        const x = randomArray(rng, c.x);
        const f = randomArray(rng, c.f);
        const bias = randomArray(rng, [c.f[3]]);
        const pad = c.pad as 'same';
        const label = JSON.stringify(c);
        const calls = spy.mock.calls.length;
        await expectLikeCpu(() => tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(f, c.f), 1, pad), label);
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
            );
          }
        }
        // Each of the five convolutions on wasm went through the kernel.
        expect(spy.mock.calls.length - calls, label).toBe(5);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('matches cpu for the filter gradient of the same convolutions (the SIMD kernel filterFew)', async () => {
    await tf.setBackend('wasm');
    const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
    const spy = vi.spyOn(simd as NonNullable<typeof simd>, 'filterFew');
    try {
      const rng = new Rng(30);
      for (const c of CASES) {
        const pad = c.pad as 'same';
        const info = tf.backend_util.computeConv2DInfo(c.x, c.f, 1, 1, pad);
        const x = randomArray(rng, c.x);
        const dy = randomArray(rng, info.outShape);
        const calls = spy.mock.calls.length;
        await expectLikeCpu(
          () =>
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x: tf.tensor4d(x, c.x), dy: tf.tensor4d(dy, info.outShape) },
                { strides: 1, pad, dataFormat: 'NHWC', filterShape: c.f },
              ) as tf.Tensor,
          JSON.stringify(c),
        );
        expect(spy.mock.calls.length - calls, JSON.stringify(c)).toBe(1);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('leaves what it does not take to XNNPACK, with the same results as cpu', async () => {
    await tf.setBackend('wasm');
    const simd = simdKernels((tf.backend() as unknown as { wasm: unknown }).wasm);
    const spy = vi.spyOn(simd as NonNullable<typeof simd>, 'convFew');
    try {
      const rng = new Rng(28);
      // Output channels not a multiple of 8; stride 2; dilation 2.
      const cases: Array<{ x: Case['x']; f: Case['f']; s: number; d: number }> = [
        { x: [2, 7, 7, 3], f: [3, 3, 3, 12], s: 1, d: 1 },
        { x: [2, 9, 9, 3], f: [3, 3, 3, 8], s: 2, d: 1 },
        { x: [2, 9, 9, 1], f: [3, 3, 1, 8], s: 1, d: 2 },
      ];
      for (const c of cases) {
        const x = randomArray(rng, c.x);
        const f = randomArray(rng, c.f);
        await expectLikeCpu(
          () => tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(f, c.f), c.s, 'same', 'NHWC', c.d),
          JSON.stringify(c),
        );
      }
      expect(spy).not.toHaveBeenCalled();
    } finally {
      spy.mockRestore();
    }
  });

  it('gives the filter gradient of a mnist-cnn-like first layer (through the tape) like cpu', async () => {
    const rng = new Rng(29);
    const xShape: Case['x'] = [4, 12, 12, 1];
    const x = randomArray(rng, xShape);
    const f = randomArray(rng, [3, 3, 1, 32]);
    const bias = randomArray(rng, [32]);
    const w = randomArray(rng, [4, 12, 12, 32]);
    await expectLikeCpu(
      () =>
        tf.grad((ft: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.fused.conv2d({
                x: tf.tensor4d(x, xShape),
                filter: ft as tf.Tensor4D,
                bias: tf.tensor1d(bias),
                strides: 1,
                pad: 'same',
                activation: 'relu',
              }),
              tf.tensor4d(w, [4, 12, 12, 32]),
            ),
          ),
        )(tf.tensor4d(f, [3, 3, 1, 32])),
      'filter gradient through FusedConv2D',
    );
  });
});
