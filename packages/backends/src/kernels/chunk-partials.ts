import type { SimdKernels } from './simd/simd-kernels.js';
import { heapOffset, type WasmBackendInternals } from './wasm-heap.js';
import type { TensorInfo } from './wasm-kernel-utils.js';

/**
 * The sum of the per-chunk partial results of a chunked filter-gradient kernel, added in chunk order (float32
 * sums of up to 64 chunks, added in float64), so the result does not depend on which thread took which
 * chunk. `parts` holds `chunks` rows of `size` floats; `acc` is scratch of at least `2 * size + 1` floats,
 * whose 8-byte-aligned part the returned float64 view lies on (valid until the heap grows).
 */
export function sumChunkPartials(
  wb: WasmBackendInternals,
  simd: SimdKernels,
  parts: TensorInfo,
  acc: TensorInfo,
  chunks: number,
  size: number,
): Float64Array {
  const accOffset = Math.ceil(heapOffset(wb, acc) / 8) * 8;
  const totals = new Float64Array((wb.typedArrayFromHeap(acc) as Float32Array).buffer, accOffset, size);
  totals.fill(0);
  simd.colSums(heapOffset(wb, parts), chunks, size, accOffset);
  return totals;
}
