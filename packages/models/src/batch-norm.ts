import {
  BATCH_NORM_MOMENTS_KERNEL,
  BATCH_NORM_RELU_KERNEL,
  BATCH_NORM_RELU_POOL_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
} from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** The parts of tfjs-layers' `BatchNormalization` layer that {@link batchNormalization} uses. */
interface BatchNormLayer {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: { read(): tf.Tensor } | null;
  beta: { read(): tf.Tensor } | null;
  movingMean: { read(): tf.Tensor; write(t: tf.Tensor): void };
  movingVariance: { read(): tf.Tensor; write(t: tf.Tensor): void };
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/**
 * The batch mean and biased variance over `axes` (every axis but the last), as tfjs-layers computes them:
 * `tf.mean(x)` and `tf.mean(tf.square(tf.sub(x, mean)))`, in the backend's `BATCH_NORM_MOMENTS_KERNEL`
 * where one is registered (the same values, fewer passes: one read-only pass for the variance on wasm).
 */
function batchMoments(x: tf.Tensor, axes: number[]): [tf.Tensor, tf.Tensor] {
  if (x.dtype === 'float32' && tf.getKernel(BATCH_NORM_MOMENTS_KERNEL, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(BATCH_NORM_MOMENTS_KERNEL, { x }) as unknown as [tf.Tensor, tf.Tensor];
  }
  const mean = tf.mean(x, axes);
  return [mean, tf.mean(tf.square(tf.sub(x, mean)), axes)];
}

/**
 * Training-mode batch normalisation over every axis but the last, as one custom-gradient op: the forward
 * pass computes what tfjs-layers computes (the batch mean, the mean of squared deviations, see
 * {@link batchMoments}, then `tf.batchNorm`), the backward pass the closed-form gradient through the statistics as well,
 *
 *   dx = gamma * r * (dy - mean(dy) - xc * r^2 * mean(dy * xc)),  r = 1 / sqrt(variance + eps), xc = x - mean,
 *
 * with `dGamma = r * sum(dy * xc)` and `dBeta = sum(dy)`: in the backend's `BATCH_NORM_TRAINING_GRAD_KERNEL`
 * where one is registered (two passes over the activation on wasm), else from tfjs ops. tfjs's own
 * gradient of that forward graph differentiates each of its ops (about nine passes). `stats` receives the
 * batch mean and variance for the moving averages, inside the op's forward pass (its own tidy scope, where
 * tfjs records nothing for gradients: the moving-average updates done there are not taped, so tfjs keeps
 * no copies of their inputs for a backward pass that never reaches them).
 *
 * With `relu`, the op is `relu(batchNorm(x))`: in the backend's `BATCH_NORM_RELU_KERNEL` (one pass) with the
 * gradient `BATCH_NORM_TRAINING_GRAD_KERNEL` given `relu: true` (the ReLU's mask applied inside its two
 * passes) where the backend has both, else `tf.relu` of `tf.batchNorm` with the ReLU's gradient
 * `dy * step(y)` before the formula above.
 *
 * With `pool` (and `relu`; only where the backend has `BATCH_NORM_RELU_POOL_KERNEL`, x NHWC with even
 * height and width), the op is a 2x2, stride-2 max pooling of that: the pooled output only, in one pass,
 * and a gradient from the pooled dy that recomputes each window's maximum inside its two passes.
 */
function trainingBatchNorm(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  epsilon: number,
  stats: (mean: tf.Tensor, variance: tf.Tensor) => void,
  relu = false,
  pool = false,
): tf.Tensor {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const backend = tf.getBackend();
  const fusedGrad =
    tf.getKernel(BATCH_NORM_TRAINING_GRAD_KERNEL, backend) !== undefined && x.dtype === 'float32';
  const fusedRelu = relu && fusedGrad && tf.getKernel(BATCH_NORM_RELU_KERNEL, backend) !== undefined;
  const fusedPool = pool && fusedRelu && poolFits(x);
  const op = tf.customGrad((...args: (tf.Tensor | ((saved: tf.Tensor[]) => void))[]) => {
    const [xs, g, b] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as (saved: tf.Tensor[]) => void;
    const [mean, variance] = batchMoments(xs, axes);
    stats(mean, variance);
    let value: tf.Tensor;
    if (fusedRelu) {
      value = tf
        .engine()
        .runKernel(
          fusedPool ? BATCH_NORM_RELU_POOL_KERNEL : BATCH_NORM_RELU_KERNEL,
          { x: xs, mean, variance, offset: b, scale: g },
          { varianceEpsilon: epsilon },
        ) as tf.Tensor;
      save([xs, mean, variance, g, b]);
    } else {
      const normalized = tf.batchNorm(xs, mean, variance, b, g, epsilon);
      value = relu ? tf.relu(normalized) : normalized;
      // The ReLU's output: its gradient's mask (positive exactly where its input is).
      save(relu ? [xs, mean, variance, g, value] : [xs, mean, variance, g]);
    }
    return {
      value,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sx, sMean, sVariance, sGamma, sLast] = saved as [
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor | undefined,
        ];
        const incoming = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
        if (fusedRelu) {
          return tf.engine().runKernel(
            BATCH_NORM_TRAINING_GRAD_KERNEL,
            {
              x: sx,
              mean: sMean,
              variance: sVariance,
              scale: sGamma,
              offset: sLast as tf.Tensor,
              dy: incoming,
            },
            { varianceEpsilon: epsilon, relu: true, pool: fusedPool },
          ) as tf.Tensor[];
        }
        const d = relu && !fusedRelu ? tf.mul(incoming, tf.step(sLast as tf.Tensor)) : incoming;
        if (fusedGrad && !fusedRelu && d.dtype === 'float32') {
          return tf
            .engine()
            .runKernel(
              BATCH_NORM_TRAINING_GRAD_KERNEL,
              { x: sx, mean: sMean, variance: sVariance, scale: sGamma, dy: d },
              { varianceEpsilon: epsilon },
            ) as tf.Tensor[];
        }
        const n = sx.size / (sx.shape[sx.shape.length - 1] as number);
        const r = tf.rsqrt(tf.add(sVariance, epsilon));
        const xc = tf.sub(sx, sMean);
        const sumDy = tf.sum(d, axes);
        const sumDyXc = tf.sum(tf.mul(d, xc), axes);
        const dx = tf.mul(
          tf.mul(sGamma, r),
          tf.sub(tf.sub(d, tf.div(sumDy, n)), tf.mul(xc, tf.div(tf.mul(tf.square(r), sumDyXc), n))),
        );
        return [dx, tf.mul(r, sumDyXc), sumDy];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor;
}

/**
 * `tf.layers.batchNormalization(args)` whose training-mode call normalises with one custom-gradient op
 * (see {@link trainingBatchNorm}) when it normalises over every axis but the last with both a scale and an
 * offset (the zoo's layers). The forward values, the weights and the serialised form (class
 * `BatchNormalization`) are tfjs-layers' own, so saved models load anywhere; the moving variance is the
 * average of the unbiased batch variance, as in PyTorch and Keras (tfjs-layers averages the biased one).
 * Inference, and any other configuration, run tfjs-layers' code unchanged.
 */
export function batchNormalization(
  args: Parameters<typeof tfl.layers.batchNormalization>[0],
): tfl.layers.Layer {
  const layer = tfl.layers.batchNormalization(args);
  const bn = layer as unknown as BatchNormLayer;
  const original = bn.call.bind(layer);
  bn.call = (inputs, kwargs) => {
    const input = Array.isArray(inputs) ? inputs[0] : inputs;
    const rank = input?.shape.length ?? 0;
    const axis = bn.axis >= 0 ? bn.axis : bn.axis + rank;
    if (
      kwargs.training !== true ||
      input === undefined ||
      (Array.isArray(inputs) && inputs.length !== 1) ||
      rank < 2 ||
      axis !== rank - 1 ||
      !bn.center ||
      !bn.scale ||
      bn.gamma === null ||
      bn.beta === null ||
      input.dtype !== 'float32'
    ) {
      return original(inputs, kwargs);
    }
    const relu = reluFused.has(layer);
    const pool = relu && poolFused.has(layer) && poolFits(input);
    // Moving averages as tfjs-layers updates them, moving -= (moving - batch) * (1 - momentum), but of
    // the unbiased batch variance (n / (n - 1) times the biased one, n values per channel), as PyTorch's
    // and Keras' batch norm keep it; normalising the batch itself uses the biased one, as they do.
    const n = input.size / (input.shape[rank - 1] as number);
    const correction = n > 1 ? n / (n - 1) : 1;
    const output = trainingBatchNorm(
      input,
      (bn.gamma as { read(): tf.Tensor }).read(),
      (bn.beta as { read(): tf.Tensor }).read(),
      bn.epsilon,
      (mean, variance) => {
        for (const [variable, value, factor] of [
          [bn.movingMean, mean, 1],
          [bn.movingVariance, variance, correction],
        ] as const) {
          tf.tidy(() => {
            const orig = variable.read();
            const batch = factor === 1 ? value : tf.mul(value, factor);
            variable.write(tf.sub(orig, tf.mul(tf.sub(orig, batch), 1 - bn.momentum)));
          });
        }
      },
      relu,
      pool,
    );
    if (relu) reluOutputs.add(output);
    if (pool) poolOutputs.add(output.dataId);
    return output;
  };
  return layer;
}

/** Batch-norm layers of {@link batchNormRelu} whose training-mode call applies the following ReLU too. */
const reluFused = new WeakSet<object>();
/** Their training-mode outputs: relu(batchNorm(x)) already, which the ReLU layer passes on unchanged. */
const reluOutputs = new WeakSet<object>();

/** Batch-norm layers of {@link batchNormReluPool} whose training-mode call applies the pooling too. */
const poolFused = new WeakSet<object>();
/**
 * The data of their training-mode outputs: pooled already, which the ReLU and pooling layers pass on
 * unchanged (by data: tfjs-layers hands the pooling layer a clone of what the ReLU layer passed on).
 */
const poolOutputs = new WeakSet<object>();
/** Each layer of a {@link batchNormReluPool} triple: its batch-norm layer. */
const poolGroups = new WeakMap<object, object>();

/**
 * True when x can be pooled in the fused op: float32 NHWC with even height and width (the 2x2, stride-2
 * windows cover it), on a backend with `BATCH_NORM_RELU_POOL_KERNEL`.
 */
function poolFits(x: tf.Tensor): boolean {
  return (
    x.rank === 4 &&
    (x.shape[1] as number) % 2 === 0 &&
    (x.shape[2] as number) % 2 === 0 &&
    tf.getKernel(BATCH_NORM_RELU_POOL_KERNEL, tf.getBackend()) !== undefined
  );
}

/** The part of tfjs-layers' `Activation` layer that {@link batchNormRelu} uses. */
interface ActivationLayer {
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

/**
 * A batch-norm layer ({@link batchNormalization}`(args)`) and the ReLU activation layer that follows it
 * (`tf.layers.activation({ activation: 'relu', ...reluArgs })`), for `relu.apply(batchNorm.apply(x))`. In
 * training, the batch-norm layer's call computes relu(batchNorm(x)) in one op (one pass over the
 * activation on wasm, and a gradient that applies the ReLU's mask inside the batch norm's: two passes over
 * the activation fewer forward, one backward), and the ReLU layer passes that output on unchanged (the
 * ReLU of a ReLU's output is the same values). Everything else is as if the two layers were built apart:
 * the same classes and serialised configs (saved models load in plain tfjs-layers), the same inference, and
 * the same training values up to float32 rounding. The batch-norm layer's own output is then the ReLU's in
 * training, so nothing but the ReLU layer may read it: {@link unfuseBatchNormRelu} undoes the fusion
 * (feature taps at the batch-norm layer do).
 */
export function batchNormRelu(
  args: Parameters<typeof tfl.layers.batchNormalization>[0],
  reluArgs: { name?: string } = {},
): { batchNorm: tfl.layers.Layer; relu: tfl.layers.Layer } {
  const batchNorm = batchNormalization(args);
  const relu = tfl.layers.activation({ ...reluArgs, activation: 'relu' });
  const activation = relu as unknown as ActivationLayer;
  const original = activation.call.bind(relu);
  activation.call = (inputs, kwargs) => {
    const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    return input !== undefined && reluOutputs.has(input) ? input : original(inputs, kwargs);
  };
  reluFused.add(batchNorm);
  return { batchNorm, relu };
}

/**
 * {@link batchNormRelu} followed by a 2x2, stride-2 max-pooling layer (`tf.layers.maxPooling2d({ poolSize:
 * 2, strides: 2, ...poolArgs })`), for `pool.apply(relu.apply(batchNorm.apply(x)))`. In training, on a
 * backend with `BATCH_NORM_RELU_POOL_KERNEL` (wasm) and for even height and width, the batch-norm layer's
 * call computes pool(relu(batchNorm(x))) in one op (only the pooled output is written; the gradient, from
 * the pooled dy, recomputes each window's maximum from x inside the batch norm's two passes: no
 * `MaxPoolGrad`, no full-size gradient in between), and the ReLU and pooling layers pass that output on.
 * Elsewhere (other backends, odd sizes) it is {@link batchNormRelu} and the pooling layer runs as usual.
 * The same classes and serialised configs as the three layers built apart, the same inference, the same
 * forward bits in training and the same gradients up to float32 rounding. {@link unfuseBatchNormRelu} at
 * any of the three layers turns the pooling fusion off (feature taps do).
 */
export function batchNormReluPool(
  args: Parameters<typeof tfl.layers.batchNormalization>[0],
  reluArgs: { name?: string } = {},
  poolArgs: { name?: string } = {},
): { batchNorm: tfl.layers.Layer; relu: tfl.layers.Layer; pool: tfl.layers.Layer } {
  const { batchNorm, relu } = batchNormRelu(args, reluArgs);
  const pool = tfl.layers.maxPooling2d({ ...poolArgs, poolSize: 2, strides: 2 });
  const pooling = pool as unknown as ActivationLayer;
  const original = pooling.call.bind(pool);
  pooling.call = (inputs, kwargs) => {
    const input = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : undefined) : inputs;
    return input !== undefined && poolOutputs.has(input.dataId) ? input : original(inputs, kwargs);
  };
  poolFused.add(batchNorm);
  for (const layer of [batchNorm, relu, pool]) poolGroups.set(layer, batchNorm);
  return { batchNorm, relu, pool };
}

/**
 * Makes a batch-norm layer of {@link batchNormRelu} compute its own output again in training (the ReLU
 * layer after it then applies the ReLU as usual), and any layer of {@link batchNormReluPool} turn its
 * pooling fusion off (the pooling layer then pools as usual): for models that read those outputs
 * elsewhere, e.g. feature taps. A no-op for any other layer.
 */
export function unfuseBatchNormRelu(layer: tfl.layers.Layer): void {
  reluFused.delete(layer);
  const group = poolGroups.get(layer);
  if (group !== undefined) poolFused.delete(group);
}
