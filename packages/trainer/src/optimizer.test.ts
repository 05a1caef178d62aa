import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '@distilljs/backends';
import { ADAM_UPDATE_KERNEL, ConfigError, InvalidFileError, Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipByGlobalNorm } from './clip.js';
import { createOptimizer, type OptimizerConfig } from './optimizer.js';
import { createSchedule } from './schedule.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** PyTorch's update rules in float64, for f(p) = sum(p^2) (gradient 2p). */
function reference(cfg: Required<OptimizerConfig>, p0: number[], lrs: number[]): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  lrs.forEach((lr, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      let g = 2 * p[i]!;
      if (cfg.name !== 'adamw') g += cfg.weightDecay * p[i]!;
      if (cfg.name === 'sgd') {
        if (cfg.momentum > 0) {
          m[i] = cfg.momentum * m[i]! + g;
          g = cfg.nesterov ? g + cfg.momentum * m[i]! : m[i]!;
        }
        p[i] = p[i]! - lr * g;
      } else {
        if (cfg.name === 'adamw') p[i] = p[i]! * (1 - lr * cfg.weightDecay);
        m[i] = cfg.beta1 * m[i]! + (1 - cfg.beta1) * g;
        v[i] = cfg.beta2 * v[i]! + (1 - cfg.beta2) * g * g;
        const mh = m[i]! / (1 - cfg.beta1 ** t);
        const vh = v[i]! / (1 - cfg.beta2 ** t);
        p[i] = p[i]! - (lr * mh) / (Math.sqrt(vh) + cfg.epsilon);
      }
    }
  });
  return p;
}

function run(spec: OptimizerConfig, p0: number[], lrs: number[], splitAt?: number): number[] {
  const p = tf.variable(tf.tensor1d(p0));
  let opt = createOptimizer(spec);
  lrs.forEach((lr, k) => {
    if (k === splitAt) {
      // Round-trip the state through plain data, as a checkpoint does.
      const state = JSON.parse(JSON.stringify({ ...opt.getState(), slots: [] }));
      const slots = opt.getState().slots.map((s) => ({ ...s, values: Float32Array.from(s.values) }));
      opt.dispose();
      opt = createOptimizer(spec);
      opt.setState({ ...state, slots }, [p]);
    }
    const g = tf.tidy(() => tf.mul(p, 2));
    opt.applyGradients([p], [g], lr);
    g.dispose();
  });
  const out = Array.from(p.dataSync());
  opt.dispose();
  p.dispose();
  return out;
}

