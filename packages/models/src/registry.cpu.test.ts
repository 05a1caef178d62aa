import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardShape, sgdStep } from './__fixtures__/zoo-step.js';
import { countTrainableParams, createModel, listModels, MODEL_NAMES } from './registry.js';

// Every zoo model on the pure-JS cpu backend: its parameter count, a forward pass of its documented input
// shape and one optimiser step that changes every trainable weight. Batches of 2 (batch norm needs more
// than one value per channel in the last VGG block, which is 1x1). The 4x-wide ResNet-32 (1.1 GMAC per
// 32x32 image) steps on 16x16 images on this slow backend: global average pooling makes its weights
// independent of the spatial size, and its 32x32 forward pass is still checked.
const STEP_SHAPE: Partial<Record<string, number[]>> = { resnet32x4: [16, 16, 3] };

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('zoo models on cpu', () => {
  const infos = new Map(listModels().map((m) => [m.name, m]));
  for (const name of MODEL_NAMES) {
    it(`${name}: parameter count, forward pass, one optimiser step`, () => {
      const info = infos.get(name);
      if (!info) throw new Error(`no listModels() row for ${name}`);
      const model = createModel(name, { seed: 5 });
      expect(countTrainableParams(model)).toBe(info.parameterCount);
      const start = tf.memory().numTensors;
      const out = forwardShape(model, info.defaultInputShape, name === 'resnet32x4' ? 1 : 2);
      expect(out.shape).toEqual([name === 'resnet32x4' ? 1 : 2, 10]);
      expect(out.finite).toBe(true);
      const { unchanged, loss } = sgdStep(model, STEP_SHAPE[name] ?? info.defaultInputShape, 2);
      expect(Number.isFinite(loss)).toBe(true);
      expect(unchanged).toEqual([]);
      expect(tf.memory().numTensors).toBe(start);
      model.dispose();
    });
  }
});
