import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toLogitsModel } from './load-teacher.js';
import { createModel, loadTeacher, saveModel } from './node.js';

let root = '';

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'distilljs-teacher-'));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** What tensorflowjs_converter makes of a Keras MNIST MLP: Sequential, flat [784] input, Dense softmax head. */
function kerasSoftmaxMlp(): tfl.Sequential {
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      inputShape: [784],
      units: 32,
      activation: 'relu',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(
    tfl.layers.dense({
      units: 10,
      activation: 'softmax',
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }),
      biasInitializer: 'ones',
    }),
  );
  return m;
}

function expectClose(a: tf.Tensor, b: tf.Tensor, tol = 1e-6): void {
  expect(a.shape).toEqual(b.shape);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] as number);
  expect(d).toBeLessThan(tol);
}

describe('loadTeacher', () => {
  it('turns a saved Keras-style softmax model into logits whose softmax is the original output', async () => {
    const keras = kerasSoftmaxMlp();
    const dir = join(root, 'keras-mlp');
    await saveModel(keras, dir);
    // as tensorflowjs_converter writes it: no distilljs metadata
    const file = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    delete json.userDefinedMetadata;
    writeFileSync(file, JSON.stringify(json));
    const teacher = await loadTeacher(dir, { inputShape: [28, 28, 1], numClasses: 10 });
    expect(teacher.removedSoftmax).toBe(true);
    expect(teacher.messages.join('\n')).toMatch(
      /applies softmax; replaced it by a linear copy with the same weights/,
    );
    expect(teacher.messages.join('\n')).toMatch(
      /takes flat inputs \[784\]; added a reshape from the data's \[28, 28, 1\]/,
    );
    expect(teacher.model.inputs[0]?.shape).toEqual([null, 28, 28, 1]);
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 3);
    const probs = keras.predict(tf.reshape(x, [4, 784])) as tf.Tensor;
    const logits = teacher.model.predict(x) as tf.Tensor;
    expectClose(tf.softmax(logits), probs);
    // logits, not probabilities: they do not sum to one
    expect(Math.abs((tf.sum(logits, 1).dataSync()[0] as number) - 1)).toBeGreaterThan(1e-3);
    tf.dispose([x, probs, logits]);
    teacher.model.dispose();
    keras.dispose();
  });

  it('stops before a separate Activation(softmax) or Softmax layer, sharing every weight', () => {
    for (const head of ['activation', 'softmax'] as const) {
      const input = tfl.input({ shape: [6] });
      const dense = tfl.layers.dense({
        units: 4,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 5 }),
      });
      const z = dense.apply(input) as tfl.SymbolicTensor;
      const out = (
        head === 'activation' ? tfl.layers.activation({ activation: 'softmax' }) : tfl.layers.softmax()
      ).apply(z) as tfl.SymbolicTensor;
      const model = tfl.model({ inputs: input, outputs: out });
      const r = toLogitsModel(model);
      expect(r.removedSoftmax).toBe(true);
      expect(r.message).toMatch(/applies softmax; using the model up to its input/);
      expect(r.model.trainableWeights.map((w) => w.read())).toEqual(
        model.trainableWeights.map((w) => w.read()),
      );
      const x = tf.randomNormal([3, 6], 0, 1, 'float32', 4);
      const probs = model.predict(x) as tf.Tensor;
      const logits = r.model.predict(x) as tf.Tensor;
      expectClose(tf.softmax(logits), probs);
      tf.dispose([x, probs, logits]);
    }
  });

  it('leaves a logits model unchanged and accepts zoo models in memory', async () => {
    const zoo = createModel('hinton-student', { seed: 1 });
    const teacher = await loadTeacher(zoo, { inputShape: [28, 28, 1], numClasses: 10 });
    expect(teacher.model).toBe(zoo);
    expect(teacher.removedSoftmax).toBe(false);
    expect(teacher.messages).toEqual([]);
    zoo.dispose();
  });

  it('rejects a teacher whose class count or input shape disagrees with the data', async () => {
    const zoo = createModel('mnist-cnn', { seed: 1 });
    await expect(loadTeacher(zoo, { numClasses: 100 })).rejects.toThrow(InvalidArgumentError);
    await expect(loadTeacher(zoo, { numClasses: 100 })).rejects.toThrow(
      "loadTeacher: the teacher model 'mnist-cnn' outputs 10 classes but the data has 100",
    );
    await expect(loadTeacher(zoo, { inputShape: [32, 32, 3] })).rejects.toThrow(
      "loadTeacher: the teacher model 'mnist-cnn' takes input [28, 28, 1] per example but the data gives [32, 32, 3]",
    );
    const flat = kerasSoftmaxMlp();
    await expect(loadTeacher(flat, { inputShape: [32, 32, 3] })).rejects.toThrow(
      /takes input \[784\] per example but the data gives \[32, 32, 3\]/,
    );
    await expect(loadTeacher(zoo, { numClasses: 0 })).rejects.toThrow(
      /options.numClasses' must be an integer >= 1/,
    );
    zoo.dispose();
    flat.dispose();
  });

  it('names the file when a teacher cannot be loaded', async () => {
    await expect(loadTeacher(join(root, 'missing'))).rejects.toThrow(
      `${join(root, 'missing', 'model.json')} does not exist`,
    );
  });
});
