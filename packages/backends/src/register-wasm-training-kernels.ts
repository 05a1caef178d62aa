import {
  ADAM_UPDATE_KERNEL,
  BATCH_NORM_MOMENTS_KERNEL,
  BATCH_NORM_RELU_KERNEL,
  BATCH_NORM_RELU_POOL_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
} from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { adamUpdate } from './kernels/adam-update.js';
import { fastMatMul, matMulParts } from './kernels/batch-mat-mul.js';
import { batchNorm, batchNormRelu } from './kernels/batch-norm.js';
import { batchNormTrainingGrad } from './kernels/batch-norm-grad.js';
import { batchNormMoments } from './kernels/batch-norm-moments.js';
import { batchNormReluPool, batchNormReluPoolGrad } from './kernels/batch-norm-relu-pool.js';
import { conv2DBackpropFilter, conv2DBackpropFilterParts } from './kernels/conv2d-backprop-filter.js';
import { conv2DBackpropInput, conv2DBackpropInputParts } from './kernels/conv2d-backprop-input.js';
import { conv2d, fusedConv2d } from './kernels/conv2d-direct.js';
import { maxPool } from './kernels/max-pool.js';
import { maxPoolGrad } from './kernels/max-pool-grad.js';
import { reduceLeadingAxes } from './kernels/reduce-leading-axes.js';
import { reverse } from './kernels/reverse.js';
import { shareData } from './kernels/share-data.js';
import { matMulKernel } from './kernels/simd-mat-mul.js';
import { tile } from './kernels/tile.js';
import {
  type ReplacedGradients,
  registerTrainingGradients,
  unregisterTrainingGradients,
} from './kernels/training-gradients.js';
import { type KernelImpl, requireKernel, type TensorInfo } from './kernels/wasm-kernel-utils.js';

/** What {@link registerWasmTrainingKernels} did. */
export interface WasmTrainingKernelsReport {
  /** The tfjs backend name the kernels were registered for. */
  readonly backendName: string;
  /** Kernels this call replaced or added, e.g. `BatchMatMul (replaced)`. */
  readonly kernels: readonly string[];
  /** True when an earlier call had already registered them (nothing changed). */
  readonly alreadyRegistered: boolean;
}

const REPLACED = [
  'BatchMatMul',
  '_FusedMatMul',
  'Conv2D',
  'FusedConv2D',
  'Conv2DBackpropInput',
  'MaxPoolGrad',
  'MaxPool',
  'FusedBatchNorm',
  'Sum',
  'Mean',
  'Tile',
  'Reverse',
  'Identity',
  'Cast',
] as const;
const ADDED = [
  'Conv2DBackpropFilter',
  ADAM_UPDATE_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
  BATCH_NORM_MOMENTS_KERNEL,
  BATCH_NORM_RELU_KERNEL,
  BATCH_NORM_RELU_POOL_KERNEL,
] as const;

/** The original kernels, per backend, kept so the replacement can be undone. */
const originals = new Map<string, Map<string, tf.KernelConfig | undefined>>();
/** The original gradient configs, per backend. */
const originalGradients = new Map<string, ReplacedGradients>();
const GRADIENTS = ['FusedBatchNorm', 'Mean', 'Relu'] as const;

