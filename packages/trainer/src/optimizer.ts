import {
  ADAM_UPDATE_KERNEL,
  type AdamUpdateAttrs,
  ConfigError,
  describeValue,
  InvalidFileError,
} from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';

/** The optimisers {@link createOptimizer} knows. */
export const OPTIMIZER_NAMES = ['adam', 'adamw', 'sgd'] as const;

/** An optimiser name. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * An optimiser configuration. `lr` is the base learning rate (the schedule scales it per step).
 *
 * - `adam`: Kingma & Ba; `weightDecay` adds an L2 term to the gradient (PyTorch `Adam(weight_decay)`).
 * - `adamw`: Loshchilov & Hutter, decoupled decay `p -= lr * weightDecay * p` (PyTorch `AdamW`; default 0.01).
 * - `sgd`: momentum buffer `b = momentum * b + g`, Nesterov `g + momentum * b`; `weightDecay` is L2 in the
 *   gradient (PyTorch `SGD`).
 */
export interface OptimizerConfig {
  readonly name: OptimizerName;
  /** Base learning rate; default 1e-3 for adam/adamw, 0.01 for sgd. */
  readonly lr?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

/** An optimiser given by name (defaults) or by configuration. */
export type OptimizerSpec = OptimizerName | OptimizerConfig;

/** One slot tensor of the optimiser state, as plain data (checkpointable). */
export interface OptimizerSlot {
  /** Index of the variable in the trainable variable list. */
  readonly variable: number;
  /** Slot kind: `m`, `v` (Adam) or `momentum` (SGD). */
  readonly slot: string;
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

/** The complete state of an optimiser: its configuration, how many updates it made, and its slots. */
export interface OptimizerState {
  readonly config: Required<OptimizerConfig>;
  readonly iterations: number;
  readonly slots: readonly OptimizerSlot[];
}

/**
 * A first-order optimiser over tf.Variables whose state can be read and restored exactly, so a
 * resumed run continues as if it had never stopped. The learning rate is passed on every step so any
 * schedule can drive it.
 */
export interface Optimizer {
  readonly config: Required<OptimizerConfig>;
  /** Number of updates applied so far. */
  readonly iterations: number;
  /** Applies one update: `grads[i]` is the gradient of `variables[i]` (`undefined`: skipped); `lr` is this step's learning rate. */
  applyGradients(
    variables: readonly tf.Variable[],
    grads: readonly (tf.Tensor | undefined)[],
    lr: number,
  ): void;
  /** A copy of the current state (reads the slot tensors synchronously: not on webgpu in Node.js). */
  getState(): OptimizerState;
  /** {@link Optimizer.getState} with asynchronous reads, for GPU backends (webgpu, webgl). */
  readState(): Promise<OptimizerState>;
  /** Restores a state from {@link Optimizer.getState}; `variables` gives the shapes to check against. */
  setState(state: OptimizerState, variables: readonly tf.Variable[]): void;
  /** Frees the slot tensors. */
  dispose(): void;
}

const DEFAULTS: Record<OptimizerName, Required<OptimizerConfig>> = {
  adam: {
    name: 'adam',
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    momentum: 0,
    nesterov: false,
    weightDecay: 0,
  },
  adamw: {
    name: 'adamw',
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    momentum: 0,
    nesterov: false,
    weightDecay: 0.01,
  },
  sgd: {
    name: 'sgd',
    lr: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    epsilon: 1e-8,
    momentum: 0,
    nesterov: false,
    weightDecay: 0,
  },
};

function checkNumber(where: string, value: unknown, lo: number, hi: number, loOpen = false): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < lo ||
    value > hi ||
    (loOpen && value === lo)
  ) {
    throw new ConfigError(
      `createOptimizer: '${where}' must be a number in ${loOpen ? '(' : '['}${lo}, ${hi}], got ${describeValue(value)}`,
      { where: `optimizer.${where}` },
    );
  }
  return value;
}

/**
 * Validates an optimiser spec and fills in defaults. Throws a {@link ConfigError} naming the valid
 * optimisers for an unknown name, and the field for an out-of-range number.
 */
