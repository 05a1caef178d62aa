import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { kd } from './__fixtures__/reference.js';
import { expectClose, expectInvalid, expectNoLeak, take, useBackend } from './__fixtures__/tf.js';
import { attentionTransferLoss } from './attention-transfer-loss.js';
import { crossEntropy } from './cross-entropy.js';
import { dkdLoss } from './dkd-loss.js';
import { hintLoss } from './hint-loss.js';
import { logitMatchingLoss } from './logit-matching-loss.js';
import { getLoss, type LogitsLossDescriptor, listLosses } from './registry.js';

const s = [
  [1, 2, 0.5, 0],
  [-1, 0, 3, 1],
  [0, 0, 0, 2],
];
const t = [
  [0.2, 3, -1, 0],
  [2, 0, 1, 0],
  [1, 0, 0, 0],
];

function logits(name: string): LogitsLossDescriptor {
  const d = getLoss(name);
  if (d.kind !== 'logits') throw new Error(`${name} is not a logits loss`);
  return d;
}

/** Reads and disposes the three parts. */
function read(parts: { loss: tf.Scalar; soft: tf.Scalar; hard: tf.Scalar }): [number, number, number] {
  return [take(parts.loss)[0]!, take(parts.soft)[0]!, take(parts.hard)[0]!];
}