/**
 * Registers training kernels for the `wasm` backend of TensorFlow.js 4.22 so that models train there, and
 * fast:
 *
 * - `BatchMatMul` and `_FusedMatMul` with `transposeA`/`transposeB` (every backward pass of a dense layer)
 *   run as an explicit transpose plus the untransposed XNNPACK product (10-30x faster than the backend's
 *   scalar loop for transposed operands); batched products run one XNNPACK product per matrix.
 * - `Conv2DBackpropFilter`, which the wasm backend lacks (no convolution trains without it), computed as
 *   one XNNPACK convolution of transposed tensors.
 * - `Conv2D` and `FusedConv2D` (linear or ReLU, per-channel bias) with stride 1 and a multiple of 8 output
 *   channels in the SIMD kernel `convDirect` (1.1-1.4x XNNPACK's speed here); others in XNNPACK.
 * - `Conv2DBackpropInput` computed as one convolution with the flipped filter (`convDirect` or XNNPACK)
 *   instead of the backend's scalar loop.
 * - `MaxPoolGrad` as one pass over the pooling windows (the backend's kernel loops over every window that
 *   may cover each input pixel), 2x2 stride-2 pooling in SIMD shared with the helper threads.
 * - `MaxPool` with 2x2 windows and stride 2 over a multiple of 4 channels in SIMD, shared with the helper
 *   threads (1.2-1.8x XNNPACK's operator per thread here).
 * - `Sum` and `Mean` over leading axes (bias gradients, batch-norm statistics) as one sequential pass
 *   instead of a transpose followed by a reduction.
 * - `FusedBatchNorm` in one SIMD pass with the per-channel factor computed once (the backend's kernel
 *   takes a square root, a division and four modulo indices per element).
 * - `Tile` (batch-norm gradients tile per-channel statistics to the activation shape) and `Reverse` (the
 *   input gradient of a convolution flips its filter) by block copies.
 * - `Identity`, and `Cast` to the same dtype, share the input's data instead of copying it.
 * - `DistilljsBatchNormTrainingGrad` (`BATCH_NORM_TRAINING_GRAD_KERNEL` of @distilljs/core): the whole
 *   gradient of training-mode batch normalisation (through the batch statistics) in two passes, for the
 *   batch-norm layers of @distilljs/models; with `relu: true`, of the next kernel, the ReLU's gradient
 *   mask applied inside both passes.
 * - `DistilljsBatchNormRelu` (`BATCH_NORM_RELU_KERNEL` of @distilljs/core): batch normalisation and the
 *   ReLU after it in one SIMD pass (tfjs runs a second kernel over the whole activation for the ReLU), for
 *   those layers when a ReLU activation layer follows them.
 * - `DistilljsBatchNormReluPool` (`BATCH_NORM_RELU_POOL_KERNEL` of @distilljs/core): the same followed by a
 *   2x2, stride-2 max pooling, writing only the pooled output; its gradient (`pool: true` on the gradient
 *   kernel above) recomputes each window's maximum from x inside the two passes (no `MaxPoolGrad`).
 * - `DistilljsBatchNormMoments` (`BATCH_NORM_MOMENTS_KERNEL` of @distilljs/core): the batch mean and
 *   variance of those layers' forward pass, the variance in one read-only SIMD pass (the same values as
 *   `Sub`, `Square` and `Mean`, without writing the first two).
 * - `DistilljsAdamUpdate` (`ADAM_UPDATE_KERNEL` of @distilljs/core): the trainer's Adam and AdamW step
 *   for one variable in one SIMD pass, bit for bit what its composed ops give.
 * - The gradients of `FusedBatchNorm` (all five inputs from one fused two-pass kernel), `Mean` (one
 *   broadcast instead of three passes) and `Relu` (one pass instead of `Step`, `Cast`, `Multiply`); these gradient configs are global in tfjs, so they delegate to
 *   tfjs's own gradients whenever another backend is active.
 *
 * Every other kernel the zoo's gradients need (`AvgPoolGrad`, the ops batch normalisation
 * and dropout are composed of) already exists in the wasm backend.
 *
 * Idempotent. Safe to call before or after `tf.setBackend('wasm')`; the wasm backend module must have been
 * imported (`import '@tensorflow/tfjs-backend-wasm'`) so its kernels are registered.
 *
 * @param backendName the backend to patch; `wasm` unless a custom build registers under another name.
 */
