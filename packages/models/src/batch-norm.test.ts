import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import torchFixture from './__fixtures__/batch-norm-torch.json';
import { batchNormalization } from './batch-norm.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function random(rng: Rng, shape: number[], scale = 1, shift = 0): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(
    Array.from({ length: n }, () => shift + scale * rng.normal()),
    shape,
  );
}

/** A tfjs-layers batch-norm layer and ours with the same (non-trivial) weights, both built for `shape`. */
function pair(rng: Rng, shape: number[], args: Parameters<typeof tfl.layers.batchNormalization>[0]) {
  const theirs = tfl.layers.batchNormalization(args);
  const ours = batchNormalization(args);
  theirs.build(shape);
  ours.build(shape);
  const weights = theirs
    .getWeights()
    .map((w, i) => (i === 3 ? tf.abs(random(rng, w.shape, 1, 1)) : random(rng, w.shape, 0.5, 1)));
  theirs.setWeights(weights);
  ours.setWeights(weights);
  tf.dispose(weights);
  return { theirs, ours };
}

function maxRelativeError(
  a: Float32Array | Int32Array | Uint8Array,
  b: Float32Array | Int32Array | Uint8Array,
): number {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(
      worst,
      Math.abs((a[i] as number) - (b[i] as number)) / Math.max(Math.abs(b[i] as number), 1e-2 * scale),
    );
  }
  return worst;
}

describe('batchNormalization (fused training-mode gradient)', () => {
  it('matches tfjs-layers: forward bits, moving averages, and gradients for x, gamma and beta', () => {
    const rng = new Rng(3);
    for (const shape of [
      [6, 5, 4, 8],
      [4, 3, 3, 3],
      [9, 12],
    ]) {
      const { theirs, ours } = pair(rng, shape, { momentum: 0.9, epsilon: 1e-5 });
      const x = random(rng, shape, 2, 0.5);
      const w = random(rng, shape);
      const loss = (layer: tfl.layers.Layer) => (xs: tf.Tensor) =>
        tf.sum(tf.mul(layer.apply(xs, { training: true }) as tf.Tensor, w)) as tf.Scalar;
      // Forward values, gamma, beta and the moving mean after one training call: the same bits (the
      // moving variance averages the unbiased batch variance; checked against PyTorch below).
      const yTheirs = theirs.apply(x, { training: true }) as tf.Tensor;
      const yOurs = ours.apply(x, { training: true }) as tf.Tensor;
      expect(Array.from(yOurs.dataSync())).toEqual(Array.from(yTheirs.dataSync()));
      const wTheirs = theirs.getWeights().map((t) => Array.from(t.dataSync()));
      const wOurs = ours.getWeights().map((t) => Array.from(t.dataSync()));
      expect(wOurs.slice(0, 3)).toEqual(wTheirs.slice(0, 3));
      // Gradients for x, gamma and beta (tfjs's composed gradient against the closed form).
      const dxTheirs = tf.grad(loss(theirs))(x);
      const dxOurs = tf.grad(loss(ours))(x);
      expect(maxRelativeError(dxOurs.dataSync(), dxTheirs.dataSync())).toBeLessThan(1e-4);
      const vars = (layer: tfl.layers.Layer) =>
        layer.trainableWeights.map((v) => (v as unknown as { read(): tf.Variable }).read());
      const gTheirs = tf.variableGrads(() => loss(theirs)(x), vars(theirs)).grads;
      const gOurs = tf.variableGrads(() => loss(ours)(x), vars(ours)).grads;
      const names = (layer: tfl.layers.Layer) => vars(layer).map((v) => v.name);
      names(theirs).forEach((name, i) => {
        const mine = gOurs[names(ours)[i] as string] as tf.Tensor;
        expect(maxRelativeError(mine.dataSync(), (gTheirs[name] as tf.Tensor).dataSync())).toBeLessThan(1e-4);
      });
      // Inference: tfjs-layers' own code, the same bits (given the same moving statistics).
      theirs.setWeights(ours.getWeights());
      const iTheirs = theirs.apply(x, { training: false }) as tf.Tensor;
      const iOurs = ours.apply(x, { training: false }) as tf.Tensor;
      expect(Array.from(iOurs.dataSync())).toEqual(Array.from(iTheirs.dataSync()));
      tf.dispose([
        x,
        w,
        yTheirs,
        yOurs,
        dxTheirs,
        dxOurs,
        iTheirs,
        iOurs,
        ...Object.values(gTheirs),
        ...Object.values(gOurs),
      ]);
    }
  });

  it('runs tfjs-layers code for other axes, serialises as BatchNormalization and leaks no tensors', () => {
    const rng = new Rng(4);
    const { theirs, ours } = pair(rng, [3, 4, 5], { axis: 1 });
    const x = random(rng, [3, 4, 5]);
    // (tfjs-layers itself cannot differentiate this broadcast case; the forward pass is compared.)
    const a = theirs.apply(x, { training: true }) as tf.Tensor;
    const b = ours.apply(x, { training: true }) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    // (this configuration runs tfjs-layers' code, moving variance included)
    expect(ours.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(
      theirs.getWeights().map((t) => Array.from(t.dataSync())),
    );
    expect(ours.getClassName()).toBe('BatchNormalization');
    expect({ ...ours.getConfig(), name: '' }).toEqual({ ...theirs.getConfig(), name: '' });
    const { ours: fused } = pair(rng, [4, 3, 3, 8], { momentum: 0.9 });
    const y = random(rng, [4, 3, 3, 8]);
    const step = () => {
      const g = tf.grad((xs: tf.Tensor) => tf.sum(fused.apply(xs, { training: true }) as tf.Tensor))(y);
      g.dispose();
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, a, b, y]);
  });
});

