import type { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** Normal random values of a shape, from `rng`. */
export function randomArray(rng: Rng, shape: readonly number[]): Float32Array {
  const a = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < a.length; i++) a[i] = rng.normal();
  return a;
}

/** Worst |got - want| / max(|want|, 1e-2 * max|want|). */
export function worstError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i] as number));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = want[i] as number;
    worst = Math.max(worst, Math.abs((got[i] as number) - e) / Math.max(Math.abs(e), 1e-2 * scale, 1e-6));
  }
  return worst;
}

/** Runs `fn` on `backend`; returns the output's shape and values, checking that no tensor leaked. */
export async function on(
  backend: string,
  fn: () => tf.Tensor,
): Promise<{ shape: number[]; values: Float32Array }> {
  await tf.setBackend(backend);
  const before = tf.memory().numTensors;
  const out = tf.tidy(fn);
  const values = (await out.data()) as Float32Array;
  const shape = out.shape;
  out.dispose();
  expect(tf.memory().numTensors).toBe(before);
  return { shape, values };
}

/** `fn` on wasm gives cpu's shape and values within `tolerance` of their scale ({@link worstError}). */
export async function expectLikeCpu(fn: () => tf.Tensor, label: string, tolerance = 1e-4): Promise<void> {
  const want = await on('cpu', fn);
  const got = await on('wasm', fn);
  expect(got.shape, label).toEqual(want.shape);
  expect(worstError(got.values, want.values), label).toBeLessThan(tolerance);
}
