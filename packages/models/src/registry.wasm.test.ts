import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { forwardShape, sgdStep } from './__fixtures__/zoo-step.js';
import { countTrainableParams, createModel, listModels, MODEL_NAMES } from './registry.js';

// Every zoo model on the stock wasm backend of tfjs 4.22: its parameter count and a forward pass of its
// documented input shape, then one optimiser step. The MLPs train. Every model with a convolution cannot:
// tfjs-backend-wasm registers no Conv2DBackpropFilter kernel, so the gradient of any conv2d fails. This test
// pins that exact failure; @distilljs/backends' registerWasmTrainingKernels()
// adds the kernel, and the backends package tests the zoo's training with it.
const TRAINS_ON_STOCK_WASM = new Set(['hinton-teacher', 'hinton-student', 'mlp']);

beforeAll(async () => {
  await tf.setBackend('wasm');
});

describe('zoo models on stock wasm', () => {
  for (const name of MODEL_NAMES) {
    const trains = TRAINS_ON_STOCK_WASM.has(name);
    it(`${name}: parameter count, forward pass, ${trains ? 'one optimiser step' : 'a step fails for want of Conv2DBackpropFilter'}`, () => {
      const info = listModels().find((m) => m.name === name);
      if (!info) throw new Error(`no listModels() row for ${name}`);
      const model = createModel(name, { seed: 5 });
      expect(countTrainableParams(model)).toBe(info.parameterCount);
      const start = tf.memory().numTensors;
      const out = forwardShape(model, info.defaultInputShape, 2);
      expect(out.shape).toEqual([2, 10]);
      expect(out.finite).toBe(true);
      if (trains) {
        const { unchanged, loss } = sgdStep(model, info.defaultInputShape, 2);
        expect(Number.isFinite(loss)).toBe(true);
        expect(unchanged).toEqual([]);
        expect(tf.memory().numTensors).toBe(start);
      } else {
        // (tfjs keeps the tensors its gradient tape saved when a backward pass throws: no leak check here)
        expect(() => sgdStep(model, info.defaultInputShape, 2)).toThrow(
          "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'",
        );
      }
      model.dispose();
    });
  }
});
