import { DistillError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { cpuConv2DBackpropFilterConfig } from './kernels/cpu-conv2d-backprop-filter.js';

/** What {@link registerCpuTrainingKernels} did. */
export interface CpuTrainingKernelsReport {
  /** The tfjs backend name the kernels were registered for. */
  readonly backendName: string;
  /** Kernels this call replaced, e.g. `Conv2DBackpropFilter (replaced)`. */
  readonly kernels: readonly string[];
  /** True when an earlier call had already registered them (nothing changed). */
  readonly alreadyRegistered: boolean;
}

const REPLACED = [tf.Conv2DBackpropFilter] as const;

/** The original kernels, per backend, kept so the replacement can be undone. */
const originals = new Map<string, Map<string, tf.KernelConfig | undefined>>();

function report(backendName: string, alreadyRegistered: boolean): CpuTrainingKernelsReport {
  return { backendName, kernels: REPLACED.map((k) => `${k} (replaced)`), alreadyRegistered };
}

/**
 * Registers training kernels for the pure-JavaScript `cpu` backend of TensorFlow.js 4.22:
 *
 * - `Conv2DBackpropFilter` (the gradient of every convolution's filter) in one pass over flat arrays. The
 *   stock kernel reads its tensors element by element and costs about 100x the forward convolution, so
 *   CNNs barely train on the cpu fallback; this one costs about as much as the forward convolution.
 *
 * Idempotent. Safe to call before or after `tf.setBackend('cpu')`; the cpu backend module must have been
 * imported (`import '@tensorflow/tfjs-backend-cpu'`) so its kernels are registered. `selectBackend` calls
 * it when it picks `cpu` (unless `trainingKernels: false`).
 *
 * @param backendName the backend to patch; `cpu` unless a custom build registers under another name.
 * @throws {DistillError} code `backend-unavailable` when the backend has no `Conv2DBackpropFilter` kernel
 *   (its package was not imported).
 */
export function registerCpuTrainingKernels(backendName = 'cpu'): CpuTrainingKernelsReport {
  if (originals.has(backendName)) return report(backendName, true);
  const saved = new Map<string, tf.KernelConfig | undefined>();
  for (const name of REPLACED) {
    const old = tf.getKernel(name, backendName);
    if (old === undefined) {
      throw new DistillError(
        `registerCpuTrainingKernels: the '${backendName}' backend has no '${name}' kernel registered; ` +
          `import '@tensorflow/tfjs-backend-cpu' (4.22.0, the version these kernels were written for) first.`,
        { code: 'backend-unavailable', where: `registerCpuTrainingKernels(${backendName})` },
      );
    }
    saved.set(name, old);
  }
  const stock = saved.get(tf.Conv2DBackpropFilter);
  tf.unregisterKernel(tf.Conv2DBackpropFilter, backendName);
  tf.registerKernel(cpuConv2DBackpropFilterConfig(backendName, stock));
  originals.set(backendName, saved);
  return report(backendName, false);
}

/**
 * Restores the kernels {@link registerCpuTrainingKernels} replaced (for tests and benchmarks that compare
 * against stock tfjs). Returns false when nothing was registered.
 */
export function unregisterCpuTrainingKernels(backendName = 'cpu'): boolean {
  const saved = originals.get(backendName);
  if (saved === undefined) return false;
  for (const [kernelName, old] of saved) {
    if (tf.getKernel(kernelName, backendName) !== undefined) tf.unregisterKernel(kernelName, backendName);
    if (old !== undefined) tf.registerKernel(old);
  }
  originals.delete(backendName);
  return true;
}

/** True when {@link registerCpuTrainingKernels} is in effect for the backend. */
export function hasCpuTrainingKernels(backendName = 'cpu'): boolean {
  return originals.has(backendName);
}
