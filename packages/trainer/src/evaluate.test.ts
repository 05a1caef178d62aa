import '@tensorflow/tfjs-backend-cpu';
import type { Batch, BatchStream } from '@distilljs/core';
import { layersTeacher } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from './evaluate.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A stream of fixed rows (one batch per call of `batches`). */
function fixedStream(rows: number[][], labels: number[], batchSize: number): BatchStream {
  const c = rows[0]!.length;
  return {
    size: rows.length,
    batchSize,
    inputShape: [c],
    numClasses: c,
    augmented: false,
    fingerprint: 'fixed',
    batchesPerEpoch: Math.ceil(rows.length / batchSize),
    *epoch(): Iterable<Batch> {
      for (let s = 0; s < rows.length; s += batchSize) {
        const r = rows.slice(s, s + batchSize);
        yield {
          xs: tf.tensor2d(r),
          labels: Int32Array.from(labels.slice(s, s + batchSize)),
          indices: Int32Array.from(r.map((_, i) => s + i)),
        };
      }
    },
  };
}

describe('evaluate', () => {
  it('accuracy, errors, NLL, 15-bin ECE, confusion matrix and per-class accuracy, skipping unlabelled examples', async () => {
    // A model whose logits are its inputs.
    const identity = tfl.sequential({
      layers: [tfl.layers.dense({ units: 3, inputShape: [3], useBias: false })],
    });
    identity.setWeights([tf.eye(3)]);
    const rows = [
      [2, 0, 0], // label 0, predicted 0
      [0, 3, 0], // label 2, predicted 1
      [0.5, 0, 0], // label 1, predicted 0
      [1, 0, 5], // unlabelled: ignored
      [0, 0, 1], // label 2, predicted 2
    ];
    const labels = [0, 2, 1, -1, 2];
    const start = tf.memory().numTensors;
    const r = await evaluate(identity, fixedStream(rows, labels, 2));
    expect(tf.memory().numTensors).toBe(start);
    const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((a, b) => a + Math.exp(b), 0));
    const used = [0, 1, 2, 4];
    const p = used.map((i) => softmax(rows[i]!));
    const conf = p.map((q) => Math.max(...q));
    const correct = [1, 0, 0, 1];
    expect(r.count).toBe(4);
    expect(r.accuracy).toBe(0.5);
    expect(r.errors).toBe(2);
    expect(r.nll).toBeCloseTo(-used.reduce((a, i, k) => a + Math.log(p[k]![labels[i]!]!), 0) / 4, 5);
    // Confidences 0.787, 0.909, 0.452, 0.576 fall in four different bins of width 1/15.
    expect(r.ece).toBeCloseTo(conf.reduce((a, c, k) => a + Math.abs(correct[k]! - c), 0) / 4, 5);
    expect(r.confusionMatrix).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [0, 1, 1],
    ]);
    expect(r.perClassAccuracy).toEqual([1, 0, 0.5]);
    identity.dispose();
  });

  it('shared bins average confidence and accuracy before comparing them', async () => {
    const identity = tfl.sequential({
      layers: [tfl.layers.dense({ units: 2, inputShape: [2], useBias: false })],
    });
    identity.setWeights([tf.eye(2)]);
    // Both examples have confidence sigmoid(3) = 0.9526 (same bin); one right, one wrong.
    const r = await evaluate(
      identity,
      fixedStream(
        [
          [3, 0],
          [3, 0],
        ],
        [0, 1],
        2,
      ),
    );
    const conf = 1 / (1 + Math.exp(-3));
    expect(r.ece).toBeCloseTo(Math.abs(0.5 - conf), 5);
    expect(r.perClassAccuracy).toEqual([1, 0]);
    identity.dispose();
  });

  it('evaluates any Teacher (here a softmax-head model behind the Teacher interface) as its logits model', async () => {
    const rows = [
      [2, 0, 0],
      [0, 3, 0],
      [0.5, 0, 0],
      [0, 0, 1],
      [1, 1.5, 0.2],
    ];
    const labels = [0, 2, 1, 2, 1];
    const logits = tfl.sequential({
      layers: [tfl.layers.dense({ units: 3, inputShape: [3], useBias: false })],
    });
    logits.setWeights([tf.tensor2d([0.5, -1, 2, 1, 0.3, -0.2, 0, 1.2, 0.7], [3, 3])]);
    const probs = tfl.sequential({
      layers: [tfl.layers.dense({ units: 3, inputShape: [3], useBias: false, activation: 'softmax' })],
    });
    probs.setWeights(logits.getWeights());
    const want = await evaluate(logits, fixedStream(rows, labels, 2));
    const teacher = layersTeacher(probs, 'probs-teacher');
    const start = tf.memory().numTensors;
    const got = await evaluate(teacher, fixedStream(rows, labels, 2));
    expect(tf.memory().numTensors).toBe(start);
    expect(got.accuracy).toBe(want.accuracy);
    expect(got.confusionMatrix).toEqual(want.confusionMatrix);
    expect(got.nll).toBeCloseTo(want.nll, 5);
    expect(got.ece).toBeCloseTo(want.ece, 5);
    // a teacher of another class count is refused, naming it
    const four = fixedStream(
      rows.map((r) => [...r, 0]),
      labels,
      2,
    );
    await expect(evaluate(teacher, four)).rejects.toThrow(
      'evaluate: the data has 4 classes but the teacher probs-teacher outputs 3 logits; they must agree',
    );
    logits.dispose();
    probs.dispose();
  });
});
