import '@tensorflow/tfjs-backend-cpu';
import { Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { conv2d } from './conv2d.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function random(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(
    Array.from({ length: n }, () => rng.normal()),
    shape,
  );
}

type ConvArgs = Parameters<typeof tfl.layers.conv2d>[0];

/** A tfjs-layers conv layer and ours with the same random weights, both built for `shape`. */
function pair(rng: Rng, shape: number[], args: ConvArgs) {
  const theirs = tfl.layers.conv2d(args);
  const ours = conv2d(args);
  theirs.build(shape);
  ours.build(shape);
  const weights = theirs.getWeights().map((w) => random(rng, w.shape));
  theirs.setWeights(weights);
  ours.setWeights(weights);
  tf.dispose(weights);
  return { theirs, ours };
}

const vars = (layer: tfl.layers.Layer) =>
  layer.trainableWeights.map((v) => (v as unknown as { read(): tf.Variable }).read());

/** The kernel names one call of `f` runs. */
async function kernelsOf(f: () => tf.TensorContainer): Promise<string[]> {
  const info = await tf.profile(() => {
    const out = f();
    return out;
  });
  return info.kernels.map((k) => k.name);
}

describe('conv2d (per-input gradients)', () => {
  const cases: Array<[number[], ConvArgs]> = [
    [[3, 6, 6, 4], { filters: 5, kernelSize: 3, padding: 'same' }],
    [[2, 7, 7, 3], { filters: 4, kernelSize: 3, padding: 'valid', strides: 2 }],
    [[2, 5, 5, 2], { filters: 3, kernelSize: 3, padding: 'same', useBias: false }],
    [[2, 6, 6, 1], { filters: 3, kernelSize: 5, padding: 'same', activation: 'tanh' }],
    [[2, 6, 6, 2], { filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' }],
  ];

  it('gives tfjs-layers’ outputs bit for bit and its gradients for the input and every weight', () => {
    const rng = new Rng(5);
    for (const [shape, args] of cases) {
      const { theirs, ours } = pair(rng, shape, args);
      const x = random(rng, shape);
      const yTheirs = theirs.apply(x) as tf.Tensor;
      const yOurs = ours.apply(x) as tf.Tensor;
      expect(yOurs.shape).toEqual(yTheirs.shape);
      expect(Array.from(yOurs.dataSync())).toEqual(Array.from(yTheirs.dataSync()));
      const w = random(rng, yTheirs.shape);
      const loss = (layer: tfl.layers.Layer) => (xs: tf.Tensor) =>
        tf.sum(tf.mul(layer.apply(xs, { training: true }) as tf.Tensor, w)) as tf.Scalar;
      const dxTheirs = tf.grad(loss(theirs))(x);
      const dxOurs = tf.grad(loss(ours))(x);
      expect(Array.from(dxOurs.dataSync())).toEqual(Array.from(dxTheirs.dataSync()));
      const gTheirs = tf.variableGrads(() => loss(theirs)(x), vars(theirs)).grads;
      const gOurs = tf.variableGrads(() => loss(ours)(x), vars(ours)).grads;
      const names = (layer: tfl.layers.Layer) => vars(layer).map((v) => v.name);
      expect(names(ours).length).toBe(names(theirs).length);
      names(theirs).forEach((name, i) => {
        const a = gOurs[names(ours)[i] as string] as tf.Tensor;
        const b = gTheirs[name] as tf.Tensor;
        expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      });
      tf.dispose([
        x,
        w,
        yTheirs,
        yOurs,
        dxTheirs,
        dxOurs,
        ...Object.values(gTheirs),
        ...Object.values(gOurs),
      ]);
    }
  });

  it('does not compute the input gradient of a convolution applied to data, and leaks no tensor', async () => {
    const rng = new Rng(6);
    const shape = [2, 6, 6, 3];
    const { theirs, ours } = pair(rng, shape, { filters: 4, kernelSize: 3, padding: 'same' });
    const x = random(rng, shape);
    const step = (layer: tfl.layers.Layer) => () => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
        vars(layer),
      );
      tf.dispose([value, ...Object.values(grads)]);
      return [] as tf.Tensor[];
    };
    expect(await kernelsOf(step(theirs))).toContain('Conv2DBackpropInput');
    const kernels = await kernelsOf(step(ours));
    expect(kernels).toContain('Conv2DBackpropFilter');
    expect(kernels).not.toContain('Conv2DBackpropInput');
    step(ours)();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step(ours)();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('keeps a ReLU convolution one fused kernel while taping gradients, where tfjs-layers runs three', async () => {
    const rng = new Rng(7);
    const shape = [2, 6, 6, 3];
    const { theirs, ours } = pair(rng, shape, {
      filters: 4,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
    });
    const x = random(rng, shape);
    const forward = (layer: tfl.layers.Layer) => () => {
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(layer.apply(x, { training: true }) as tf.Tensor)) as tf.Scalar,
        vars(layer),
      );
      tf.dispose([value, ...Object.values(grads)]);
      return [] as tf.Tensor[];
    };
    const theirsKernels = await kernelsOf(forward(theirs));
    expect(theirsKernels).toEqual(expect.arrayContaining(['Conv2D', 'Relu']));
    const kernels = await kernelsOf(forward(ours));
    expect(kernels.filter((k) => k === 'FusedConv2D')).toHaveLength(1);
    expect(kernels).not.toContain('Conv2D');
    expect(kernels).not.toContain('Relu');
    x.dispose();
  });

  it('refuses to differentiate a fused activation it does not handle, instead of treating it as linear', () => {
    const x = tf.ones([1, 4, 4, 2]);
    const filter = tf.ones([3, 3, 2, 2]);
    const f = (z: tf.Tensor) =>
      tf.sum(
        tf
          .engine()
          .runKernel(
            'FusedConv2D',
            { x: z, filter },
            { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], activation: 'elu' },
          ) as tf.Tensor,
      );
    // Applying one of our layers registers the gradient.
    tf.dispose(conv2d({ filters: 2, kernelSize: 3 }).apply(x) as tf.Tensor);
    expect(() => tf.grad(f)(x)).toThrow(/activation 'elu' is not supported; use 'linear' or 'relu'/);
    tf.dispose([x, filter]);
  });

  it('serialises as tfjs-layers’ Conv2D', () => {
    const layer = conv2d({ filters: 2, kernelSize: 3, name: 'c' });
    expect(layer.getClassName()).toBe('Conv2D');
    expect(layer.getConfig().filters).toBe(2);
  });
});