describe('loss registry', () => {
  beforeAll(() => useBackend('cpu'));

  it('lists every loss with a description, kind and aliases', () => {
    const list = listLosses();
    expect(list.map((l) => l.name)).toEqual([
      'kd',
      'dkd',
      'dist',
      'ttm',
      'wttm',
      'nkd',
      'mlkd',
      'logit-matching',
      'cross-entropy',
      'hint',
      'attention-transfer',
    ]);
    for (const l of list) {
      expect(l.description.length).toBeGreaterThan(20);
      expect(l.paper.length, `${l.name}'s paper`).toBeGreaterThan(10);
      expect(getLoss(l.name).kind).toBe(l.kind);
    }
    expect(list.find((l) => l.name === 'kd')!.aliases).toContain('hinton');
    expect(getLoss('hinton')).toBe(getLoss('kd'));
    expect(getLoss(' KD ')).toBe(getLoss('kd'));
    expect(getLoss('hint').kind).toBe('features');
    expect(getLoss('attention-transfer').kind).toBe('features');
  });

  it('throws an InvalidArgumentError listing the valid names for an unknown one', () => {
    expectInvalid(
      () => getLoss('kld'),
      /^getLoss:/,
      /'name'/,
      /'kd'/,
      /'dkd'/,
      /'logit-matching'/,
      /'hinton'/,
      /got 'kld'/,
    );
  });

  it("computes 'kd' as distillationLoss, treating -1 labels as unlabelled", () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const labels = Int32Array.from([1, -1, 3]);
    const [loss, soft, hard] = read(
      logits('kd').compute({ studentLogits: a, teacherLogits: b, labels, temperature: 4, alpha: 0.3 }),
    );
    const ce = take(crossEntropy(a, labels, { ignoreIndex: -1 }))[0]!;
    expectClose([soft, hard, loss], [kd(s, t, 4), ce, 0.3 * kd(s, t, 4) + 0.7 * ce], 'kd parts');
    expectNoLeak(() =>
      read(
        logits('hinton').compute({ studentLogits: a, teacherLogits: b, labels, temperature: 4, alpha: 0.3 }),
      ),
    );
    tf.dispose([a, b]);
  });

  it("computes 'dkd' with dkdAlpha/dkdBeta (defaults 1 and 8) and the teacher's top class for unlabelled rows", () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const [loss, soft, hard] = read(
      logits('dkd').compute({
        studentLogits: a,
        teacherLogits: b,
        labels: [1, 2, 3],
        temperature: 4,
        alpha: 0.5,
      }),
    );
    const dkd = take(dkdLoss(a, b, [1, 2, 3], { alpha: 1, beta: 8, temperature: 4 }))[0]!;
    const ce = take(crossEntropy(a, [1, 2, 3]))[0]!;
    expectClose([soft, hard, loss], [dkd, ce, 0.5 * dkd + 0.5 * ce], 'dkd parts');
    const [, softU] = read(
      logits('dkd').compute({
        studentLogits: a,
        teacherLogits: b,
        labels: [1, -1, 3],
        temperature: 2,
        alpha: 1,
        dkdAlpha: 2,
        dkdBeta: 0.5,
      }),
    );
    // teacher row 1 = [2, 0, 1, 0] -> top class 0
    expectClose(
      [softU],
      take(dkdLoss(a, b, [1, 0, 3], { alpha: 2, beta: 0.5, temperature: 2 })),
      'unlabelled dkd',
    );
    expectNoLeak(() =>
      read(
        logits('dkd').compute({
          studentLogits: a,
          teacherLogits: b,
          labels: [1, -1, 3],
          temperature: 4,
          alpha: 0.5,
        }),
      ),
    );
    tf.dispose([a, b]);
  });

  it("computes 'logit-matching' and 'cross-entropy' (which needs no teacher)", () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    const y = [0, 1, 2];
    const [loss, soft, hard] = read(
      logits('logit-matching').compute({
        studentLogits: a,
        teacherLogits: b,
        labels: y,
        temperature: 4,
        alpha: 0.25,
      }),
    );
    const lm = take(logitMatchingLoss(a, b))[0]!;
    const ce = take(crossEntropy(a, y))[0]!;
    expectClose([soft, hard, loss], [lm, ce, 0.25 * lm + 0.75 * ce], 'logit matching');
    const ceParts = read(
      logits('cross-entropy').compute({
        studentLogits: a,
        labels: y,
        temperature: 1,
        alpha: 0.5,
        labelSmoothing: 0.1,
      }),
    );
    const ceSmooth = take(crossEntropy(a, y, { labelSmoothing: 0.1 }))[0]!;
    expectClose(ceParts, [ceSmooth, 0, ceSmooth], 'cross-entropy');
    tf.dispose([a, b]);
  });

  it('computes the feature losses from pairs', () => {
    const s1 = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 5);
    const t1 = tf.randomNormal([2, 4, 4, 3], 0, 1, 'float32', 6);
    const t2 = tf.randomNormal([2, 4, 4, 6], 0, 1, 'float32', 7);
    const hint = getLoss('fitnets');
    const at = getLoss('at');
    if (hint.kind !== 'features' || at.kind !== 'features') throw new Error('feature losses expected');
    const double = (x: tf.Tensor) => tf.concat([x, x], 3);
    const expectedHint = (take(hintLoss(s1, t1))[0]! + take(hintLoss(s1, t2, { regressor: double }))[0]!) / 2;
    expectClose(
      take(
        hint.compute({
          pairs: [
            [s1, t1],
            [s1, t2],
          ],
          regressors: [undefined, double],
        }),
      ),
      [expectedHint],
      'hint',
    );
    expectClose(
      take(at.compute({ pairs: [[s1, t2]], beta: 10, p: 2 })),
      take(attentionTransferLoss([[s1, t2]], { beta: 10 })),
      'attention transfer',
    );
    expectNoLeak(() =>
      take(
        hint.compute({
          pairs: [
            [s1, t1],
            [s1, t2],
          ],
          regressors: [undefined, double],
        }),
      ),
    );
    expectInvalid(
      () =>
        hint.compute({
          pairs: [
            [s1, t1],
            [s1, t2],
          ],
        }),
      /^hintLoss:/,
      /regressor/,
    );
    expectInvalid(() => at.compute({ pairs: [] }), /'pairs'/, /non-empty/);
    tf.dispose([s1, t1, t2]);
  });

  it('validates inputs before allocating: bad alpha, missing teacher, bad labels leak nothing', () => {
    const a = tf.tensor2d(s);
    const b = tf.tensor2d(t);
    expectInvalid(
      () =>
        logits('kd').compute({
          studentLogits: a,
          teacherLogits: b,
          labels: [0, 1, 2],
          temperature: 1,
          alpha: 2,
        }),
      /'alpha'/,
      /\[0, 1\]/,
    );
    expectInvalid(
      () =>
        logits('dkd').compute({
          studentLogits: a,
          teacherLogits: b,
          labels: [0, 1, 2],
          temperature: 1,
          alpha: -1,
        }),
      /'alpha'/,
    );
    expectInvalid(
      () =>
        logits('logit-matching').compute({ studentLogits: a, labels: [0, 1, 2], temperature: 1, alpha: 0.5 }),
      /'teacherLogits'/,
    );
    expectInvalid(
      () =>
        logits('logit-matching').compute({
          studentLogits: a,
          teacherLogits: b,
          labels: [0, 9, 2],
          temperature: 1,
          alpha: 0.5,
        }),
      /'labels'/,
      /got 9/,
    );
    expectInvalid(
      () =>
        logits('dkd').compute({
          studentLogits: a,
          teacherLogits: b,
          labels: [0, 9, 2],
          temperature: 1,
          alpha: 0.5,
        }),
      /'labels'/,
      /got 9/,
    );
    expectInvalid(
      () =>
        logits('dkd').compute({
          studentLogits: a,
          teacherLogits: b,
          labels: [0, 1, 2],
          temperature: 0,
          alpha: 0.5,
        }),
      /'temperature'/,
    );
    tf.dispose([a, b]);
  });
});
