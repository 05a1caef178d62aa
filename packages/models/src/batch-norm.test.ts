import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import torchFixture from './__fixtures__/batch-norm-torch.json';
import { batchNormalization, batchNormRelu, unfuseBatchNormRelu } from './batch-norm.js';
import { withFeatureTaps } from './feature-taps.js';

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

describe('batchNormRelu (batch norm and the ReLU after it in one op in training)', () => {
  /**
   * x -> batch norm -> ReLU, as two layers (batchNormalization's, unfused, and tfjs-layers' ReLU) or as
   * batchNormRelu's pair, with the same weights.
   */
  function models(rng: Rng, shape: number[]) {
    const input = tfl.input({ shape: shape.slice(1), name: 'x' });
    const plainBn = batchNormalization({ momentum: 0.9, epsilon: 1e-5, name: 'bn' });
    const plain = tfl.model({
      name: 'm',
      inputs: input,
      outputs: tfl.layers
        .activation({ activation: 'relu', name: 'relu' })
        .apply(plainBn.apply(input)) as tfl.SymbolicTensor,
    });
    const input2 = tfl.input({ shape: shape.slice(1), name: 'x' });
    const { batchNorm, relu } = batchNormRelu({ momentum: 0.9, epsilon: 1e-5, name: 'bn' }, { name: 'relu' });
    const fused = tfl.model({
      name: 'm',
      inputs: input2,
      outputs: relu.apply(batchNorm.apply(input2)) as tfl.SymbolicTensor,
    });
    const weights = plainBn
      .getWeights()
      .map((w, i) =>
        i === 3 ? tf.abs(random(rng, w.shape, 1, 1)) : random(rng, w.shape, 0.5, i === 0 ? 1 : 0),
      );
    plainBn.setWeights(weights);
    batchNorm.setWeights(weights);
    tf.dispose(weights);
    return { plain, fused, batchNorm, relu };
  }

  it('trains with the values of tfjs-layers batch norm + ReLU, infers and serialises as they do', () => {
    const rng = new Rng(7);
    for (const shape of [
      [6, 5, 4, 8],
      [5, 3, 3, 3],
      [9, 12],
    ]) {
      const { plain, fused, batchNorm } = models(rng, shape);
      const x = random(rng, shape, 2, 0.3);
      const w = random(rng, shape);
      const loss = (model: tfl.LayersModel) => () =>
        tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, w)) as tf.Scalar;
      const vars = (model: tfl.LayersModel) =>
        model.trainableWeights.map((v) => (v as unknown as { read(): tf.Variable }).read());
      // Forward values in training (the same ops on this backend: the same bits), about half of them zero.
      const yPlain = plain.apply(x, { training: true }) as tf.Tensor;
      const yFused = fused.apply(x, { training: true }) as tf.Tensor;
      const values = Array.from(yFused.dataSync());
      expect(values).toEqual(Array.from(yPlain.dataSync()));
      expect(values.filter((v) => v === 0).length).toBeGreaterThan(values.length / 5);
      expect(values.filter((v) => v > 0).length).toBeGreaterThan(values.length / 5);
      // Moving statistics after those calls: the same bits.
      expect(fused.getWeights().map((t) => Array.from(t.dataSync()))).toEqual(
        plain.getWeights().map((t) => Array.from(t.dataSync())),
      );
      // Gradients for x, gamma and beta through the ReLU and the batch statistics.
      const dxPlain = tf.grad((xs: tf.Tensor) =>
        tf.sum(tf.mul(plain.apply(xs, { training: true }) as tf.Tensor, w)),
      )(x);
      const dxFused = tf.grad((xs: tf.Tensor) =>
        tf.sum(tf.mul(fused.apply(xs, { training: true }) as tf.Tensor, w)),
      )(x);
      expect(maxRelativeError(dxFused.dataSync(), dxPlain.dataSync())).toBeLessThan(1e-4);
      const gPlain = tf.variableGrads(loss(plain), vars(plain)).grads;
      const gFused = tf.variableGrads(loss(fused), vars(fused)).grads;
      vars(plain).forEach((v, i) => {
        const mine = gFused[vars(fused)[i]?.name as string] as tf.Tensor;
        expect(maxRelativeError(mine.dataSync(), (gPlain[v.name] as tf.Tensor).dataSync())).toBeLessThan(
          1e-4,
        );
      });
      // Inference: tfjs-layers' own code in both.
      const iPlain = plain.apply(x, { training: false }) as tf.Tensor;
      const iFused = fused.apply(x, { training: false }) as tf.Tensor;
      expect(Array.from(iFused.dataSync())).toEqual(Array.from(iPlain.dataSync()));
      // The same layer classes and configs: a saved model is tfjs-layers' own.
      expect(fused.toJSON(undefined, false)).toEqual(plain.toJSON(undefined, false));
      expect(batchNorm.getClassName()).toBe('BatchNormalization');
      tf.dispose([
        x,
        w,
        yPlain,
        yFused,
        dxPlain,
        dxFused,
        iPlain,
        iFused,
        ...Object.values(gPlain),
        ...Object.values(gFused),
      ]);
    }
  });

  it('gives feature taps at the batch norm its own output (unfused), and leaks no tensors', () => {
    const rng = new Rng(8);
    const shape = [4, 3, 3, 8];
    const { fused, batchNorm } = models(rng, shape);
    const x = random(rng, shape);
    const grad = () =>
      tf.grad((xs: tf.Tensor) => tf.sum(fused.apply(xs, { training: true }) as tf.Tensor))(x);
    grad().dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) grad().dispose();
    expect(tf.memory().numTensors).toBe(before);
    // Fused: the batch norm's training output is already the ReLU's.
    const bnOut = tfl.model({ inputs: fused.inputs, outputs: batchNorm.output as tfl.SymbolicTensor });
    const a = bnOut.apply(x, { training: true }) as tf.Tensor;
    expect(tf.min(a).dataSync()[0]).toBe(0);
    // A tap at the batch norm unfuses it: the tap sees negative values, the ReLU still clamps them.
    const tapped = withFeatureTaps(fused, ['bn']);
    const [y, tap] = tapped.apply(x, { training: true }) as tf.Tensor[];
    expect(tf.min(tap as tf.Tensor).dataSync()[0]).toBeLessThan(0);
    expect(tf.min(y as tf.Tensor).dataSync()[0]).toBe(0);
    unfuseBatchNormRelu(batchNorm);
    tf.dispose([x, a, y as tf.Tensor, tap as tf.Tensor]);
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
