/**
 * Registry descriptors of the logit methods that followed Hinton's KD and DKD: DIST, TTM, WTTM, NKD, MLKD.
 * Each returns `{ loss, soft, hard }` with `loss = alpha * soft + (1 - alpha) * hard`, `hard` the
 * cross-entropy with the labels (the papers' recipes weight CE by 1 and the soft term by w: alpha =
 * w / (1 + w) gives the same objective up to the factor 1 + w).
 *
 * @internal
 */
import { invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { checkedInput, hardTerm, targetIds, weighted } from './descriptor-support.js';
import { distValue } from './dist-loss.js';
import type { LossParts } from './distillation-loss.js';
import { distFused, fusedHere, nkdFused, ttmFused } from './fused-row-losses.js';
import { mlkdFused } from './mlkd-fused.js';
import { checkTemperatures, mlkdValue } from './mlkd-loss.js';
import { nkdValue } from './nkd-loss.js';
import type { LogitsLossDescriptor, LogitsLossInput } from './registry.js';
import { ttmPerExample } from './ttm-loss.js';
import { assertFlag, assertNonNegative, assertOptions, assertTemperature } from './validate.js';

/** Checks the common input, rejects a learnable temperature, and returns the number T. */
function plainInput(fn: string, input: unknown) {
  const opts = assertOptions<LogitsLossInput>(fn, input, true);
  const { s, t, alpha } = checkedInput(fn, { ...opts, temperatureTensor: undefined });
  if (opts.temperatureTensor !== undefined) {
    invalidArgument(
      fn,
      'temperatureTensor',
      "left out (a learnable temperature, CTKD, works with 'kd' and 'dkd')",
      opts.temperatureTensor,
    );
  }
  return { opts, s, t, alpha };
}

/** Builds the soft term (inside a tidy) and the hard term, and mixes them. */
function mix(fn: string, opts: LogitsLossInput, alpha: number, soft: () => tf.Scalar): LossParts {
  const hard = hardTerm(fn, opts.studentLogits, opts.labels, opts.labelSmoothing);
  let value: tf.Scalar;
  try {
    value = tf.tidy(soft);
  } catch (error) {
    hard.dispose();
    throw error;
  }
  return weighted(value, hard, alpha);
}

const dist: LogitsLossDescriptor = {
  name: 'dist',
  description:
    'DIST: soft = tau^2 * (distBeta * (1 - inter-class Pearson) + distGamma * (1 - intra-class Pearson)) of softmax(z/tau), defaults 1 and 1',
  paper: 'Huang, You, Wang, Qian and Xu, Knowledge Distillation from A Stronger Teacher, NeurIPS 2022',
  options: ['distBeta', 'distGamma'],
  kind: 'logits',
  compute(input) {
    const fn = "getLoss('dist').compute";
    const { opts, s, t, alpha } = plainInput(fn, input);
    const T = assertTemperature(fn, opts.temperature);
    const beta = assertNonNegative(fn, 'distBeta', opts.distBeta ?? 1);
    const gamma = assertNonNegative(fn, 'distGamma', opts.distGamma ?? 1);
    // On cpu and wasm one fused op (value and gradient in one float64 pass); elsewhere the composed ops.
    return mix(fn, opts, alpha, () =>
      fusedHere() ? distFused(s, t, T, beta, gamma) : distValue(s, t, T, beta, gamma),
    );
  },
};

function ttmDescriptor(weightedForm: boolean): LogitsLossDescriptor {
  const name = weightedForm ? 'wttm' : 'ttm';
  return {
    name,
    description: weightedForm
      ? 'weighted TTM: soft = mean_i w_i KL(softmax(t_i/T) || softmax(s_i)), w_i = sum_c softmax(t_i)_c^(1/T); no T^2'
      : 'transformed teacher matching: soft = KL(softmax(t/T) || softmax(s)), only the teacher tempered; no T^2',
    paper: 'Zheng and Yang, Knowledge Distillation Based on Transformed Teacher Matching, ICLR 2024',
    options: [],
    kind: 'logits',
    compute(input) {
      const fn = `getLoss('${name}').compute`;
      const { opts, s, t, alpha } = plainInput(fn, input);
      const T = assertTemperature(fn, opts.temperature);
      // On cpu and wasm one fused op (value and gradient in one float64 pass); elsewhere the composed ops.
      return mix(fn, opts, alpha, () =>
        fusedHere()
          ? ttmFused(s, t, T, weightedForm)
          : (tf.mean(ttmPerExample(s, t, T, weightedForm)) as tf.Scalar),
      );
    },
  };
}

const nkd: LogitsLossDescriptor = {
  name: 'nkd',
  description:
    'normalized KD: soft = -p_t[y] log p_s[y] - nkdGamma * T^2 * sum_{c != y} q_t log q_s, q = softmax over the non-target classes (default nkdGamma 1.5)',
  paper: 'Yang et al., From Knowledge Distillation to Self-Knowledge Distillation (NKD), ICCV 2023',
  options: ['nkdGamma'],
  kind: 'logits',
  compute(input) {
    const fn = "getLoss('nkd').compute";
    const { opts, s, t, alpha } = plainInput(fn, input);
    const T = assertTemperature(fn, opts.temperature);
    const gamma = assertNonNegative(fn, 'nkdGamma', opts.nkdGamma ?? 1.5);
    const targets = targetIds(fn, opts.labels, t);
    return mix(fn, opts, alpha, () =>
      fusedHere() ? nkdFused(s, t, targets, T, gamma) : nkdValue(s, t, targets, T, gamma),
    );
  },
};

const mlkd: LogitsLossDescriptor = {
  name: 'mlkd',
  description:
    'multi-level logit distillation: soft = sum over mlkdTemperatures (default 2..6) of instance KD + class-level (CxC) + batch-level (BxB) correlation terms, confidence-masked (mlkdMask)',
  paper: 'Jin, Wang and Lin, Multi-Level Logit Distillation, CVPR 2023',
  options: ['mlkdTemperatures', 'mlkdMask', 'logitStandardization'],
  kind: 'logits',
  compute(input) {
    const fn = "getLoss('mlkd').compute";
    const { opts, s, t, alpha } = plainInput(fn, input);
    const temperatures = checkTemperatures(fn, opts.mlkdTemperatures, 'mlkdTemperatures');
    const mask = opts.mlkdMask === undefined ? true : assertFlag(fn, 'mlkdMask', opts.mlkdMask);
    const ls = assertFlag(fn, 'logitStandardization', opts.logitStandardization);
    // On cpu and wasm the soft term is one fused op (its value and gradient in one float64 pass); elsewhere,
    // and with logit standardisation, the composed tensor ops.
    const fused = !ls && fusedHere();
    return mix(fn, opts, alpha, () =>
      fused ? mlkdFused(s, t, temperatures, mask) : mlkdValue(s, t, temperatures, mask, ls).loss,
    );
  },
};

/** The descriptors, in the registry's order. */
export const LOGIT_METHODS: readonly LogitsLossDescriptor[] = [
  dist,
  ttmDescriptor(false),
  ttmDescriptor(true),
  nkd,
  mlkd,
];
