import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { Rng } from '@distilljs/core';
import { batchNormRelu, batchNormReluPool, withFeatureTaps } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../register-wasm-training-kernels.js';
import { setSimdKernelsEnabled } from './simd/simd-kernels.js';

beforeAll(async () => {
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();
});

afterAll(() => {
  unregisterWasmTrainingKernels();
});

function randomArray(rng: Rng, size: number, scale = 1, shift = 0): Float32Array {
  const a = new Float32Array(size);
  for (let i = 0; i < size; i++) a[i] = shift + scale * rng.normal();
  return a;
}

/** Max |a - b| / max(|b|, 1e-2 * max|b|): relative error against the reference. */
function worstError(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  for (const v of expected) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i] as number;
    const a = actual[i] as number;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) return Number.POSITIVE_INFINITY;
      continue;
    }
    worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), scale * 1e-2, 1e-6));
  }
  return worst;
}

interface Case {
  shape: [number, number, number, number];
  x: Float32Array;
  dy: Float32Array;
  mean: Float32Array;
  variance: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
}

function makeCase(rng: Rng, shape: [number, number, number, number], ties: boolean): Case {
  const c = shape[3];
  const size = shape.reduce((p, d) => p * d, 1);
  const x = randomArray(rng, size, 2, 0.5);
  // Ties inside windows: equal x in a window gives equal y, so only the first maximum may get dy; and
  // windows entirely clamped to 0 by the ReLU (a tie of zeros) arise from the negative values.
  if (ties) for (let i = 0; i + c < size; i += 3 * c + 1) x[i + c] = x[i] as number;
  return {
    shape,
    x,
    dy: randomArray(rng, size / 4),
    mean: randomArray(rng, c, 0.3),
    variance: randomArray(rng, c, 0.2, 1).map(Math.abs),
    gamma: randomArray(rng, c, 0.3, 1),
    beta: randomArray(rng, c, 0.3),
  };
}

const EPS = 1e-5;

/** The kernels' inputs for a case (x and the per-channel statistics, offset and scale). */
function kernelInputs(t: Case): Record<string, tf.Tensor> {
  return {
    x: tf.tensor(t.x, t.shape),
    mean: tf.tensor1d(t.mean),
    variance: tf.tensor1d(t.variance),
    offset: tf.tensor1d(t.beta),
    scale: tf.tensor1d(t.gamma),
  };
}

/** The fused kernel's forward and gradients on the current backend (wasm). */
function fused(t: Case): tf.Tensor[] {
  return tf.tidy(() => {
    const inputs = kernelInputs(t);
    const y = tf
      .engine()
      .runKernel('DistilljsBatchNormReluPool', inputs, { varianceEpsilon: EPS }) as tf.Tensor;
    const dy = tf.tensor(t.dy, [t.shape[0], t.shape[1] / 2, t.shape[2] / 2, t.shape[3]]);
    const grads = tf
      .engine()
      .runKernel(
        'DistilljsBatchNormTrainingGrad',
        { ...inputs, dy },
        { varianceEpsilon: EPS, relu: true, pool: true },
      ) as tf.Tensor[];
    return [y, ...grads];
  });
}

/**
 * The unfused path on the current backend: the fused batch norm + ReLU kernel, tfjs's MaxPool, and for
 * the gradient MaxPoolGrad (tf.grad of maxPool) then the batch norm + ReLU gradient kernel.
 */
function unfused(t: Case): tf.Tensor[] {
  return tf.tidy(() => {
    const inputs = kernelInputs(t);
    const r = tf
      .engine()
      .runKernel('DistilljsBatchNormRelu', inputs, { varianceEpsilon: EPS }) as tf.Tensor4D;
    const y = tf.maxPool(r, 2, 2, 'valid');
    const dy = tf.tensor(t.dy, y.shape);
    const dr = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid'), dy)))(r);
    const grads = tf
      .engine()
      .runKernel(
        'DistilljsBatchNormTrainingGrad',
        { ...inputs, dy: dr },
        { varianceEpsilon: EPS, relu: true },
      ) as tf.Tensor[];
    return [y, ...grads];
  });
}