export function resolveOptimizerConfig(spec: OptimizerSpec): Required<OptimizerConfig> {
  const cfg: Partial<OptimizerConfig> = typeof spec === 'string' ? { name: spec } : (spec ?? {});
  const name = cfg.name;
  if (typeof name !== 'string' || !(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
    throw new ConfigError(
      `createOptimizer: unknown optimizer ${describeValue(name)}; valid names are ${OPTIMIZER_NAMES.map((n) => `'${n}'`).join(', ')}`,
      { where: 'optimizer.name' },
    );
  }
  const d = DEFAULTS[name as OptimizerName];
  const out: Required<OptimizerConfig> = {
    name: name as OptimizerName,
    lr: checkNumber('lr', cfg.lr ?? d.lr, 0, Number.MAX_VALUE, true),
    beta1: checkNumber('beta1', cfg.beta1 ?? d.beta1, 0, 0.999999999),
    beta2: checkNumber('beta2', cfg.beta2 ?? d.beta2, 0, 0.999999999),
    epsilon: checkNumber('epsilon', cfg.epsilon ?? d.epsilon, 0, 1, true),
    momentum: checkNumber('momentum', cfg.momentum ?? d.momentum, 0, 0.999999999),
    nesterov: cfg.nesterov ?? d.nesterov,
    weightDecay: checkNumber('weightDecay', cfg.weightDecay ?? d.weightDecay, 0, 1),
  };
  if (out.nesterov && out.name !== 'sgd') {
    throw new ConfigError(`createOptimizer: 'nesterov' applies to 'sgd' only, got optimizer '${out.name}'`, {
      where: 'optimizer.nesterov',
    });
  }
  if (out.nesterov && out.momentum <= 0) {
    throw new ConfigError("createOptimizer: Nesterov SGD needs 'momentum' > 0", {
      where: 'optimizer.momentum',
    });
  }
  return out;
}

/**
 * 2^-100. Adding it and subtracting it again (two correctly rounded float32 operations) sends every value
 * below about 5e-38 in magnitude to zero, so no subnormal float32 (below 1.18e-38) is left; values up to
 * 1e-30 move by at most 1e-37, values up to 2.6e-23 by at most one float32 rounding (1.2e-7 relative), and
 * larger values not at all. A moment decaying by beta1 settles at a few multiples of 2^-123 (9.4e-38), a
 * normal float, instead of passing through the subnormals.
 */
const SUBNORMAL_FLUSH = 2 ** -100;

/**
 * Adam's moments with subnormal values flushed to zero. The first moment of a weight whose gradient is
 * zero (a ReLU unit that no longer fires) decays by beta1 per step into the subnormal range and stays
 * there: rounded to nearest, 0.9 times the smallest subnormals gives them back. WebAssembly has no
 * flush-to-zero mode, so on the wasm backend every Adam operation on them is several times slower: after
 * 25 epochs of the Fashion-MNIST teacher (hinton-teacher with lighter dropout) 30.5% of its first moments
 * were subnormal and a step took 1.36 times as long as with them flushed. The flush moves no weight
 * noticeably: it changes an update by less than 1e-29 * lr, or by one float32 rounding of a moment that
 * is itself below 2.6e-23.
 */
function flushSubnormals(x: tf.Tensor): tf.Tensor {
  return tf.sub(tf.add(x, SUBNORMAL_FLUSH), SUBNORMAL_FLUSH);
}

class SlotOptimizer implements Optimizer {
  readonly config: Required<OptimizerConfig>;
  iterations = 0;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(config: Required<OptimizerConfig>) {
    this.config = config;
  }

  private slotNames(): string[] {
    if (this.config.name === 'sgd') return this.config.momentum > 0 ? ['momentum'] : [];
    return ['m', 'v'];
  }

  private slot(i: number, kind: string, like: tf.Tensor): tf.Variable {
    const key = `${i}/${kind}`;
    let s = this.slots.get(key);
    if (!s) {
      s = tf.tidy(() => tf.variable(tf.zerosLike(like), false));
      this.slots.set(key, s);
    }
    return s;
  }

  applyGradients(
    variables: readonly tf.Variable[],
    grads: readonly (tf.Tensor | undefined)[],
    lr: number,
  ): void {
    const c = this.config;
    const t = this.iterations + 1;
    const fused = c.name !== 'sgd' && tf.getKernel(ADAM_UPDATE_KERNEL, tf.getBackend()) !== undefined;
    tf.tidy(() => {
      for (let i = 0; i < variables.length; i++) {
        const p = variables[i]!;
        let g = grads[i];
        if (!g) continue; // no path from the loss to this variable: leave it (and its slots) alone
        if (c.name !== 'adamw' && c.weightDecay > 0) g = tf.add(g, tf.mul(p, c.weightDecay));
        if (c.name === 'sgd') {
          if (c.momentum > 0) {
            const buf = this.slot(i, 'momentum', p);
            // PyTorch: b = momentum * b + g (the zero-initialised buffer makes step 1 b = g).
            const next = tf.add(tf.mul(buf, c.momentum), g);
            buf.assign(next);
            g = c.nesterov ? tf.add(g, tf.mul(next, c.momentum)) : next;
          }
          p.assign(tf.sub(p, tf.mul(g, lr)));
        } else {
          const m = this.slot(i, 'm', p);
          const v = this.slot(i, 'v', p);
          const decay = c.name === 'adamw' && c.weightDecay > 0 ? 1 - lr * c.weightDecay : 1;
          if (fused && g.dtype === 'float32' && p.dtype === 'float32') {
            // The same arithmetic in one kernel (see ADAM_UPDATE_KERNEL), where the backend has it.
            const attrs: AdamUpdateAttrs = {
              beta1: c.beta1,
              oneMinusBeta1: 1 - c.beta1,
              beta2: c.beta2,
              oneMinusBeta2: 1 - c.beta2,
              biasCorrection2: 1 - c.beta2 ** t,
              epsilon: c.epsilon,
              stepSize: lr / (1 - c.beta1 ** t),
              decay,
            };
            const [pNext, mNext, vNext] = tf
              .engine()
              .runKernel(
                ADAM_UPDATE_KERNEL,
                { p, g, m, v },
                attrs as unknown as tf.NamedAttrMap,
              ) as tf.Tensor[];
            m.assign(mNext as tf.Tensor);
            v.assign(vNext as tf.Tensor);
            p.assign(pNext as tf.Tensor);
            continue;
          }
          const mNext = flushSubnormals(tf.add(tf.mul(m, c.beta1), tf.mul(g, 1 - c.beta1)));
          const vNext = flushSubnormals(tf.add(tf.mul(v, c.beta2), tf.mul(tf.square(g), 1 - c.beta2)));
          m.assign(mNext);
          v.assign(vNext);
          const vHat = tf.div(vNext, 1 - c.beta2 ** t);
          let base: tf.Tensor = p;
          if (decay !== 1) base = tf.mul(p, decay);
          // lr * mHat / (sqrt(vHat) + eps), with mHat's bias correction folded into the scalar.
          const step = tf.div(mNext, tf.add(tf.sqrt(vHat), c.epsilon));
          p.assign(tf.sub(base, tf.mul(step, lr / (1 - c.beta1 ** t))));
        }
      }
    });
    this.iterations = t;
  }

  getState(): OptimizerState {
    return this.stateOf([...this.slots.values()].map((s) => s.dataSync() as Float32Array));
  }

  async readState(): Promise<OptimizerState> {
    const values = await Promise.all([...this.slots.values()].map((s) => s.data() as Promise<Float32Array>));
    return this.stateOf(values);
  }

  private stateOf(values: readonly Float32Array[]): OptimizerState {
    const slots: OptimizerSlot[] = [];
    let j = 0;
    for (const [key, s] of this.slots) {
      const [i, kind] = key.split('/') as [string, string];
      slots.push({ variable: Number(i), slot: kind, shape: s.shape, values: values[j++]! });
    }
    slots.sort((a, b) => a.variable - b.variable || a.slot.localeCompare(b.slot));
    return { config: { ...this.config }, iterations: this.iterations, slots };
  }

  setState(state: OptimizerState, variables: readonly tf.Variable[]): void {
    if (state.config.name !== this.config.name) {
      throw new InvalidFileError(
        `Optimizer.setState: the checkpoint holds '${state.config.name}' state, but the run uses '${this.config.name}'`,
        { where: 'optimizer.name' },
      );
    }
    const allowed = new Set(this.slotNames());
    for (const s of state.slots) {
      const v = variables[s.variable];
      const size = s.shape.reduce((a, b) => a * b, 1);
      if (!v || !allowed.has(s.slot) || v.shape.join(',') !== s.shape.join(',') || s.values.length !== size) {
        throw new InvalidFileError(
          `Optimizer.setState: slot '${s.slot}' of variable ${s.variable} has shape [${s.shape.join(', ')}], which does not fit the model's trainable variables`,
          { where: `optimizer.slots[${s.variable}]` },
        );
      }
    }
    this.dispose();
    for (const s of state.slots) {
      this.slots.set(
        `${s.variable}/${s.slot}`,
        tf.variable(tf.tensor(s.values, [...s.shape], 'float32'), false),
      );
    }
    this.iterations = state.iterations;
  }

  dispose(): void {
    for (const s of this.slots.values()) s.dispose();
    this.slots.clear();
  }
}

/**
 * Creates an optimiser from a name (`'adam'`, `'adamw'`, `'sgd'`) or a configuration. Its state lives
 * in tf.Variables updated inside `tf.tidy`, and round-trips through {@link Optimizer.getState} /
 * {@link Optimizer.setState} (checkpoints).
 */
export function createOptimizer(spec: OptimizerSpec): Optimizer {
  return new SlotOptimizer(resolveOptimizerConfig(spec));
}
