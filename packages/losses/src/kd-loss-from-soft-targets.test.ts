import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { kd, logSoftmax } from './__fixtures__/reference.js';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { ensembleSoftTargets } from './ensemble-soft-targets.js';
import { kdLoss } from './kd-loss.js';
import { kdLossFromSoftTargets } from './kd-loss-from-soft-targets.js';
import { softTargets } from './soft-targets.js';

const t1 = [
  [4, 0, 0],
  [0, 1, 2],
];
const t2 = [
  [0, 4, 0],
  [2, 1, 0],
];

describe('kdLossFromSoftTargets', () => {
  beforeAll(() => useBackend('cpu'));

  it('equals kdLoss when the targets are softTargets(teacher, T), and handles zero probabilities', () => {
    const s = [
      [1, 2, 3],
      [0, -1, 1],
    ];
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t1);
    const q = softTargets(b, 3);
    expectClose(take(kdLossFromSoftTargets(a, q, { temperature: 3 })), [kd(s, t1, 3)], 'vs kdLoss');
    const hard = tf.tensor2d([
      [0, 1, 0],
      [0.5, 0.5, 0],
    ]);
    const lp = s.map((row) => logSoftmax(row, 2));
    const expected =
      (4 * (-lp[0]![1]! + 0.5 * (Math.log(0.5) - lp[1]![0]!) + 0.5 * (Math.log(0.5) - lp[1]![1]!))) / 2;
    expectClose(take(kdLossFromSoftTargets(a, hard, { temperature: 2 })), [expected], 'zeros in targets');
    const g = take(
      tf.grad((x: tf.Tensor) => kdLossFromSoftTargets(a, x as tf.Tensor2D, { temperature: 2 }))(hard),
    );
    expect(g.every((v) => v === 0)).toBe(true);
    expectNoLeak(() => take(kdLossFromSoftTargets(a, hard, { temperature: 2, reduction: 'none' })));
    expectInvalid(
      () => kdLossFromSoftTargets(a, hard, { temperature: -1 }),
      /^kdLossFromSoftTargets:/,
      /'temperature'/,
    );
    tf.dispose([a, b, q, hard]);
  });

  it('distils from an ensemble: the targets of one teacher reproduce kdLoss, of two lie between', () => {
    const s = [
      [1, 2, 3],
      [0, -1, 1],
    ];
    const a = tf.tensor2d(s);
    const b1 = tf.tensor2d(t1);
    const b2 = tf.tensor2d(t2);
    const single = ensembleSoftTargets([b1], { temperature: 4 });
    expectClose(
      take(kdLossFromSoftTargets(a, single, { temperature: 4 })),
      take(kdLoss(a, b1, { temperature: 4 })),
      'one',
    );
    const mix = ensembleSoftTargets([b1, b2], { temperature: 4 });
    const both = take(kdLossFromSoftTargets(a, mix, { temperature: 4 }))[0]!;
    // KL is convex in the target: KL(mix || p) <= mean of the KLs
    expect(both).toBeLessThanOrEqual((kd(s, t1, 4) + kd(s, t2, 4)) / 2 + 1e-6);
    expect(both).toBeGreaterThan(0);
    tf.dispose([a, b1, b2, single, mix]);
  });
});
