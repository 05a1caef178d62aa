import { describeValue, InvalidArgumentError, invalidArgument } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { stopGradient } from './stop-gradient.js';
import { assertNonNegative, assertOptions, assertTensor } from './validate.js';

/** Options of {@link attentionTransferLoss}. */
export interface AttentionTransferLossOptions {
  /** Exponent p of the attention map `mean_c |A_c|^p`; the paper uses 2. Default 2. */
  p?: number;
  /** Weight of the loss, >= 0. Default 1. (The reference uses beta = 1000 on `beta / 2 * sum`.) */
  beta?: number;
}

/**
 * Spatial attention map of an NHWC feature map (Zagoruyko and Komodakis 2017):
 * `Q = mean_c |A[:, :, :, c]|^p`, flattened to `[batch, h * w]` and L2-normalised per example
 * (`q = Q / max(||Q||_2, 1e-12)`, like PyTorch's `F.normalize`).
 *
 * @param features - `[batch, h, w, c]` float32 feature map.
 * @param p - exponent, > 0 (default 2).
 * @returns `[batch, h * w]` unit-norm attention vectors.
 */
export function attentionMap(features: tf.Tensor, p = 2): tf.Tensor2D {
  const fn = 'attentionMap';
  const f = assertTensor(fn, 'features', features, 4, 'a rank-4 float32 NHWC tensor [batch, h, w, c]');
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0)
    invalidArgument(fn, 'p', 'a finite number > 0', p);
  return tf.tidy(() => attention(f, p));
}

function attention(f: tf.Tensor, p: number): tf.Tensor2D {
  const [b, h, w] = f.shape as [number, number, number, number];
  const a = p === 2 ? tf.square(f) : tf.pow(tf.abs(f), p);
  const q = tf.reshape(tf.mean(a, 3), [b, h * w]);
  // sqrt(max(||Q||^2, 1e-24)) = max(||Q||, 1e-12), with a finite gradient when Q = 0 (a dead feature map).
  const norm = tf.sqrt(tf.maximum(tf.sum(tf.square(q), 1, true), 1e-24));
  return tf.div(q, norm) as tf.Tensor2D;
}

/**
 * Attention transfer (Zagoruyko and Komodakis, "Paying More Attention to Attention", ICLR 2017):
 * the student's spatial attention maps are pulled towards the teacher's at several layers,
 *
 * `at = beta * mean_j mean_{n,k} (q_s,j[n, k] - q_t,j[n, k])^2`,
 *
 * where `q = attentionMap(A, p)` (mean over channels of |A|^p, flattened, L2-normalised) and j runs
 * over the feature-map pairs. Per pair this is exactly the reference implementation's
 * `(at(x) - at(y)).pow(2).mean()`, i.e. the **squared** L2 distance averaged over batch and
 * positions. The reference sums pairs with weight `beta_ref / 2`; to reproduce it pass
 * `beta = beta_ref * pairs / 2` (1000 * 3 / 2 = 1500 for its three WRN groups).
 *
 * Feature maps are NHWC (`[batch, h, w, c]`); a pair must agree in batch, h and w (the channel counts
 * may differ, since the attention map averages them away). The teacher carries no gradient.
 *
 * @param pairs - one or more `[studentFeatures, teacherFeatures]` pairs.
 * @returns a scalar.
 * @throws InvalidArgumentError for an empty list, a rank other than 4, or spatial/batch mismatches.
 */
export function attentionTransferLoss(
  pairs: ReadonlyArray<readonly [tf.Tensor, tf.Tensor]>,
  options?: AttentionTransferLossOptions,
): tf.Scalar {
  const fn = 'attentionTransferLoss';
  if (!Array.isArray(pairs) || pairs.length === 0) {
    invalidArgument(fn, 'pairs', 'a non-empty array of [studentFeatures, teacherFeatures] pairs', pairs);
  }
  const nhwc = 'a rank-4 float32 NHWC tensor [batch, h, w, c]';
  pairs.forEach((pair, j) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      invalidArgument(fn, `pairs[${j}]`, 'a [studentFeatures, teacherFeatures] pair', pair);
    }
    const s = assertTensor(fn, `pairs[${j}][0]`, pair[0], 4, nhwc);
    const t = assertTensor(fn, `pairs[${j}][1]`, pair[1], 4, nhwc);
    if (s.shape[0] !== t.shape[0] || s.shape[1] !== t.shape[1] || s.shape[2] !== t.shape[2]) {
      throw new InvalidArgumentError(
        `${fn}: argument 'pairs[${j}][1]' must have the batch size and spatial size [b, h, w] of ` +
          `'pairs[${j}][0]' (${describeValue(s)}), got ${describeValue(t)}`,
        { where: `${fn}(pairs[${j}][1])` },
      );
    }
  });
  const opts = assertOptions<AttentionTransferLossOptions>(fn, options, false);
  const p = opts.p ?? 2;
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0)
    invalidArgument(fn, 'p', 'a finite number > 0', p);
  const beta = opts.beta === undefined ? 1 : assertNonNegative(fn, 'beta', opts.beta);
  return tf.tidy(() => {
    const terms = pairs.map(([s, t]) =>
      tf.mean(tf.squaredDifference(attention(s, p), attention(stopGradient(t), p))),
    );
    return tf.mul(tf.div(tf.addN(terms), pairs.length), beta) as tf.Scalar;
  });
}
