import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useFastCpuConv2DBackpropFilter } from './__fixtures__/cpu-conv-filter-grad.js';
import { forwardShape, sgdStep } from './__fixtures__/zoo-step.js';
import { countTrainableParams, createModel, listModels, MODEL_NAMES } from './registry.js';

// Every zoo model on the pure-JS cpu backend: its parameter count, a forward pass of its documented input
// shape and one optimiser step (batch 2) that changes every trainable weight.
// The MLPs and LeNet-5 step on the stock kernels. The other CNNs step with the stock cpu
// Conv2DBackpropFilter swapped for the equivalent fast fixture (checked against the stock kernel in
// __fixtures__/cpu-conv-filter-grad.test.ts): the stock one is ~100x slower than the forward convolution,
// minutes per step for the VGGs and wide ResNets. To keep this file near a minute on 2 cores, the big
// models do their forward pass on one 32x32 image, and the deep and wide ResNets (0.13 to 1.1 GMAC per
// 32x32 image) step on 16x16 images: global average pooling makes their weights independent of the image
// size, and resnet20 steps at 32x32.
const FAST_FILTER_GRAD = new Set([
  'mnist-cnn',
  'cifar-vgg-large',
  'cifar-vgg-small',
  'resnet20',
  'resnet56',
  'resnet8x4',
  'resnet32x4',
]);
const STEP_SHAPE: Partial<Record<string, number[]>> = {
  resnet56: [16, 16, 3],
  resnet8x4: [16, 16, 3],
  resnet32x4: [16, 16, 3],
};
const FORWARD_BATCH: Partial<Record<string, number>> = {
  'cifar-vgg-large': 1,
  resnet56: 1,
  resnet8x4: 1,
  resnet32x4: 1,
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('zoo models on cpu', () => {
  for (const name of MODEL_NAMES) {
    it(`${name}: parameter count, forward pass, one optimiser step`, () => {
      const info = listModels().find((m) => m.name === name);
      if (!info) throw new Error(`no listModels() row for ${name}`);
      const model = createModel(name, { seed: 5 });
      expect(countTrainableParams(model)).toBe(info.parameterCount);
      const start = tf.memory().numTensors;
      const batch = FORWARD_BATCH[name] ?? 2;
      const out = forwardShape(model, info.defaultInputShape, batch);
      expect(out.shape).toEqual([batch, 10]);
      expect(out.finite).toBe(true);
      const restore = FAST_FILTER_GRAD.has(name) ? useFastCpuConv2DBackpropFilter() : () => {};
      try {
        const { unchanged, loss } = sgdStep(model, STEP_SHAPE[name] ?? info.defaultInputShape, 2);
        expect(Number.isFinite(loss)).toBe(true);
        expect(unchanged).toEqual([]);
      } finally {
        restore();
      }
      expect(tf.memory().numTensors).toBe(start);
      model.dispose();
    }, 120_000);
  }
});
