import '@tensorflow/tfjs-backend-cpu';
import { InvalidArgumentError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { getModelMetadata } from './model-metadata.js';
import {
  countTrainableParams,
  createModel,
  listModels,
  MODEL_NAMES,
  type ModelName,
  parseModelSpec,
} from './registry.js';

// The trainable parameter counts of issue 5 (10 classes); the ResNets' are those of the reference
// implementations: He et al.'s resnet20 0.27M / resnet56 0.85M, RepDistiller's resnet8x4 / resnet32x4
// (1.23M / 7.43M with 100 classes, i.e. 90 * 257 more than with 10).
const EXPECTED: Record<ModelName, number> = {
  'hinton-teacher': 2_395_210,
  'hinton-student': 1_276_810,
  mlp: 784 * 30 + 30 + 30 * 30 + 30 + 30 * 10 + 10,
  'mnist-cnn': 421_642,
  lenet5: 61_706,
  'cifar-vgg-large': 14_728_266,
  'cifar-vgg-small': 437_034,
  resnet20: 269_722,
  resnet56: 853_018,
  resnet8x4: 1_233_540 - 90 * 257,
  resnet32x4: 7_433_860 - 90 * 257,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('listModels', () => {
  it('lists every zoo model with the exact trainable parameter counts', () => {
    const rows = listModels();
    expect(rows.map((r) => r.name)).toEqual([...MODEL_NAMES]);
    for (const row of rows) {
      expect(row.parameterCount, row.name).toBe(EXPECTED[row.name]);
      expect(row.description.length, row.name).toBeGreaterThan(10);
      expect(row.source.length, row.name).toBeGreaterThan(10);
      expect(row.featureTaps.length, row.name).toBeGreaterThan(0);
    }
    expect(rows.find((r) => r.name === 'resnet20')?.defaultInputShape).toEqual([32, 32, 3]);
    expect(rows.find((r) => r.name === 'hinton-student')?.defaultInputShape).toEqual([28, 28, 1]);
  });

  it('leaves no tensors behind', () => {
    const before = tf.memory().numTensors;
    listModels();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('createModel', () => {
  it('builds the small models with the listed counts, a linear last layer and recorded metadata', () => {
    for (const name of ['hinton-student', 'mlp', 'mnist-cnn', 'lenet5', 'resnet20'] as const) {
      const model = createModel(name, { seed: 1 });
      expect(countTrainableParams(model), name).toBe(EXPECTED[name]);
      const last = model.layers[model.layers.length - 1] as (typeof model.layers)[number];
      expect((last.getConfig() as { activation?: string }).activation, name).toBe('linear');
      const meta = getModelMetadata(model);
      expect(meta.zooName).toBe(name);
      expect(meta.config?.numClasses).toBe(10);
      expect(meta.config?.seed).toBe(1);
      model.dispose();
    }
  });

  it('gives identical weights for the same seed and different weights for another seed', () => {
    const a = createModel('resnet20', { seed: 42 });
    const b = createModel('resnet20', { seed: 42 });
    const c = createModel('resnet20', { seed: 43 });
    const wa = a.getWeights();
    const wb = b.getWeights();
    const wc = c.getWeights();
    expect(wa.length).toBe(wb.length);
    let differs = 0;
    wa.forEach((w, i) => {
      expect(Array.from(w.dataSync()), a.weights[i]?.name).toEqual(
        Array.from((wb[i] as tf.Tensor).dataSync()),
      );
      if (w.shape.length === 4 && tf.any(tf.notEqual(w, wc[i] as tf.Tensor)).dataSync()[0]) differs++;
    });
    expect(differs).toBe(wa.filter((w) => w.shape.length === 4).length);
    for (const m of [a, b, c]) m.dispose();
  });

  it('builds the paper MLPs: Flatten first, dropout and max-norm on the teacher only', () => {
    const teacher = createModel('hinton-teacher');
    expect(teacher.layers.map((l) => l.getClassName())).toEqual([
      'InputLayer',
      'Flatten',
      'Dropout',
      'Dense',
      'Dropout',
      'Dense',
      'Dropout',
      'Dense',
    ]);
    const rates = teacher.layers
      .filter((l) => l.getClassName() === 'Dropout')
      .map((l) => (l.getConfig() as { rate: number }).rate);
    expect(rates).toEqual([0.2, 0.5, 0.5]);
    const hidden = teacher.getLayer('hidden1').getConfig() as {
      kernelConstraint?: { className: string; config: { maxValue: number } };
    };
    expect(hidden.kernelConstraint?.className).toBe('MaxNorm');
    expect(hidden.kernelConstraint?.config.maxValue).toBe(15);
    const student = createModel('hinton-student');
    expect(student.layers.some((l) => l.getClassName() === 'Dropout')).toBe(false);
    expect(
      (student.getLayer('hidden1').getConfig() as { kernelConstraint?: unknown }).kernelConstraint,
    ).toBeNull();
    teacher.dispose();
    student.dispose();
  });

  it('draws a fresh dropout mask at every training call (seeded tfjs dropout would repeat one)', () => {
    const teacher = createModel('hinton-teacher', { seed: 1 });
    const x = tf.ones([1, 28, 28, 1]);
    const a = teacher.apply(x, { training: true }) as tf.Tensor;
    const b = teacher.apply(x, { training: true }) as tf.Tensor;
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync()));
    const c = teacher.apply(x) as tf.Tensor;
    const d = teacher.apply(x) as tf.Tensor;
    expect(Array.from(c.dataSync())).toEqual(Array.from(d.dataSync()));
    tf.dispose([x, a, b, c, d]);
    teacher.dispose();
  });

  it('takes mlp options, other input shapes and class counts', () => {
    const m = createModel('mlp', { hiddenUnits: [30], dropout: 0.1, numClasses: 3, inputShape: [8, 8, 1] });
    expect(countTrainableParams(m)).toBe(64 * 30 + 30 + 30 * 3 + 3);
    expect(m.outputs[0]?.shape).toEqual([null, 3]);
    const r = createModel('resnet20', { numClasses: 100 });
    expect(countTrainableParams(r)).toBe(EXPECTED.resnet20 + 90 * 65);
    m.dispose();
    r.dispose();
  });

  it('rejects an unknown name, listing the valid names', () => {
    const call = () => createModel('resnet18' as ModelName);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(
      /unknown model "resnet18"; valid names are 'hinton-teacher', 'hinton-student', 'mlp'.*'resnet32x4'/,
    );
  });

  it('rejects options the model does not use and invalid values, naming the option', () => {
    expect(() => createModel('resnet20', { hiddenUnits: [10] })).toThrow(
      /option 'hiddenUnits' is not used by 'resnet20'; it accepts 'inputShape'/,
    );
    expect(() => createModel('mlp', { hiddenUnits: [0] })).toThrow(
      /options.hiddenUnits' must be an array of integers >= 1/,
    );
    expect(() => createModel('mlp', { dropout: 1.5 })).toThrow(
      /options.dropout' must be a number in \[0, 0.99\], got 1.5/,
    );
    expect(() => createModel('mnist-cnn', { inputShape: [784] })).toThrow(
      /options.inputShape' must be an array of length 3/,
    );
    expect(() => createModel('mnist-cnn', { numClasses: 0 })).toThrow(
      /options.numClasses' must be an integer >= 1, got 0/,
    );
    expect(() => createModel('mlp', { seed: Number.NaN })).toThrow(/options.seed' must be a finite number/);
    expect(() => createModel('cifar-vgg-small', { inputShape: [8, 8, 3] })).toThrow(
      /cannot build 'cifar-vgg-small' for input shape \[8, 8, 3\]/,
    );
  });

  it('returns logits and the default feature maps with features: true', () => {
    const model = createModel('resnet20', { features: true, seed: 3 });
    const out = model.predict(tf.zeros([1, 32, 32, 3])) as tf.Tensor[];
    expect(out.map((t) => t.shape)).toEqual([
      [1, 10],
      [1, 32, 32, 16],
      [1, 16, 16, 32],
      [1, 8, 8, 64],
    ]);
    tf.dispose(out);
    model.dispose();
  });
});

describe('the zoo fits the data', () => {
  it("'mlp' and 'mlp:512,256' take any input shape", async () => {
    await tf.setBackend('cpu');
    const table = createModel('mlp:16,8', { inputShape: [30], numClasses: 2, seed: 1 });
    expect(table.inputs[0]!.shape).toEqual([null, 30]);
    expect(table.layers.filter((l) => l.name.startsWith('hidden')).map((l) => l.outputShape)).toEqual([
      [null, 16],
      [null, 8],
    ]);
    const grid = createModel('mlp', { inputShape: [4, 5], numClasses: 3 });
    const out = grid.predict(tf.zeros([2, 4, 5])) as tf.Tensor;
    expect(out.shape).toEqual([2, 3]);
    out.dispose();
    table.dispose();
    grid.dispose();
    expect(parseModelSpec('mlp:512,256')).toEqual({ name: 'mlp', hiddenUnits: [512, 256] });
    expect(() => parseModelSpec('mlp:5,x')).toThrow("'mlp:' then comma-separated hidden-layer sizes");
  });

  it('an image model refuses table rows and says which models fit', () => {
    expect(() => createModel('mnist-cnn', { inputShape: [64], numClasses: 10 })).toThrow(
      "createModel: argument 'options.inputShape' must be an array of length 3 ([height, width, channels]) of integers >= 1 for 'mnist-cnn' (models that take [64]: 'hinton-teacher', 'hinton-student', 'mlp', 'mlp:UNITS,...' (e.g. 'mlp:512,256')), got an array of length 1",
    );
  });
});
