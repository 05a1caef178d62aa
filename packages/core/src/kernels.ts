/**
 * Name of the optional fused Adam kernel. A backend package may register it (`@distilljs/backends` does
 * for wasm); `@distilljs/trainer`'s Adam and AdamW run it when the active backend has it and otherwise
 * compose the same arithmetic from tfjs ops, so results do not depend on which path ran.
 *
 * Inputs: `p` (the variable), `g` (its gradient), `m`, `v` (Adam's moments), all float32 of one shape.
 * Attributes: {@link AdamUpdateAttrs}. Outputs: `[pNext, mNext, vNext]`, where, elementwise in float32
 * with every operation rounded as a separate tfjs op would round it:
 *
 *   mNext = flush(m * beta1 + g * oneMinusBeta1)
 *   vNext = flush(v * beta2 + (g * g) * oneMinusBeta2)
 *   pNext = p * decay - (mNext / (sqrt(vNext / biasCorrection2) + epsilon)) * stepSize
 *
 * with `flush(x) = (x + 2^-100) - 2^-100` (subnormals to zero, see the trainer's optimizer).
 */
export const ADAM_UPDATE_KERNEL = 'DistilljsAdamUpdate';

/** Attributes of {@link ADAM_UPDATE_KERNEL}; each is used as a float32. */
export interface AdamUpdateAttrs {
  readonly beta1: number;
  readonly oneMinusBeta1: number;
  readonly beta2: number;
  readonly oneMinusBeta2: number;
  /** `1 - beta2^t` at step t. */
  readonly biasCorrection2: number;
  readonly epsilon: number;
  /** `lr / (1 - beta1^t)`. */
  readonly stepSize: number;
  /** AdamW's decoupled decay, `1 - lr * weightDecay`; 1 for Adam. */
  readonly decay: number;
}

/**
 * Name of the optional fused gradient of training-mode batch normalisation. `@distilljs/models`' batch-norm
 * layers run it in training (where mean and variance are the batch's own statistics over every axis but the
 * last, so they depend on x) when the active backend has it (`@distilljs/backends` registers it for wasm),
 * and compose the same formula from tfjs ops otherwise.
 *
 * Inputs: `x` (float32, channels last), `mean`, `variance`, `scale` (each `[c]`), `dy` (x's shape).
 * Attribute: `varianceEpsilon`. Outputs `[dx, dScale, dOffset]`, with N the number of rows of x (its size
 * over c), r = 1 / sqrt(variance + varianceEpsilon), xc = x - mean, per channel:
 *
 *   dOffset = sum(dy),  dScale = r * sum(dy * xc),
 *   dx = scale * r * (dy - sum(dy) / N - xc * r^2 * sum(dy * xc) / N)
 *
 * which is the gradient through the batch statistics as well as through the normalisation.
 *
 * With the attribute `relu: true` and the input `offset` (`[c]`), the gradient of
 * {@link BATCH_NORM_RELU_KERNEL} instead: dy is first multiplied by the ReLU's gradient, step(y) (1 for
 * y > 0, 0 otherwise, NaN for NaN), y being the batch norm of x before the ReLU exactly as that kernel
 * computes it (so the mask is the forward pass's, recomputed from x rather than read from the output).
 * A backend registers the two kernels together.
 */
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'DistilljsBatchNormTrainingGrad';

/**
 * Name of the optional fused batch norm and ReLU. `@distilljs/models`' batch-norm layers that a ReLU
 * activation layer follows run it in training when the active backend has it (`@distilljs/backends`
 * registers it for wasm), with the gradient {@link BATCH_NORM_TRAINING_GRAD_KERNEL} with `relu: true`, and
 * compose `tf.relu(tf.batchNorm(...))` otherwise.
 *
 * Inputs: `x` (float32, channels last), `mean`, `variance`, `offset`, `scale` (each `[c]`). Attribute:
 * `varianceEpsilon`. Output: relu(y) with y = (x - mean) * factor + offset, factor =
 * scale / sqrt(variance + varianceEpsilon) rounded to float32 once per channel, each operation in float32;
 * relu(y) = y < 0 ? 0 : y (NaN stays NaN, as tfjs's Relu on the cpu backend).
 */
export const BATCH_NORM_RELU_KERNEL = 'DistilljsBatchNormRelu';

/**
 * Name of the optional fused batch norm, ReLU and 2x2, stride-2, unpadded max pooling (NHWC, even height
 * and width). `@distilljs/models`' batch-norm layers that a ReLU and such a pooling layer follow run it in
 * training when the active backend has it (`@distilljs/backends` registers it for wasm), with the gradient
 * {@link BATCH_NORM_TRAINING_GRAD_KERNEL} given `relu: true, pool: true` (dy of the pooled shape: each
 * window's dy goes to its first maximum in row-major order, as `MaxPoolGrad` sends it, then the ReLU's
 * mask), and run the three layers apart otherwise.
 *
 * Inputs and attribute as {@link BATCH_NORM_RELU_KERNEL}'s; output `[n, h / 2, w / 2, c]`: the maximum of
 * each window of that kernel's output, starting from -Infinity and skipping NaN (as `MaxPool`).
 */
export const BATCH_NORM_RELU_POOL_KERNEL = 'DistilljsBatchNormReluPool';

/**
 * Name of the optional batch-statistics kernel of training-mode batch normalisation. `@distilljs/models`'
 * batch-norm layers run it in training when the active backend has it (`@distilljs/backends` registers it
 * for wasm) and compose the same statistics from tfjs ops otherwise.
 *
 * Input: `x` (float32, channels last, rank >= 2). Outputs `[mean, variance]`, each `[c]`: over every axis
 * but the last,
 *
 *   mean = tf.mean(x, axes),  variance = tf.mean(tf.square(tf.sub(x, mean)), axes)
 *
 * (the biased variance batch normalisation divides by), as those ops compute them on the backend: a
 * kernel may fuse the passes but not change the values.
 */
export const BATCH_NORM_MOMENTS_KERNEL = 'DistilljsBatchNormMoments';
