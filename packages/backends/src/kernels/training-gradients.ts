import * as tf from '@tensorflow/tfjs-core';
import { BATCH_NORM_GRAD_KERNEL, batchNormGrad, batchNormGradApplies } from './batch-norm-grad.js';
import { RELU_GRAD_KERNEL, reluGrad } from './relu-grad.js';
import { requireKernel } from './wasm-kernel-utils.js';

type GradFunc = tf.GradConfig['gradFunc'];

/** The gradient configs replaced for a backend, kept so the replacement can be undone. */
export interface ReplacedGradients {
  readonly configs: ReadonlyMap<string, tf.GradConfig | undefined>;
}

/**
 * A gradient that runs `fast` while `backendName` is the active backend and `fast` applies (returns a
 * result), and tfjs's own gradient otherwise, so other backends are unaffected.
 */
function scoped(backendName: string, original: tf.GradConfig, fast: GradFunc): tf.GradConfig {
  return {
    ...original,
    gradFunc: (dy, saved, attrs) => {
      if (tf.engine().backendName === backendName) {
        const grads = fast(dy, saved, attrs);
        if (grads !== undefined) return grads;
      }
      return original.gradFunc(dy, saved, attrs);
    },
  };
}

/**
 * `FusedBatchNorm`: all five gradients from one fused kernel ({@link batchNormGrad}) when the statistics
 * are per channel, as in every batch-normalisation layer of tfjs-layers.
 */
const fusedBatchNormGrad: GradFunc = (dy, saved, attrs) => {
  const [x, mean, variance, scale] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
  const dyTensor = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
  if (!batchNormGradApplies(x, mean, variance, scale ?? undefined) || dyTensor.dtype !== 'float32') {
    return undefined as unknown as ReturnType<GradFunc>;
  }
  const inputs: tf.NamedTensorMap = { x, mean, variance, dy: dyTensor };
  if (scale) inputs.scale = scale;
  const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(BATCH_NORM_GRAD_KERNEL, inputs, {
    varianceEpsilon: (attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001,
  }) as tf.Tensor[];
  return {
    x: () => dx as tf.Tensor,
    mean: () => dMean as tf.Tensor,
    variance: () => dVariance as tf.Tensor,
    scale: () => dScale as tf.Tensor,
    offset: () => dOffset as tf.Tensor,
  };
};

/**
 * `Mean`: `dy / n` broadcast to the input's shape (one `Tile`), where tfjs multiplies a full-size tensor of
 * ones by `dy` and divides the product by `n` (three passes over the activation). The values are the same:
 * `(dy * 1) / n` is `dy / n` exactly.
 */
const meanGrad: GradFunc = (dy, saved, attrs) => {
  const [x] = saved as [tf.Tensor];
  const dyTensor = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
  const axes = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
  const reduceSize = tf.util.sizeFromShape(axes.map((a) => x.shape[a] as number));
  return {
    x: () => {
      const expanded = x.shape.slice();
      for (const a of axes) expanded[a] = 1;
      return tf.broadcastTo(tf.div(tf.reshape(dyTensor, expanded), reduceSize), x.shape);
    },
  };
};

/** `Relu`: `dy * step(x)` in one kernel ({@link reluGrad}) for float32 tensors of one shape. */
const reluGradFunc: GradFunc = (dy, saved) => {
  const [x] = saved as [tf.Tensor];
  const dyTensor = Array.isArray(dy) ? (dy[0] as tf.Tensor) : dy;
  if (
    x.dtype !== 'float32' ||
    dyTensor.dtype !== 'float32' ||
    !tf.util.arraysEqual(x.shape, dyTensor.shape)
  ) {
    return undefined as unknown as ReturnType<GradFunc>;
  }
  return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL, { dy: dyTensor, x }) as tf.Tensor };
};

/**
 * Registers, for `backendName` only, the fused batch-norm gradient kernel and the gradient configs of
 * `FusedBatchNorm`, `Mean` and `Relu` that use them. Returns what to restore.
 */
export function registerTrainingGradients(backendName: string): ReplacedGradients {
  const configs = new Map<string, tf.GradConfig | undefined>();
  const multiply = requireKernel('Multiply', backendName);
  tf.registerKernel({
    kernelName: BATCH_NORM_GRAD_KERNEL,
    backendName,
    kernelFunc: ((args: Parameters<typeof batchNormGrad>[1]) =>
      batchNormGrad(multiply, args)) as unknown as tf.KernelFunc,
  });
  tf.registerKernel({
    kernelName: RELU_GRAD_KERNEL,
    backendName,
    kernelFunc: reluGrad as unknown as tf.KernelFunc,
  });
  for (const [name, fast] of [
    ['FusedBatchNorm', fusedBatchNormGrad],
    ['Mean', meanGrad],
    ['Relu', reluGradFunc],
  ] as const) {
    const original = tf.getGradient(name);
    configs.set(name, original);
    if (original !== undefined) tf.registerGradient(scoped(backendName, original, fast));
  }
  return { configs };
}

/** Undoes {@link registerTrainingGradients}. */
export function unregisterTrainingGradients(backendName: string, replaced: ReplacedGradients): void {
  if (tf.getKernel(BATCH_NORM_GRAD_KERNEL, backendName) !== undefined) {
    tf.unregisterKernel(BATCH_NORM_GRAD_KERNEL, backendName);
  }
  if (tf.getKernel(RELU_GRAD_KERNEL, backendName) !== undefined) {
    tf.unregisterKernel(RELU_GRAD_KERNEL, backendName);
  }
  for (const [, config] of replaced.configs) if (config !== undefined) tf.registerGradient(config);
}
