import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient.js';
import {
  assertLogits,
  assertNonNegative,
  assertOptions,
  assertSameShape,
  assertTemperature,
} from './validate.js';

/** Options of {@link distLoss}. */
export interface DistLossOptions {
  /** Softmax temperature tau, a finite number > 0 (the paper: 4 on CIFAR-100, 1 on ImageNet). */
  temperature: number;
  /** Weight of the inter-class (per-example) relation, >= 0. Default 1. */
  beta?: number;
  /** Weight of the intra-class (per-class, across the batch) relation, >= 0. Default 1. */
  gamma?: number;
}

/**
 * DIST (Huang, You, Wang, Qian and Xu, "Knowledge Distillation from A Stronger Teacher", NeurIPS 2022):
 * matches the teacher's *relations* rather than its exact probabilities, with Pearson correlations of the
 * softened distributions `P = softmax(z / tau)`:
 *
 * `dist = tau^2 * (beta * (1 - mean_i r(P_s[i,:], P_t[i,:])) + gamma * (1 - mean_c r(P_s[:,c], P_t[:,c])))`,
 *
 * `r(a, b) = sum((a - mean a)(b - mean b)) / (||a - mean a|| ||b - mean b|| + 1e-8)`: the first term is
 * inter-class (each example's ranking of the classes), the second intra-class (each class's ranking of
 * the examples of the batch). The teacher carries no gradient.
 *
 * @param studentLogits - `[batch, classes]` float32 logits.
 * @param teacherLogits - `[batch, classes]` float32 logits, same shape.
 * @returns the scalar loss (0 when the student's distributions are an affine image of the teacher's).
 * @throws InvalidArgumentError for bad shapes, tau <= 0 or negative weights.
 */
export function distLoss(
  studentLogits: tf.Tensor,
  teacherLogits: tf.Tensor,
  options: DistLossOptions,
): tf.Scalar {
  const fn = 'distLoss';
  const s = assertLogits(fn, 'studentLogits', studentLogits);
  const t = assertLogits(fn, 'teacherLogits', teacherLogits);
  assertSameShape(fn, 'studentLogits', s, 'teacherLogits', t);
  const opts = assertOptions<DistLossOptions>(fn, options, true);
  const temperature = assertTemperature(fn, opts.temperature);
  const beta = assertNonNegative(fn, 'beta', opts.beta ?? 1);
  const gamma = assertNonNegative(fn, 'gamma', opts.gamma ?? 1);
  return tf.tidy(() => distValue(s, t, temperature, beta, gamma));
}

/** @internal {@link distLoss} without checks, inside a tidy. */
export function distValue(
  s: tf.Tensor,
  t: tf.Tensor,
  temperature: number,
  beta: number,
  gamma: number,
): tf.Scalar {
  const ps = tf.softmax(tf.div(s, temperature));
  const pt = tf.softmax(tf.div(stopGradient(t), temperature));
  const inter = tf.sub(1, meanPearson(ps, pt, 1));
  const intra = tf.sub(1, meanPearson(ps, pt, 0));
  const weighted = tf.add(tf.mul(inter, beta), tf.mul(intra, gamma));
  return tf.mul(weighted, temperature * temperature) as tf.Scalar;
}

/**
 * Mean over the other axis of the Pearson correlation along `axis`. The norms are floored (1e-15) so
 * a constant vector (a one-hot column of a saturated softmax) has a zero gradient instead of NaN; its
 * value changes by at most 1e-15 against the 1e-8 epsilon.
 */
function meanPearson(a: tf.Tensor, b: tf.Tensor, axis: number): tf.Scalar {
  const ac = tf.sub(a, tf.mean(a, axis, true));
  const bc = tf.sub(b, tf.mean(b, axis, true));
  const norm = (x: tf.Tensor) => tf.sqrt(tf.maximum(tf.sum(tf.square(x), axis), 1e-30));
  const r = tf.div(tf.sum(tf.mul(ac, bc), axis), tf.add(tf.mul(norm(ac), norm(bc)), 1e-8));
  return tf.mean(r) as tf.Scalar;
}