export function registerWasmTrainingKernels(backendName = 'wasm'): WasmTrainingKernelsReport {
  if (originals.has(backendName)) {
    return {
      backendName,
      kernels: [
        ...REPLACED.map((k) => `${k} (replaced)`),
        ...ADDED.map((k) => `${k} (added)`),
        ...GRADIENTS.map((k) => `${k} gradient (replaced)`),
      ],
      alreadyRegistered: true,
    };
  }
  const saved = new Map<string, tf.KernelConfig | undefined>();
  for (const name of [...REPLACED, ...ADDED]) saved.set(name, tf.getKernel(name, backendName));

  const parts = matMulParts(backendName);
  const batchMatMul = requireKernel('BatchMatMul', backendName);
  const fusedMatMul = requireKernel('_FusedMatMul', backendName);
  const backpropInput = requireKernel('Conv2DBackpropInput', backendName);
  const sum = requireKernel('Sum', backendName);
  const maxPoolStock = requireKernel('MaxPool', backendName);
  const fusedBatchNorm = requireKernel('FusedBatchNorm', backendName);
  const mean = requireKernel('Mean', backendName);
  const tileKernel = requireKernel('Tile', backendName);
  const reverseKernel = requireKernel('Reverse', backendName);
  const identity = requireKernel('Identity', backendName);
  const cast = requireKernel('Cast', backendName);
  const filterParts = conv2DBackpropFilterParts(backendName);
  const conv2dStock = requireKernel('Conv2D', backendName);
  const fusedConv2dStock = requireKernel('FusedConv2D', backendName);
  const conv2dKernel: KernelImpl = (args) => conv2d(conv2dStock, args);
  // The input gradient's convolution runs through the direct kernel too.
  const inputParts = conv2DBackpropInputParts(backendName, conv2dKernel);
  const momentsParts = {
    mean: ((args) => reduceLeadingAxes('mean', mean, args)) as KernelImpl,
    sub: requireKernel('Sub', backendName),
    square: requireKernel('Square', backendName),
  };

  const kernels: Array<[string, KernelImpl]> = [
    [
      'BatchMatMul',
      (args) => matMulKernel(parts.transpose, (fb) => fastMatMul(parts, batchMatMul, fb), args),
    ],
    [
      '_FusedMatMul',
      (args) => matMulKernel(parts.transpose, (fb) => fastMatMul(parts, fusedMatMul, fb), args),
    ],
    ['Conv2D', conv2dKernel],
    ['FusedConv2D', (args) => fusedConv2d(fusedConv2dStock, args)],
    ['Conv2DBackpropFilter', (args) => conv2DBackpropFilter(filterParts, args)],
    [ADAM_UPDATE_KERNEL, (args) => adamUpdate(args)],
    [
      BATCH_NORM_TRAINING_GRAD_KERNEL,
      (args) => (args.attrs?.pool === true ? batchNormReluPoolGrad(args) : batchNormTrainingGrad(args)),
    ],
    [BATCH_NORM_MOMENTS_KERNEL, (args) => batchNormMoments(momentsParts, args)],
    [BATCH_NORM_RELU_KERNEL, (args) => batchNormRelu(args)],
    [BATCH_NORM_RELU_POOL_KERNEL, (args) => batchNormReluPool(args)],
    [
      'Conv2DBackpropInput',
      (args) => conv2DBackpropInput(inputParts, args) ?? (backpropInput(args) as TensorInfo),
    ],
    ['MaxPoolGrad', (args) => maxPoolGrad(args)],
    ['MaxPool', (args) => maxPool(maxPoolStock, args)],
    ['FusedBatchNorm', (args) => batchNorm(fusedBatchNorm, args)],
    ['Sum', (args) => reduceLeadingAxes('sum', sum, args)],
    ['Mean', (args) => reduceLeadingAxes('mean', mean, args)],
    ['Tile', (args) => tile(tileKernel, args)],
    ['Reverse', (args) => reverse(reverseKernel, args)],
    ['Identity', (args) => shareData(identity, args)],
    ['Cast', (args) => shareData(cast, args)],
  ];
  for (const [kernelName, kernelFunc] of kernels) {
    const old = saved.get(kernelName);
    if (old !== undefined) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({
      kernelName,
      backendName,
      kernelFunc: kernelFunc as unknown as tf.KernelFunc,
      ...(old?.setupFunc ? { setupFunc: old.setupFunc } : {}),
      ...(old?.disposeFunc ? { disposeFunc: old.disposeFunc } : {}),
    });
  }
  originals.set(backendName, saved);
  originalGradients.set(backendName, registerTrainingGradients(backendName));
  return {
    backendName,
    kernels: [
      ...REPLACED.map((k) => `${k} (replaced)`),
      ...ADDED.map((k) => `${k} (added)`),
      ...GRADIENTS.map((k) => `${k} gradient (replaced)`),
    ],
    alreadyRegistered: false,
  };
}

/**
 * Restores the kernels {@link registerWasmTrainingKernels} replaced and removes the ones it added (for
 * tests and benchmarks that compare against stock tfjs). Returns false when nothing was registered.
 */
export function unregisterWasmTrainingKernels(backendName = 'wasm'): boolean {
  const saved = originals.get(backendName);
  if (saved === undefined) return false;
  for (const [kernelName, old] of saved) {
    if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName);
    if (old !== undefined) tf.registerKernel(old);
  }
  originals.delete(backendName);
  const gradients = originalGradients.get(backendName);
  if (gradients !== undefined) unregisterTrainingGradients(backendName, gradients);
  originalGradients.delete(backendName);
  return true;
}

/** True when {@link registerWasmTrainingKernels} is in effect for the backend. */
export function hasWasmTrainingKernels(backendName = 'wasm'): boolean {
  return originals.has(backendName);
}
