import '@tensorflow/tfjs-backend-cpu';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseExperiment } from './experiment-schema.js';
import { checkModelName, listZoo } from './toolkit.js';

// Validation only: every shipped experiment file parses with the schema and names zoo models. Nothing is
// trained (the CIFAR-10 recipe needs a download and, in practice, a GPU).
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'experiments');
const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('shipped experiment files', () => {
  it('all parse with the schema and name zoo models', () => {
    expect(files).toContain('labml-cifar10.yaml');
    for (const f of files) {
      const exp = parseExperiment(readFileSync(join(dir, f), 'utf8'), f);
      if (exp.teacher && 'model' in exp.teacher) checkModelName(exp.teacher.model, `${f}: teacher.model`);
      for (const [i, s] of exp.students.entries()) checkModelName(s.model, `${f}: students[${i}].model`);
    }
  });

  it("labml-cifar10.yaml states labml's recipe and names zoo models for 32x32x3 CIFAR-10 images", () => {
    const exp = parseExperiment(readFileSync(join(dir, 'labml-cifar10.yaml'), 'utf8'), 'labml-cifar10.yaml');
    expect(exp.dataset.name).toBe('cifar10');
    expect(exp.defaults).toMatchObject({ optimizer: 'adam', lr: 0.00025, augment: { crop: 4, flip: true } });
    expect(exp.teacher).toMatchObject({ model: 'cifar-vgg-large', epochs: 20 });
    const distilled = exp.students.find((s) => s.loss === 'kd');
    expect(distilled).toMatchObject({ model: 'cifar-vgg-small', temperature: 5, epochs: 10 });
    expect(exp.students.find((s) => s.loss === 'ce')).toMatchObject({ model: 'cifar-vgg-small', epochs: 10 });
    // both are zoo models for 32x32x3 images, the large one bigger
    const zoo = new Map(listZoo().map((m) => [m.name as string, m]));
    const large = zoo.get('cifar-vgg-large');
    const small = zoo.get('cifar-vgg-small');
    expect(large?.defaultInputShape).toEqual([32, 32, 3]);
    expect(small?.defaultInputShape).toEqual([32, 32, 3]);
    expect(large!.parameterCount).toBeGreaterThan(small!.parameterCount);
  });
});
