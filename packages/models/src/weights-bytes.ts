import { sha256Hex } from '@distilljs/core';
import { io } from '@tensorflow/tfjs-core';

const BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/**
 * Bytes the weight specs need, or `undefined` when they cannot be known ahead (string weights).
 * Quantised weights take the size of their quantised dtype.
 */
export function expectedWeightBytes(specs: readonly io.WeightsManifestEntry[]): number | undefined {
  let total = 0;
  for (const spec of specs) {
    const dtype = spec.quantization?.dtype ?? spec.dtype;
    const per = BYTES[dtype];
    if (per === undefined) return undefined;
    total += spec.shape.reduce((a, b) => a * b, 1) * per;
  }
  return total;
}

/** Hex sha256 of weight bytes (WebCrypto: the same code in browsers and Node). */
export function weightDataSha256(data: io.WeightData | undefined): Promise<string> {
  return sha256Hex(
    data === undefined ? new Uint8Array(0) : new Uint8Array(io.CompositeArrayBuffer.join(data)),
  );
}
