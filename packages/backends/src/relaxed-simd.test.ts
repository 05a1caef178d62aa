import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { relaxedSimdSupported, simdKernelsRelaxed } from './kernels/simd/simd-kernels.js';
import { selectBackend } from './select-backend.js';

// Its own test file (process): `relaxedSimd: 'enable'` sets a process-wide V8 flag on Node 20.
describe('selectBackend with relaxed SIMD', () => {
  it('enables relaxed SIMD and computes the filter gradients with fused multiply-adds, matching cpu', async () => {
    const selection = await selectBackend('wasm', { threads: 2, relaxedSimd: 'enable' });
    expect(relaxedSimdSupported()).toBe(true);
    const wasm = (tf.backend() as unknown as { wasm: unknown }).wasm;
    expect(simdKernelsRelaxed(wasm)).toBe(true);
    expect(selection.engine).toBe(
      `tfjs ${tf.version_core} wasm (simd, 2 threads, distilljs kernels, relaxed simd)`,
    );
    expect(selection.reason).toContain('distilljs training kernels with relaxed SIMD');
    const rng = new Rng(31);
    // filterRows (3 input channels), filterTaps (multiples of 4 and 8, shared with the helper thread).
    const cases: Array<[number[], number]> = [
      [[4, 9, 9, 3], 32],
      [[4, 9, 9, 16], 64],
      [[3, 6, 7, 8], 16],
    ];
    for (const [shape, co] of cases) {
      const [n, h, w, ci] = shape as [number, number, number, number];
      const xs = Array.from({ length: n * h * w * ci }, () => rng.normal());
      const dys = Array.from({ length: n * h * w * co }, () => rng.normal());
      const filterGrad = () =>
        tf.tidy(
          () =>
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x: tf.tensor4d(xs, [n, h, w, ci]), dy: tf.tensor4d(dys, [n, h, w, co]) },
                { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, ci, co] },
              ) as tf.Tensor,
        );
      await tf.setBackend('wasm');
      const got = filterGrad();
      const gotValues = await got.data();
      got.dispose();
      await tf.setBackend('cpu');
      const want = filterGrad();
      const wantValues = await want.data();
      want.dispose();
      let worst = 0;
      for (let i = 0; i < wantValues.length; i++) {
        const e = wantValues[i] as number;
        worst = Math.max(worst, Math.abs((gotValues[i] as number) - e) / (1 + Math.abs(e)));
      }
      expect(worst).toBeLessThan(1e-4);
    }
    // The direct convolution (odd sizes) and F(4x4, 3x3) Winograd (8x8; its rounding error is about ten
    // times the direct convolution's) with fused multiply-adds, shared with the helper thread.
    for (const [size, tol] of [
      [9, 1e-4],
      [8, 5e-4],
    ] as const) {
      const xs = Array.from({ length: 8 * size * size * 32 }, () => rng.normal());
      const fs = Array.from({ length: 3 * 3 * 32 * 16 }, () => rng.normal());
      const bs = Array.from({ length: 16 }, () => rng.normal());
      const conv = () =>
        tf.tidy(() =>
          tf.fused.conv2d({
            x: tf.tensor4d(xs, [8, size, size, 32]),
            filter: tf.tensor4d(fs, [3, 3, 32, 16]),
            bias: tf.tensor1d(bs),
            strides: 1,
            pad: 'same',
          }),
        );
      const values = async (backend: string) => {
        await tf.setBackend(backend);
        const t = conv();
        const v = await t.data();
        t.dispose();
        return v;
      };
      const got = await values('wasm');
      const want = await values('cpu');
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        const e = want[i] as number;
        worst = Math.max(worst, Math.abs((got[i] as number) - e) / (1 + Math.abs(e)));
      }
      expect(worst).toBeLessThan(tol);
    }
    await tf.setBackend('wasm');
  });
});
