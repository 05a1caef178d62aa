import { invalidArgument } from '@distilljs/core';
import { io } from '@tensorflow/tfjs-core';

/** How {@link quantizeWeights} stores float32 weights: as they are, as float16, or as affine uint8. */
export type WeightQuantization = 'none' | 'float16' | 'uint8';

/** The quantisations {@link quantizeWeights} offers. */
export const WEIGHT_QUANTIZATIONS: readonly WeightQuantization[] = ['none', 'float16', 'uint8'];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The IEEE 754 half-precision bits of `value`, rounded to nearest, ties to even (overflow to infinity). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    return sign | roundShift(mant | 0x800000, 14 - e);
  }
  // A carry out of the mantissa moves into the exponent, which is the correct rounding (up to infinity).
  return sign | ((e << 10) + roundShift(mant, 13));
}

/** `m >> shift`, rounded to nearest with ties to even. */
function roundShift(m: number, shift: number): number {
  const kept = m >>> shift;
  const rest = m & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return rest > half || (rest === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/**
 * The affine uint8 range of tfjs-converter (`quantization.py`): scale `(max - min) / 255`, and `min`
 * nudged so that 0 is exactly representable (zero biases and ReLU outputs stay exact).
 */
function affineRange(values: Float32Array): { scale: number; min: number } {
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return { scale: 1, min: Number.isFinite(lo) ? lo : 0 };
  const scale = Math.fround((hi - lo) / 255);
  const zeroPoint = Math.round(-lo / scale);
  // min in double precision: tfjs computes q * scale + min in doubles, so q = zeroPoint gives exactly 0.
  return { scale, min: -zeroPoint * scale };
}

function quantizeOne(
  values: Float32Array,
  dtype: 'float16' | 'uint8',
): { bytes: Uint8Array; quantization: io.WeightsManifestEntry['quantization'] } {
  if (dtype === 'float16') {
    const half = new Uint16Array(values.length);
    for (let i = 0; i < values.length; i++) half[i] = toFloat16Bits(values[i] as number);
    return { bytes: new Uint8Array(half.buffer), quantization: { dtype: 'float16' } };
  }
  const { scale, min } = affineRange(values);
  const q = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const level = Math.round(((values[i] as number) - min) / scale);
    q[i] = Math.min(255, Math.max(0, level));
  }
  return { bytes: q, quantization: { dtype: 'uint8', scale, min } };
}

/**
 * Stores a model's float32 weights in fewer bytes, with tfjs's standard `quantization` entries in the
 * weight specs, so that stock `tf.loadLayersModel` (and `tf.io.decodeWeights`) dequantises them:
 * `'float16'` halves each weight (round to nearest even), `'uint8'` maps each tensor affinely onto 256
 * levels (`value = q * scale + min`, as tfjs-converter's `--quantize_uint8`). Weights of other dtypes
 * and `'none'` are passed through.
 */
export function quantizeWeights(
  specs: readonly io.WeightsManifestEntry[],
  data: io.WeightData,
  dtype: WeightQuantization,
): { weightSpecs: io.WeightsManifestEntry[]; weightData: ArrayBuffer } {
  if (!WEIGHT_QUANTIZATIONS.includes(dtype)) {
    invalidArgument('quantizeWeights', 'dtype', `one of ${WEIGHT_QUANTIZATIONS.join(', ')}`, dtype);
  }
  const buffer = io.CompositeArrayBuffer.join(data);
  if (dtype === 'none') return { weightSpecs: specs.map((s) => ({ ...s })), weightData: buffer };
  const parts: Uint8Array[] = [];
  const weightSpecs: io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of specs) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = count * (spec.dtype === 'float32' || spec.dtype === 'int32' ? 4 : 1);
    if (spec.quantization || (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool')) {
      invalidArgument('quantizeWeights', 'specs', 'unquantised float32, int32 or bool weights', spec);
    }
    const raw = new Uint8Array(buffer, offset, bytes);
    offset += bytes;
    if (spec.dtype !== 'float32') {
      parts.push(raw);
      weightSpecs.push({ ...spec });
      continue;
    }
    const q = quantizeOne(new Float32Array(raw.slice().buffer), dtype);
    parts.push(q.bytes);
    weightSpecs.push({ ...spec, quantization: q.quantization });
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return { weightSpecs, weightData: out.buffer };
}
