import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyWeightConstraints } from './apply-weight-constraints.js';
import { createModel } from './registry.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function maxColumnNorm(w: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.sqrt(tf.sum(tf.square(w), 0))).dataSync()[0] as number);
}

describe('applyWeightConstraints', () => {
  it("projects the teacher's kernels back to max-norm 15 after an optimiser step pushed them out", () => {
    const model = createModel('mlp', { hiddenUnits: [16], inputShape: [4], maxNorm: 15, seed: 1 });
    const kernel = model.getLayer('hidden1').trainableWeights[0];
    if (!kernel) throw new Error('no kernel');
    // what a large SGD step can do: tfjs-layers does not apply constraints after optimizer updates
    (kernel.read() as tf.Variable).assign(tf.mul(kernel.read(), 100));
    expect(maxColumnNorm(kernel.read())).toBeGreaterThan(15);
    const before = tf.memory().numTensors;
    expect(applyWeightConstraints(model)).toBe(2); // hidden1 and logits kernels
    expect(tf.memory().numTensors).toBe(before);
    expect(maxColumnNorm(kernel.read())).toBeLessThanOrEqual(15 + 1e-3);
    expect(maxColumnNorm(kernel.read())).toBeGreaterThan(14.9);
  });

  it('does nothing to models without constraints', () => {
    const model = createModel('mlp', { seed: 1 });
    const w = model.getWeights()[0] as tf.Tensor;
    const copy = w.dataSync().slice();
    expect(applyWeightConstraints(model)).toBe(0);
    expect(Array.from(model.getWeights()[0]?.dataSync() ?? [])).toEqual(Array.from(copy));
  });
});