describe('optimisers', () => {
  const p0 = [1.5, -0.7, 0.2, 3];
  const lrs = [0.1, 0.05, 0.05, 0.02, 0.1];
  const configs: OptimizerConfig[] = [
    { name: 'adam', lr: 0.1 },
    { name: 'adam', lr: 0.1, weightDecay: 0.1 },
    { name: 'adamw', lr: 0.1, weightDecay: 0.2 },
    { name: 'sgd', lr: 0.1 },
    { name: 'sgd', lr: 0.1, momentum: 0.9, weightDecay: 0.01 },
    { name: 'sgd', lr: 0.1, momentum: 0.9, nesterov: true },
  ];
  for (const cfg of configs) {
    it(`${JSON.stringify(cfg)} follows PyTorch's update rule with a per-step learning rate`, () => {
      const full = createOptimizer(cfg).config;
      const want = reference(full, p0, lrs);
      const got = run(cfg, p0, lrs);
      got.forEach((x, i) => {
        expect(x).toBeCloseTo(want[i]!, 5);
      });
    });
    it(`${JSON.stringify(cfg)} state round-trips mid-run to the identical result`, () => {
      expect(run(cfg, p0, lrs, 3)).toEqual(run(cfg, p0, lrs));
    });
  }

  it('Adam keeps no subnormal moments: the first moment of a weight whose gradient stops never turns subnormal', () => {
    const smallestNormal = 1.1754943508222875e-38;
    const p = tf.variable(tf.tensor1d([1, 1]));
    const opt = createOptimizer('adam');
    let subnormals = 0;
    for (let k = 0; k < 1000; k++) {
      // Weight 0 gets one gradient, then none (a unit that stopped firing): without the flush its first
      // moment, 1e-4 * 0.9^k, is subnormal from about step 790 until it underflows to 0 near step 900.
      const g = tf.tensor1d(k === 0 ? [1e-3, 1e-3] : [0, 1e-3]);
      opt.applyGradients([p], [g], 1e-3);
      g.dispose();
      for (const slot of opt.getState().slots) {
        for (const x of slot.values) if (x !== 0 && Math.abs(x) < smallestNormal) subnormals++;
      }
    }
    expect(subnormals).toBe(0);
    const m = opt.getState().slots.find((s) => s.slot === 'm')!.values;
    expect(Math.abs(m[0]!)).toBeLessThan(1e-36); // settled at a few multiples of 2^-123, a normal float
    // Weight 1, with its steady gradient, took 1000 steps of lr (Adam's unit step).
    expect(p.dataSync()[1]).toBeCloseTo(0, 3);
    opt.dispose();
    p.dispose();
  });

  it('on wasm, Adam and AdamW run the fused kernel and give the bits of the composed ops', async () => {
    await tf.setBackend('wasm');
    try {
      registerWasmTrainingKernels();
      const rng = new Rng(5);
      // 1027 weights: 1024 in the SIMD kernel, 3 in its JavaScript tail; a quarter of them tiny, so some
      // moments reach the subnormal flush.
      const start = Array.from({ length: 1027 }, (_, i) => (i % 4 === 0 ? 1e-20 : 1) * rng.normal());
      const steps = [0.1, 0.05, 0.05, 0.02];
      for (const cfg of [
        { name: 'adam', lr: 0.1 },
        { name: 'adamw', lr: 0.1, weightDecay: 0.2 },
      ] as const) {
        const profile = await tf.profile(() => {
          run(cfg, start, steps);
        });
        expect(profile.kernels.map((k) => k.name)).toContain(ADAM_UPDATE_KERNEL);
        const fused = run(cfg, start, steps);
        unregisterWasmTrainingKernels();
        expect(tf.getKernel(ADAM_UPDATE_KERNEL, 'wasm')).toBeUndefined();
        const composed = run(cfg, start, steps);
        registerWasmTrainingKernels();
        expect(fused).toEqual(composed);
      }
    } finally {
      unregisterWasmTrainingKernels();
      await tf.setBackend('cpu');
    }
  });

  it('rejects unknown names and bad fields with the valid choices', () => {
    expect(() => createOptimizer('rmsprop' as never)).toThrow(ConfigError);
    expect(() => createOptimizer('rmsprop' as never)).toThrow(/valid names are 'adam', 'adamw', 'sgd'/);
    expect(() => createOptimizer({ name: 'sgd', lr: -1 })).toThrow(
      "createOptimizer: 'lr' must be a number in (0, 1.7976931348623157e+308], got -1",
    );
    expect(() => createOptimizer({ name: 'adam', nesterov: true })).toThrow(
      /'nesterov' applies to 'sgd' only/,
    );
    const p = tf.variable(tf.zeros([2]));
    const adam = createOptimizer('adam');
    expect(() => adam.setState({ ...createOptimizer('sgd').getState() }, [p])).toThrow(InvalidFileError);
    p.dispose();
  });
});

describe('schedules', () => {
  it('constant, step and cosine with warm-up', () => {
    const c = createSchedule(undefined, 0.1, 100, 10);
    expect([c(0), c(99)]).toEqual([0.1, 0.1]);
    const s = createSchedule({ name: 'step', stepEpochs: 3, gamma: 0.5 }, 0.1, 100, 10);
    expect([s(0), s(29), s(30), s(60)]).toEqual([0.1, 0.1, 0.05, 0.025]);
    const w = createSchedule({ name: 'cosine', warmupSteps: 10, minLr: 0.01 }, 0.1, 110, 10);
    expect(w(0)).toBeCloseTo(0.01, 10);
    expect(w(9)).toBeCloseTo(0.1, 10);
    expect(w(10)).toBeCloseTo(0.1, 10);
    expect(w(60)).toBeCloseTo(0.055, 10);
    expect(w(110)).toBeCloseTo(0.01, 10);
    expect(() => createSchedule({ name: 'step', gamma: 2 }, 0.1, 10, 1)).toThrow(
      /'gamma' must be a number in \(0, 1\], got 2/,
    );
  });
});

describe('clipByGlobalNorm', () => {
  it('scales every gradient by maxNorm / ||g|| when the global norm is larger, and leaves small ones', () => {
    const g = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])];
    const start = tf.memory().numTensors;
    const { grads, norm } = clipByGlobalNorm(g, 1);
    expect(norm.dataSync()[0]).toBeCloseTo(5, 5);
    expect(Array.from(grads[0]!.dataSync())).toEqual([expect.closeTo(0.6, 5), 0]);
    expect(Array.from(grads[1]!.dataSync())).toEqual([0, expect.closeTo(0.8, 5)]);
    tf.dispose([...grads, norm]);
    const small = clipByGlobalNorm(g, 10);
    expect(Array.from(small.grads[0]!.dataSync())).toEqual([3, 0]);
    tf.dispose([...small.grads, small.norm]);
    expect(tf.memory().numTensors).toBe(start);
    tf.dispose(g);
    expect(() => clipByGlobalNorm([], 0)).toThrow(
      "clipByGlobalNorm: argument 'maxNorm' must be a finite number > 0, got 0",
    );
  });
});