async function values(ts: tf.Tensor[]): Promise<Float32Array[]> {
  const out = await Promise.all(ts.map(async (t) => (await t.data()) as Float32Array));
  tf.dispose(ts);
  return out;
}

/** Fused against unfused on wasm: forward bits equal, gradients to 1e-4; the fused outputs returned. */
async function check(t: Case): Promise<Float32Array[]> {
  const before = tf.memory().numTensors;
  const got = await values(fused(t));
  const want = await values(unfused(t));
  expect(tf.memory().numTensors).toBe(before);
  expect(Array.from(got[0] as Float32Array)).toEqual(Array.from(want[0] as Float32Array));
  for (const k of [1, 2, 3]) {
    expect(worstError(got[k] as Float32Array, want[k] as Float32Array)).toBeLessThan(1e-4);
  }
  return got;
}

describe('DistilljsBatchNormReluPool and its gradient (wasm)', () => {
  it('match the unfused batch norm + ReLU, MaxPool and MaxPoolGrad, SIMD on and off, with ties', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(27);
    // c a multiple of 4 (SIMD; 24 and 8 pooled rows, one row per image too) and not (JavaScript).
    const shapes: [number, number, number, number][] = [
      [3, 8, 6, 8],
      [4, 4, 4, 16],
      [2, 2, 2, 4],
      [2, 4, 6, 3],
    ];
    for (const shape of shapes) {
      const t = makeCase(rng, shape, true);
      const simdOut = await check(t);
      setSimdKernelsEnabled(false);
      let jsOut: Float32Array[];
      try {
        jsOut = await check(t);
      } finally {
        setSimdKernelsEnabled(true);
      }
      // SIMD and JavaScript: the same forward bits; the dx of each window position the same up to rounding.
      expect(Array.from(simdOut[0] as Float32Array)).toEqual(Array.from(jsOut[0] as Float32Array));
      for (const k of [1, 2, 3]) {
        expect(worstError(simdOut[k] as Float32Array, jsOut[k] as Float32Array)).toBeLessThan(1e-4);
      }
      // Some pooled outputs clamped, most not.
      const zeros = Array.from(simdOut[0] as Float32Array).filter((v) => v === 0).length;
      expect(zeros).toBeLessThan((simdOut[0] as Float32Array).length / 2);
    }
  });

  it('gives NaN where the unfused path does', async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(28);
    for (const c of [4, 3]) {
      const t = makeCase(rng, [2, 4, 4, c], false);
      t.x[5] = Number.NaN;
      // A window of NaNs only.
      for (const i of [0, 1, 4, 5]) t.x[(2 * 16 + i) * c + 1] = Number.NaN;
      const got = await values(fused(t));
      const want = await values(unfused(t));
      for (const k of [0, 1, 2, 3]) {
        const nan = (a: Float32Array) => Array.from(a, (v) => Number.isNaN(v));
        expect(nan(got[k] as Float32Array)).toEqual(nan(want[k] as Float32Array));
      }
      expect(Array.from(got[1] as Float32Array).some(Number.isNaN)).toBe(true);
    }
  });

  it('refuses odd height or width and a dy of the wrong shape, in one line', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones([1, 3, 4, 4]);
    const c4 = tf.ones([4]);
    const inputs = { x, mean: c4, variance: c4, offset: c4, scale: c4 };
    expect(() => tf.engine().runKernel('DistilljsBatchNormReluPool', inputs, {})).toThrow(
      /needs float32 NHWC x with even height and width.*\[1, 3, 4, 4\]/,
    );
    const x2 = tf.ones([1, 4, 4, 4]);
    expect(() =>
      tf
        .engine()
        .runKernel(
          'DistilljsBatchNormTrainingGrad',
          { ...inputs, x: x2, dy: x2 },
          { relu: true, pool: true },
        ),
    ).toThrow(/needs float32 dy of the pooled shape \[1, 2, 2, 4\]/);
    tf.dispose([x, c4, x2]);
  });

  it("the zoo's fused layers: the unfused layers' training values and input gradient on cpu, no MaxPool kernels", async () => {
    const rng = new Rng(29);
    const shape = [8, 6, 10, 8];
    const size = shape.reduce((p, d) => p * d, 1);
    const xs = randomArray(rng, size);
    const w = randomArray(rng, size / 4);
    const gamma = randomArray(rng, 8, 0.3, 1);
    const beta = randomArray(rng, 8);
    const run = (fusedLayers: boolean) => {
      const layers = fusedLayers
        ? batchNormReluPool({ momentum: 0.9, epsilon: 1e-5 })
        : {
            batchNorm: tfl.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }),
            relu: tfl.layers.activation({ activation: 'relu' }),
            pool: tfl.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
          };
      layers.batchNorm.build(shape);
      const weights = layers.batchNorm.getWeights();
      layers.batchNorm.setWeights([tf.tensor1d(gamma), tf.tensor1d(beta), ...weights.slice(2)]);
      const apply = (t: tf.Tensor) =>
        layers.pool.apply(
          layers.relu.apply(layers.batchNorm.apply(t, { training: true }), { training: true }),
          { training: true },
        ) as tf.Tensor;
      const wt = tf.tensor(w, [8, 3, 5, 8]);
      const y = apply(tf.tensor(xs, shape));
      const gx = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(apply(t), wt)))(tf.tensor(xs, shape));
      return { y, gx };
    };
    await tf.setBackend('cpu');
    const want = tf.tidy(() => {
      const r = run(false);
      return [r.y, r.gx];
    });
    const wantValues = await values(want);
    await tf.setBackend('wasm');
    const profile = await tf.profile(() => {
      const r = run(true);
      return [r.y, r.gx];
    });
    const got = await values(profile.result as tf.Tensor[]);
    // The cpu backend's batch statistics and batch norm round differently: values to 1e-4 (the bits are
    // checked against the unfused kernels on wasm above).
    for (let k = 0; k < got.length; k++) {
      expect(worstError(got[k] as Float32Array, wantValues[k] as Float32Array)).toBeLessThan(1e-4);
    }
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain('DistilljsBatchNormReluPool');
    expect(
      names.filter((n) => ['MaxPool', 'MaxPoolGrad', 'Relu', 'DistilljsBatchNormRelu'].includes(n)),
    ).toEqual([]);
    // Odd height: the pooling layer pools as usual after the batch norm + ReLU op.
    const odd = await tf.profile(() => {
      const layers = batchNormReluPool({ momentum: 0.9, epsilon: 1e-5 });
      return layers.pool.apply(
        layers.relu.apply(layers.batchNorm.apply(tf.ones([2, 5, 4, 8]), { training: true })),
      ) as tf.Tensor;
    });
    expect((odd.result as tf.Tensor).shape).toEqual([2, 2, 2, 8]);
    expect(odd.kernels.map((k) => k.name)).toContain('MaxPool');
    tf.dispose(odd.result as tf.Tensor);
  });

  /**
   * x -> batch norm -> ReLU -> 2x2 max pool -> flatten, as batchNormReluPool's triple (`fused`) or as
   * batchNormRelu's pair and a plain pooling layer (today's path), with the same weights.
   */
  function models(rng: Rng, shape: number[]) {
    const build = (fusePool: boolean) => {
      const input = tfl.input({ shape: shape.slice(1), name: 'x' });
      const names = [
        { name: 'bn', momentum: 0.9, epsilon: 1e-5 },
        { name: 'relu' },
        { name: 'pool' },
      ] as const;
      const layers = fusePool
        ? batchNormReluPool(...names)
        : {
            ...batchNormRelu(names[0], names[1]),
            pool: tfl.layers.maxPooling2d({ ...names[2], poolSize: 2, strides: 2 }),
          };
      const out = layers.pool.apply(layers.relu.apply(layers.batchNorm.apply(input)));
      const flat = tfl.layers.flatten({ name: 'flat' }).apply(out) as tfl.SymbolicTensor;
      return { model: tfl.model({ name: 'm', inputs: input, outputs: flat }), ...layers };
    };
    const fused = build(true);
    const plain = build(false);
    const c = shape[3] as number;
    const weights = [
      randomArray(rng, c, 0.3, 1),
      randomArray(rng, c, 0.3),
      randomArray(rng, c, 0.2),
      randomArray(rng, c, 0.2, 1).map(Math.abs),
    ];
    for (const m of [fused, plain]) m.batchNorm.setWeights(weights.map((w) => tf.tensor1d(w)));
    return { fused, plain };
  }

  it("layers: training and inference bits of today's path, the same JSON, feature taps unfuse, no leaks", async () => {
    await tf.setBackend('wasm');
    const rng = new Rng(30);
    const shape = [4, 6, 8, 8];
    const x = tf.tensor(
      randomArray(
        rng,
        shape.reduce((p, d) => p * d, 1),
        2,
        0.3,
      ),
      shape,
    );
    const { fused, plain } = models(rng, shape);
    for (const training of [true, false]) {
      const [a, b] = [fused, plain].map((m) => m.model.apply(x, { training }) as tf.Tensor);
      expect(Array.from(await (a as tf.Tensor).data())).toEqual(Array.from(await (b as tf.Tensor).data()));
      tf.dispose([a as tf.Tensor, b as tf.Tensor]);
    }
    // The same classes and configs as three plain tfjs-layers layers.
    const input = tfl.input({ shape: shape.slice(1), name: 'x' });
    const bare = tfl.model({
      name: 'm',
      inputs: input,
      outputs: tfl.layers
        .flatten({ name: 'flat' })
        .apply(
          tfl.layers
            .maxPooling2d({ name: 'pool', poolSize: 2, strides: 2 })
            .apply(
              tfl.layers
                .activation({ name: 'relu', activation: 'relu' })
                .apply(
                  tfl.layers.batchNormalization({ name: 'bn', momentum: 0.9, epsilon: 1e-5 }).apply(input),
                ),
            ),
        ) as tfl.SymbolicTensor,
    });
    expect(fused.model.toJSON(undefined, false)).toEqual(bare.toJSON(undefined, false));
    // No tensor leak over training steps.
    const step = () =>
      tf.grad((xs: tf.Tensor) => tf.sum(tf.square(fused.model.apply(xs, { training: true }) as tf.Tensor)))(
        x,
      );
    step().dispose();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step().dispose();
    expect(tf.memory().numTensors).toBe(before);
    // A feature tap at any of the three layers: the tap gets that layer's own training output (today's
    // path's), and the pooling runs as its own kernel again.
    for (const [tap, tapShape] of [
      ['bn', shape],
      ['relu', shape],
      ['pool', [4, 3, 4, 8]],
    ] as const) {
      const pair = models(new Rng(31), shape);
      const [fusedTaps, plainTaps] = [pair.fused, pair.plain].map((m) => withFeatureTaps(m.model, [tap]));
      const profile = await tf.profile(
        () => (fusedTaps as tfl.LayersModel).apply(x, { training: true }) as tf.Tensor[],
      );
      const got = profile.result as tf.Tensor[];
      const want = (plainTaps as tfl.LayersModel).apply(x, { training: true }) as tf.Tensor[];
      expect(got[1]?.shape).toEqual(tapShape);
      for (const k of [0, 1]) {
        expect(Array.from(await (got[k] as tf.Tensor).data())).toEqual(
          Array.from(await (want[k] as tf.Tensor).data()),
        );
      }
      const names = profile.kernels.map((k) => k.name);
      expect(names).toContain('MaxPool');
      expect(names).not.toContain('DistilljsBatchNormReluPool');
      tf.dispose([...got, ...want]);
    }
    x.dispose();
  });
});
