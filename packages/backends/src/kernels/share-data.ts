import type { KernelBackendLike, KernelImpl, TensorInfo } from './wasm-kernel-utils.js';

/** A backend that counts references to its data (every tfjs 4.x backend). */
interface RefCountingBackend extends KernelBackendLike {
  incRef(dataId: object): void;
}

/**
 * `Identity`, and `Cast` to the tensor's own dtype, without copying: the output shares the input's data
 * and holds one more reference to it, as the cpu backend and the wasm backend's own `Reshape` do. tfjs
 * data is never written in place, so sharing is safe. The wasm backend copies the whole tensor for both,
 * and gradients call them on every activation (`clone()` in the `Cast` and `AddN` gradients, custom
 * gradients, `tf.moments` casting its input). Strings and real casts go to `fallback`.
 */
export function shareData(
  fallback: KernelImpl,
  args: { inputs: Record<string, TensorInfo>; backend: KernelBackendLike; attrs?: Record<string, unknown> },
): TensorInfo {
  const x = args.inputs.x as TensorInfo;
  const dtype = (args.attrs?.dtype as string | undefined) ?? x.dtype;
  const backend = args.backend as Partial<RefCountingBackend>;
  if (x.dtype === 'string' || dtype !== x.dtype || typeof backend.incRef !== 'function') {
    const out = fallback(args);
    return Array.isArray(out) ? (out[0] as TensorInfo) : out;
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
}
