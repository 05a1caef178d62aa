/** Test support (not published): backends, tolerances and leak checks shared by the loss tests. */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core registers no gradients by itself; tfjs-layers (which every trainer loads) registers them all.
import '@tensorflow/tfjs-layers';
import { expect } from 'vitest';

export const BACKENDS = ['cpu', 'wasm'] as const;

/** Switches to a backend and waits for it (wasm loads its binary once). */
export async function useBackend(name: (typeof BACKENDS)[number]): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`backend ${name} failed to initialise`);
  await tf.ready();
  expect(tf.getBackend()).toBe(name);
}

/** Asserts `|actual - expected| <= atol + rtol * |expected|` element-wise (numpy's allclose). */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  rtol = 1e-4,
  atol = 1e-5,
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = Number.isFinite(a) && Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok) expect.fail(`${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Runs `fn` and checks that the number of live tensors is unchanged afterwards (also when it throws). */
export function expectNoLeak<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  try {
    return fn();
  } finally {
    expect(tf.memory().numTensors, 'live tensors after the call').toBe(before);
  }
}

/** Expects `fn` to throw an InvalidArgumentError whose message matches every pattern, leaking nothing. */
export function expectInvalid(fn: () => unknown, ...patterns: RegExp[]): void {
  const before = tf.memory().numTensors;
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(tf.memory().numTensors, 'live tensors after the failed call').toBe(before);
  expect(error, 'expected the call to throw').toBeInstanceOf(Error);
  const err = error as Error & { code?: string };
  expect(err.name).toBe('InvalidArgumentError');
  expect(err.code).toBe('invalid-argument');
  for (const p of patterns) expect(err.message).toMatch(p);
}

/** Reads a tensor's values as a plain array of numbers and disposes it. */
export function take(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
