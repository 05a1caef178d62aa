import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { attentionMap, attentionTransferLoss } from './attention-transfer-loss.js';

/** Reference attention map of NHWC data in float64: mean_c |A|^p per position, L2-normalised. */
function refAttention(data: number[], [b, h, w, c]: number[], p: number): number[][] {
  const out: number[][] = [];
  for (let n = 0; n < b!; n++) {
    const q: number[] = [];
    for (let k = 0; k < h! * w!; k++) {
      let sum = 0;
      for (let ch = 0; ch < c!; ch++) sum += Math.abs(data[(n * h! * w! + k) * c! + ch]!) ** p;
      q.push(sum / c!);
    }
    const norm = Math.max(Math.hypot(...q), 1e-12);
    out.push(q.map((v) => v / norm));
  }
  return out;
}

function refLoss(pairs: Array<[number[], number[], number[], number[]]>, p: number, beta: number): number {
  let total = 0;
  for (const [sd, ss, td, ts] of pairs) {
    const qs = refAttention(sd, ss, p).flat();
    const qt = refAttention(td, ts, p).flat();
    total += qs.reduce((acc, v, i) => acc + (v - qt[i]!) ** 2, 0) / qs.length;
  }
  return (beta * total) / pairs.length;
}

const featureMap = (b: number, h: number, w: number, c: number) =>
  fc.array(fc.double({ min: -3, max: 3, noNaN: true }), {
    minLength: b * h * w * c,
    maxLength: b * h * w * c,
  });

describe('attentionTransferLoss', () => {
  beforeAll(() => useBackend('cpu'));

  it('matches the reference definition on random NHWC pairs (channel counts may differ)', () => {
    fc.assert(
      fc.property(
        fc
          .record({
            b: fc.integer({ min: 1, max: 2 }),
            h: fc.integer({ min: 1, max: 3 }),
            w: fc.integer({ min: 1, max: 3 }),
            cs: fc.integer({ min: 1, max: 3 }),
            ct: fc.integer({ min: 1, max: 4 }),
          })
          .chain(({ b, h, w, cs, ct }) =>
            fc.tuple(
              fc.constant([b, h, w, cs] as number[]),
              featureMap(b, h, w, cs),
              fc.constant([b, h, w, ct] as number[]),
              featureMap(b, h, w, ct),
            ),
          ),
        fc.constantFrom(1, 2, 3),
        ([ss, sd, ts, td], p) => {
          const s = tf.tensor4d(sd, ss as [number, number, number, number]);
          const t = tf.tensor4d(td, ts as [number, number, number, number]);
          const got = take(attentionTransferLoss([[s, t]], { p, beta: 2 }));
          expectClose(got, [refLoss([[sd, ss, td, ts]], p, 2)], `at p=${p}`, 1e-3, 1e-6);
          const q = take(attentionMap(s, p));
          expectClose(q, refAttention(sd, ss, p).flat(), 'attention map', 1e-3, 1e-6);
          tf.dispose([s, t]);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('averages several pairs, is 0 for identical maps, and sends no gradient to the teacher', () => {
    const s1 = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const t1 = tf.randomNormal([2, 4, 4, 5], 0, 1, 'float32', 2) as tf.Tensor4D;
    const s2 = tf.randomNormal([2, 2, 2, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const t2 = tf.randomNormal([2, 2, 2, 6], 0, 1, 'float32', 4) as tf.Tensor4D;
    const one = take(attentionTransferLoss([[s1, t1]]))[0]!;
    const two = take(attentionTransferLoss([[s2, t2]]))[0]!;
    expectClose(
      take(
        attentionTransferLoss([
          [s1, t1],
          [s2, t2],
        ]),
      ),
      [(one + two) / 2],
      'mean over pairs',
    );
    expectClose(
      take(
        attentionTransferLoss(
          [
            [s1, t1],
            [s2, t2],
          ],
          { beta: 1000 },
        ),
      ),
      [(1000 * (one + two)) / 2],
      'beta',
    );
    expect(take(attentionTransferLoss([[s1, tf.mul(s1, -2) as tf.Tensor4D]]))[0]!).toBeLessThan(1e-10);
    const gTeacher = take(tf.grad((x: tf.Tensor) => attentionTransferLoss([[s1, x]]))(t1));
    expect(gTeacher.every((v) => v === 0)).toBe(true);
    const gStudent = take(tf.grad((x: tf.Tensor) => attentionTransferLoss([[x, t1]]))(s1));
    expect(gStudent.every(Number.isFinite) && gStudent.some((v) => v !== 0)).toBe(true);
    expectNoLeak(() =>
      take(
        attentionTransferLoss([
          [s1, t1],
          [s2, t2],
        ]),
      ),
    );
    tf.dispose([s1, t1, s2, t2]);
  });

  it('rejects empty lists, wrong ranks and spatial mismatches, naming the pair', () => {
    const a = tf.zeros([2, 4, 4, 3]);
    const b = tf.zeros([2, 8, 8, 3]);
    const flat = tf.zeros([2, 48]);
    expectInvalid(() => attentionTransferLoss([]), /^attentionTransferLoss:/, /'pairs'/, /non-empty/);
    expectInvalid(
      () =>
        attentionTransferLoss([
          [a, a],
          [a, b],
        ]),
      /'pairs\[1\]\[1\]'/,
      /\[b, h, w\]/,
      /\[2, 8, 8, 3\]/,
    );
    expectInvalid(() => attentionTransferLoss([[flat, a]]), /'pairs\[0\]\[0\]'/, /rank-4/, /NHWC/);
    expectInvalid(() => attentionTransferLoss([[a, a]], { p: 0 }), /'p'/, /> 0/);
    expectInvalid(() => attentionTransferLoss([[a, a]], { beta: -1 }), /'beta'/);
    expectInvalid(() => attentionMap(flat as never), /^attentionMap:/, /'features'/);
    tf.dispose([a, b, flat]);
  });
});
