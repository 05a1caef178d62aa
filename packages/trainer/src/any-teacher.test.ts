import '@tensorflow/tfjs-backend-cpu';
import { type Batch, isTeacher, type Teacher } from '@distilljs/core';
import { layersTeacher } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, sameBits, toyStream, weightBytes } from './__fixtures__/toy.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { distill } from './distill.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A Teacher that is not a tfjs model: an async function of the batch (as an inference engine would be). */
function asyncTeacher(model: tfl.LayersModel, calls = { n: 0 }): Teacher {
  return {
    kind: 'custom',
    name: 'async-mlp',
    inputShape: [8],
    inputLayout: 'flat',
    numClasses: 4,
    notes: [],
    async logits(batch: Batch) {
      calls.n++;
      await new Promise((r) => setTimeout(r, 0));
      const values = (await (model.predict(batch.xs) as tf.Tensor).data()) as Float32Array;
      return tf.tensor2d(values, [batch.labels.length, 4]);
    },
    fingerprint: async () => 'async-mlp-v1',
    dispose() {},
  };
}

/** The same MLP with a softmax head (Keras style: the last Dense has activation 'softmax'). */
function withSoftmaxHead(model: tfl.LayersModel): tfl.LayersModel {
  const out = tfl.sequential();
  for (const [i, layer] of model.layers.entries()) {
    const config = { ...(layer.getConfig() as Record<string, unknown>) };
    if (i === model.layers.length - 1) config.activation = 'softmax';
    if (i === 0) config.batchInputShape = [null, 8];
    out.add(tfl.layers.dense(config as unknown as Parameters<typeof tfl.layers.dense>[0]));
  }
  out.setWeights(model.getWeights());
  return out;
}

const data = gaussianData({ seed: 21, count: 96 });
const opts = { epochs: 2, optimizer: { name: 'adam' as const, lr: 0.01 }, seed: 4 };

describe('distill() with any Teacher', () => {
  it('an async non-tfjs Teacher gives bit-identical students to the same Layers model, cached once', async () => {
    const teacher = mlp(8, [16], 4, 7);
    const a = mlp(8, [8], 4, 9);
    const b = mlp(8, [8], 4, 9);
    await distill({ teacher, student: a, data: toyStream(data, { batchSize: 32, seed: 3 }), ...opts });
    const calls = { n: 0 };
    const t = asyncTeacher(teacher, calls);
    expect(isTeacher(t)).toBe(true);
    expect(isTeacher(teacher)).toBe(false);
    const h = await distill({
      teacher: t,
      student: b,
      data: toyStream(data, { batchSize: 32, seed: 3 }),
      ...opts,
    });
    expect(sameBits(weightBytes(a), weightBytes(b))).toBe(true);
    expect(calls.n).toBe(3); // one cache fill over 96 examples in batches of 32, not once per epoch
    expect(h.notes.join(' ')).toMatch(/teacher-output cache: on/);
  });

  it('keys a stored cache by the Teacher fingerprint', async () => {
    const teacher = mlp(8, [16], 4, 7);
    const store = new MemoryCheckpointStore();
    const calls = { n: 0 };
    const run = () =>
      distill({
        teacher: asyncTeacher(teacher, calls),
        student: mlp(8, [8], 4, 9),
        data: toyStream(data, { batchSize: 32, seed: 3 }),
        ...opts,
        teacherCache: { store },
      });
    await run();
    const h = await run();
    expect(calls.n).toBe(3);
    expect(h.notes.join(' ')).toMatch(/outputs loaded from/);
  });

  it('runs an async Teacher on every batch when the data is augmented', async () => {
    const calls = { n: 0 };
    await distill({
      teacher: asyncTeacher(mlp(8, [16], 4, 7), calls),
      student: mlp(8, [8], 4, 9),
      data: toyStream(data, { batchSize: 32, seed: 3, augmented: true }),
      ...opts,
    });
    expect(calls.n).toBe(6);
  });

  it('refuses a Teacher of another class count or input shape, naming both', async () => {
    const t = asyncTeacher(mlp(8, [16], 4, 7));
    const student = mlp(8, [8], 4, 9);
    const stream = toyStream(data, { batchSize: 32 });
    await expect(
      distill({ teacher: { ...t, numClasses: 3 }, student, data: stream, ...opts }),
    ).rejects.toThrow(/'teacher' \(async-mlp\) outputs 3 classes but 'student' outputs 4/);
    await expect(
      distill({ teacher: { ...t, inputShape: [28, 28, 1] }, student, data: stream, ...opts }),
    ).rejects.toThrow(/takes examples of shape \[28, 28, 1\] but the data gives \[8\]/);
  });
});

describe('softmax heads', () => {
  it('a Layers teacher with a softmax head teaches with its log-probabilities, and says so', async () => {
    const logitsTeacher = mlp(8, [16], 4, 7);
    const softmaxTeacher = withSoftmaxHead(logitsTeacher);
    const wrapped = layersTeacher(softmaxTeacher);
    expect(wrapped.notes[0]).toMatch(/ends in a softmax .*using the log of its probabilities as logits/);
    const xs = tf.tensor2d(data.x.slice(0, 80), [10, 8]);
    const batch = { xs, labels: new Int32Array(10), indices: new Int32Array(10) };
    const lp = await wrapped.logits(batch);
    const want = tf.logSoftmax(logitsTeacher.predict(xs) as tf.Tensor2D);
    expect(tf.max(tf.abs(tf.sub(lp, want))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([lp, want, xs]);
    const h = await distill({
      teacher: softmaxTeacher,
      student: mlp(8, [8], 4, 9),
      data: toyStream(data, { batchSize: 32 }),
      ...opts,
    });
    expect(h.notes.join(' ')).toMatch(/ends in a softmax/);
  });

  it('refuses a student with a softmax head in fit and distill, saying how to build it with logits', async () => {
    const student = withSoftmaxHead(mlp(8, [8], 4, 9));
    const stream = toyStream(data, { batchSize: 32 });
    await expect(fit(student, stream, opts)).rejects.toThrow(
      /fit: 'model' ends in a softmax \('dense_\w+' \(Dense, activation 'softmax'\)\), but the losses expect logits; build it with a linear last layer/,
    );
    await expect(distill({ teacher: mlp(8, [16], 4, 7), student, data: stream, ...opts })).rejects.toThrow(
      /distill: 'student' ends in a softmax/,
    );
  });

  it('evaluate() gives the same results for a softmax head as for its logits model', async () => {
    const logits = mlp(8, [16], 4, 7);
    const test = toyStream(data, { batchSize: 40, shuffle: false });
    const a = await evaluate(logits, test);
    const b = await evaluate(withSoftmaxHead(logits), test);
    expect(b.accuracy).toBe(a.accuracy);
    expect(Math.abs(b.nll - a.nll)).toBeLessThan(1e-5);
  });
});
