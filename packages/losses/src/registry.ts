import { InvalidArgumentError, invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { attentionTransferLoss } from './attention-transfer-loss.js';
import {
  checkAlpha,
  checkedInput,
  hardTerm,
  targetIds,
  teacherOf,
  UNLABELLED,
  weighted,
} from './descriptor-support.js';
import { distillationLossParts, type LossParts } from './distillation-loss.js';
import { dkdPerExample } from './dkd-loss.js';
import { dkdFused, fusedHere, kdStandardizedFused } from './fused-row-losses.js';
import { hintLoss } from './hint-loss.js';
import { kdPerExample } from './kd-loss.js';
import type { Labels } from './labels.js';
import { logitMatchingLoss } from './logit-matching-loss.js';
import { LOGIT_METHODS } from './logit-method-descriptors.js';
import { standardize } from './logit-standardization.js';
import { assertFlag, assertNonNegative, assertOptions } from './validate.js';

/**
 * What a logits loss's `compute` takes. The trainer passes the same object to every logits loss;
 * each loss reads what it needs.
 */
export interface LogitsLossInput {
  /** `[batch, classes]` student logits (the only input that receives a gradient). */
  studentLogits: tf.Tensor;
  /** `[batch, classes]` teacher logits; optional for `'cross-entropy'`, required otherwise. */
  teacherLogits?: tf.Tensor;
  /**
   * Class ids (`-1` marks an unlabelled example, which adds nothing to the hard term) or probability
   * rows; see {@link Labels}.
   */
  labels: Labels;
  /** Softmax temperature T of the soft term (KD, DKD); ignored by the others. */
  temperature: number;
  /** Weight in [0, 1] of the soft term: `loss = alpha * soft + (1 - alpha) * hard`. */
  alpha: number;
  /** Label smoothing of the hard term (PyTorch convention). Default 0. */
  labelSmoothing?: number;
  /** DKD's weight of the target-class term TCKD. Default 1. */
  dkdAlpha?: number;
  /** DKD's weight of the non-target-class term NCKD. Default 8. */
  dkdBeta?: number;
  /** DIST's weight of the inter-class relation. Default 1. */
  distBeta?: number;
  /** DIST's weight of the intra-class relation. Default 1. */
  distGamma?: number;
  /** NKD's weight of the non-target term. Default 1.5. */
  nkdGamma?: number;
  /** MLKD's temperatures (replace `temperature`). Default 2, 3, 4, 5, 6. */
  mlkdTemperatures?: readonly number[];
  /** MLKD's confidence masking. Default true. */
  mlkdMask?: boolean;
  /** Z-score the logits per example before the temperature ('kd', 'dkd', 'mlkd'; Sun et al. 2024). */
  logitStandardization?: boolean;
  /**
   * A learnable temperature (CTKD) replacing `temperature` ('kd', 'dkd'): a float32 scalar or a
   * `[batch, 1]` tensor, which receives the loss's gradient.
   */
  temperatureTensor?: tf.Tensor;
}

/**
 * What a feature loss's `compute` takes: the student/teacher feature pairs taken at matching layers.
 * `'hint'` uses `regressors[j]` (or identity) on pair j and averages the pairs' hint losses;
 * `'attention-transfer'` uses `p` and `beta` (see `attentionTransferLoss`).
 */
export interface FeatureLossInput {
  /** `[studentFeatures, teacherFeatures]` pairs (NHWC for attention transfer). */
  pairs: ReadonlyArray<readonly [tf.Tensor, tf.Tensor]>;
  /** Per-pair FitNets regressors (hint only); a missing entry means identity. */
  regressors?: ReadonlyArray<((x: tf.Tensor) => tf.Tensor) | undefined>;
  /** Attention-map exponent (attention transfer only). Default 2. */
  p?: number;
  /** Attention-transfer weight. Default 1. */
  beta?: number;
}

/** A registered loss that works on logits (KD, DKD, logit matching, cross-entropy). */
export interface LogitsLossDescriptor {
  readonly name: string;
  readonly description: string;
  readonly kind: 'logits';
  /** The paper, in one line (authors, venue, year). */
  readonly paper?: string;
  /** The options of {@link LogitsLossInput} this loss reads beyond temperature, alpha and labelSmoothing. */
  readonly options?: readonly string[];
  /**
   * Computes `{ loss, soft, hard }` (scalars the caller owns): `soft` is the teacher term, `hard` the
   * cross-entropy with the labels, `loss = alpha * soft + (1 - alpha) * hard` (for 'cross-entropy',
   * `soft = 0` and `loss = hard`).
   */
  compute(input: LogitsLossInput): LossParts;
}

/** A registered loss that works on intermediate features (hints, attention transfer). */
export interface FeatureLossDescriptor {
  readonly name: string;
  readonly description: string;
  readonly kind: 'features';
  /** The paper, in one line (authors, venue, year). */
  readonly paper?: string;
  /** Computes the scalar feature loss (the caller owns it and adds it to its logits loss). */
  compute(input: FeatureLossInput): tf.Scalar;
}

/** Any registered loss; switch on `kind`. */
export type LossDescriptor = LogitsLossDescriptor | FeatureLossDescriptor;

/** Name and one-line description of a registered loss, as {@link listLosses} returns them. */
export interface LossInfo {
  readonly name: string;
  readonly description: string;
  readonly kind: 'logits' | 'features';
  readonly aliases: readonly string[];
  /** The paper, in one line. */
  readonly paper: string;
  /** The loss-specific options it reads (e.g. `distBeta`), beyond temperature, alpha and labelSmoothing. */
  readonly options: readonly string[];
}

const kd: LogitsLossDescriptor = {
  name: 'kd',
  description: "Hinton's KD: alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y)",
  paper: 'Hinton, Vinyals and Dean, Distilling the Knowledge in a Neural Network, NIPS workshop 2015',
  options: ['logitStandardization', 'temperatureTensor'],
  kind: 'logits',
  compute(input) {
    const fn = "getLoss('kd').compute";
    const opts = assertOptions<LogitsLossInput>(fn, input, true);
    const ls = assertFlag(fn, 'logitStandardization', opts.logitStandardization);
    if (!ls && opts.temperatureTensor === undefined) {
      return distillationLossParts(opts.studentLogits, teacherOf(fn, opts), opts.labels, {
        temperature: opts.temperature,
        alpha: opts.alpha,
        ignoreIndex: UNLABELLED,
        ...(opts.labelSmoothing === undefined ? {} : { labelSmoothing: opts.labelSmoothing }),
      });
    }
    const { s, t, alpha, temperature } = checkedInput(fn, opts);
    const hard = hardTerm(fn, opts.studentLogits, opts.labels, opts.labelSmoothing);
    // On cpu and wasm, KD on standardised logits at a fixed T is one fused op (see fused-row-losses.ts).
    const soft = tf.tidy(() => {
      if (ls && typeof temperature === 'number' && fusedHere()) return kdStandardizedFused(s, t, temperature);
      const [a, b] = ls ? [standardize(s), standardize(t)] : [s, t];
      return tf.mean(kdPerExample(a, b, temperature)) as tf.Scalar;
    });
    return weighted(soft, hard, alpha);
  },
};

const dkd: LogitsLossDescriptor = {
  name: 'dkd',
  description:
    'Decoupled KD: soft = dkdAlpha * TCKD + dkdBeta * NCKD (defaults 1 and 8), ' +
    'loss = alpha * soft + (1 - alpha) * CE; alpha = 0.5 is the paper recipe (CE weight 1) up to a factor 2',
  paper: 'Zhao, Cui, Song, Qiu and Liang, Decoupled Knowledge Distillation, CVPR 2022',
  options: ['dkdAlpha', 'dkdBeta', 'logitStandardization', 'temperatureTensor'],
  kind: 'logits',
  compute(input) {
    const fn = "getLoss('dkd').compute";
    const opts = assertOptions<LogitsLossInput>(fn, input, true);
    const { s, t, alpha, temperature } = checkedInput(fn, opts);
    const ls = assertFlag(fn, 'logitStandardization', opts.logitStandardization);
    const dkdAlpha = assertNonNegative(fn, 'dkdAlpha', opts.dkdAlpha ?? 1);
    const dkdBeta = assertNonNegative(fn, 'dkdBeta', opts.dkdBeta ?? 8);
    const targets = targetIds(fn, opts.labels, t);
    const hard = hardTerm(fn, opts.studentLogits, opts.labels, opts.labelSmoothing);
    const soft = tf.tidy(() => {
      if (typeof temperature === 'number' && fusedHere()) {
        return dkdFused(s, t, targets, temperature, dkdAlpha, dkdBeta, ls);
      }
      const [a, b] = ls ? [standardize(s), standardize(t)] : [s, t];
      const terms = dkdPerExample(a, b, targets, temperature);
      return tf.add(tf.mul(tf.mean(terms.tckd), dkdAlpha), tf.mul(tf.mean(terms.nckd), dkdBeta)) as tf.Scalar;
    });
    return weighted(soft, hard, alpha);
  },
};

const logitMatching: LogitsLossDescriptor = {
  name: 'logit-matching',
  paper: 'Ba and Caruana, Do Deep Nets Really Need to be Deep?, NIPS 2014',
  description: 'Logit matching (Ba and Caruana 2014): alpha * mean((s - t)^2) + (1 - alpha) * CE(s, y)',
  kind: 'logits',
  compute(input) {
    const fn = "getLoss('logit-matching').compute";
    const opts = assertOptions<LogitsLossInput>(fn, input, true);
    const alpha = checkAlpha(fn, opts.alpha);
    const soft = logitMatchingLoss(opts.studentLogits, teacherOf(fn, opts));
    let hard: tf.Scalar;
    try {
      hard = hardTerm(fn, opts.studentLogits, opts.labels, opts.labelSmoothing);
    } catch (error) {
      soft.dispose();
      throw error;
    }
    return weighted(soft, hard, alpha);
  },
};

const crossEntropyLoss: LogitsLossDescriptor = {
  name: 'cross-entropy',
  paper: '(no teacher: the baseline)',
  description:
    'Plain cross-entropy with the labels, no teacher (baselines, teacher training): loss = CE(s, y)',
  kind: 'logits',
  compute(input) {
    const fn = "getLoss('cross-entropy').compute";
    const opts = assertOptions<LogitsLossInput>(fn, input, true);
    const hard = hardTerm(fn, opts.studentLogits, opts.labels, opts.labelSmoothing);
    return { loss: hard.clone(), soft: tf.scalar(0), hard };
  },
};

function assertPairs(fn: string, input: unknown): FeatureLossInput {
  const opts = assertOptions<FeatureLossInput>(fn, input, true);
  if (!Array.isArray(opts.pairs) || opts.pairs.length === 0) {
    invalidArgument(fn, 'pairs', 'a non-empty array of [studentFeatures, teacherFeatures] pairs', opts.pairs);
  }
  return opts;
}

const hint: FeatureLossDescriptor = {
  name: 'hint',
  paper: 'Romero et al., FitNets: Hints for Thin Deep Nets, ICLR 2015',
  description: 'FitNets hints (Romero et al. 2015): mean over pairs of mean((regressor(f_s) - f_t)^2)',
  kind: 'features',
  compute(input) {
    const fn = "getLoss('hint').compute";
    const opts = assertPairs(fn, input);
    const terms: tf.Scalar[] = [];
    try {
      opts.pairs.forEach(([s, t], j) => {
        const regressor = opts.regressors?.[j];
        terms.push(hintLoss(s, t, regressor === undefined ? undefined : { regressor }));
      });
      return tf.tidy(() => tf.div(tf.addN(terms), terms.length) as tf.Scalar);
    } finally {
      tf.dispose(terms);
    }
  },
};

const attentionTransfer: FeatureLossDescriptor = {
  name: 'attention-transfer',
  paper: 'Zagoruyko and Komodakis, Paying More Attention to Attention, ICLR 2017',
  description:
    'Attention transfer (Zagoruyko and Komodakis 2017): beta * mean over pairs of mean((q_s - q_t)^2), q = normalised mean_c |A|^p',
  kind: 'features',
  compute(input) {
    const opts = assertPairs("getLoss('attention-transfer').compute", input);
    return attentionTransferLoss(opts.pairs, {
      ...(opts.p === undefined ? {} : { p: opts.p }),
      ...(opts.beta === undefined ? {} : { beta: opts.beta }),
    });
  },
};

const LOSSES: readonly LossDescriptor[] = [
  kd,
  dkd,
  ...LOGIT_METHODS,
  logitMatching,
  crossEntropyLoss,
  hint,
  attentionTransfer,
];
const ALIASES: Readonly<Record<string, string>> = {
  hinton: 'kd',
  ce: 'cross-entropy',
  fitnets: 'hint',
  at: 'attention-transfer',
};

/**
 * Looks a loss up by name (or alias: `hinton` = `kd`, `ce` = `cross-entropy`, `fitnets` = `hint`,
 * `at` = `attention-transfer`). Names are case-insensitive.
 *
 * @example
 * ```ts
 * const kd = getLoss('kd');
 * if (kd.kind === 'logits') {
 *   const { loss, soft, hard } = kd.compute({ studentLogits, teacherLogits, labels, temperature: 4, alpha: 0.9 });
 * }
 * ```
 * @throws InvalidArgumentError listing the valid names when `name` is unknown.
 */
export function getLoss(name: string): LossDescriptor {
  const key = typeof name === 'string' ? name.trim().toLowerCase() : name;
  const resolved = typeof key === 'string' ? (ALIASES[key] ?? key) : key;
  const found = LOSSES.find((l) => l.name === resolved);
  if (found === undefined) {
    const valid = [...LOSSES.map((l) => l.name), ...Object.keys(ALIASES)].map((n) => `'${n}'`).join(', ');
    throw new InvalidArgumentError(
      `getLoss: argument 'name' must be one of ${valid}, got ${typeof name === 'string' ? `'${name}'` : typeof name}`,
      { where: 'getLoss(name)' },
    );
  }
  return found;
}

/** Every registered loss with its description, kind and aliases, in a stable order. */
export function listLosses(): LossInfo[] {
  return LOSSES.map((l) => ({
    name: l.name,
    description: l.description,
    kind: l.kind,
    aliases: Object.keys(ALIASES).filter((a) => ALIASES[a] === l.name),
    paper: l.paper ?? '',
    options: l.kind === 'logits' ? (l.options ?? []) : [],
  }));
}