interface TorchCase {
  shape: number[];
  epsilon: number;
  gammaInit: number[];
  betaInit: number[];
  w: number[];
  steps: { x: number[]; runningMean: number[]; runningVar: number[]; gamma: number[]; beta: number[] }[];
}

describe('batchNormalization against PyTorch (__fixtures__/batch-norm-torch.py)', () => {
  it('keeps the unbiased running variance: running stats, gamma and beta after each of three SGD steps', () => {
    const cases = (torchFixture as unknown as { cases: TorchCase[] }).cases;
    for (const c of cases) {
      const layer = batchNormalization({ momentum: 0.9, epsilon: c.epsilon });
      layer.build(c.shape);
      const channels = c.shape[c.shape.length - 1]!;
      layer.setWeights([
        tf.tensor1d(c.gammaInit),
        tf.tensor1d(c.betaInit),
        tf.zeros([channels]),
        tf.ones([channels]),
      ]);
      const w = tf.tensor(c.w, c.shape);
      const optimizer = tf.train.sgd(0.1);
      const vars = layer.trainableWeights.map((v) => (v as unknown as { read(): tf.Variable }).read());
      for (const [i, step] of c.steps.entries()) {
        const x = tf.tensor(step.x, c.shape);
        const { value, grads } = tf.variableGrads(
          () => tf.mean(tf.mul(layer.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar,
          vars,
        );
        optimizer.applyGradients(grads);
        const [gamma, beta, mean, variance] = layer.getWeights().map((t) => Array.from(t.dataSync()));
        const where = `shape [${c.shape}] step ${i + 1}`;
        for (const [got, want, what] of [
          [mean, step.runningMean, 'running mean'],
          [variance, step.runningVar, 'running variance'],
          [gamma, step.gamma, 'gamma'],
          [beta, step.beta, 'beta'],
        ] as const) {
          for (const [k, v] of got!.entries()) expect(v, `${where} ${what}[${k}]`).toBeCloseTo(want[k]!, 4);
        }
        tf.dispose([x, value, ...Object.values(grads)]);
      }
      optimizer.dispose();
      w.dispose();
    }
  });
});
