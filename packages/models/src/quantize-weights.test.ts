import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel, fileSystemHandler, loadModel, saveModel } from './node.js';
import { quantizeWeights, toFloat16Bits } from './quantize-weights.js';

let root = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'distilljs-quantize-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Quantises one float32 tensor and decodes it back with tfjs's own decoder. */
function roundTrip(values: number[], dtype: 'float16' | 'uint8') {
  const spec = { name: 'w', shape: [values.length], dtype: 'float32' as const };
  const { weightSpecs, weightData } = quantizeWeights([spec], new Float32Array(values).buffer, dtype);
  const decoded = tf.io.decodeWeights(weightData, weightSpecs);
  const out = Array.from(decoded.w!.dataSync());
  tf.dispose(Object.values(decoded));
  return { out, spec: weightSpecs[0]!, bytes: weightData.byteLength };
}

describe('toFloat16Bits', () => {
  it('gives the IEEE half-precision bits, rounding to nearest even', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65520, 0x7c00], // halfway to the next binade: ties to even overflow to infinity
      [2 ** -24, 0x0001], // the smallest subnormal
      [2 ** -26, 0x0000], // below half of it: zero
      [1 + 2 ** -11, 0x3c00], // a tie between 1 and 1 + 2^-10: even (1)
      [1 + 3 * 2 ** -11, 0x3c02], // a tie between 1 + 2^-10 and 1 + 2^-9: even (the latter)
      [Number.POSITIVE_INFINITY, 0x7c00],
    ];
    for (const [v, bits] of cases) expect(toFloat16Bits(v).toString(16), `${v}`).toBe(bits.toString(16));
    expect(toFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits(Number.NaN) & 0x3ff).not.toBe(0);
  });
});

describe('quantizeWeights', () => {
  const values = Array.from({ length: 1000 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)) - 0.5);

  it('float16: tfjs decodes every weight to within half a unit in the last place', () => {
    const { out, spec, bytes } = roundTrip(values, 'float16');
    expect(spec.quantization).toEqual({ dtype: 'float16' });
    expect(bytes).toBe(2 * values.length);
    values.forEach((v, i) => {
      expect(Math.abs(out[i]! - v)).toBeLessThanOrEqual(Math.abs(v) * 2 ** -11 + 2 ** -25);
    });
  });

  it('uint8: tfjs decodes every weight to within half a step, and 0 exactly', () => {
    const { out, spec, bytes } = roundTrip([...values, 0], 'uint8');
    const q = spec.quantization as { dtype: string; scale: number; min: number };
    expect(q.dtype).toBe('uint8');
    expect(bytes).toBe(values.length + 1);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    expect(q.scale).toBeCloseTo((hi - lo) / 255, 6);
    values.forEach((v, i) => {
      expect(Math.abs(out[i]! - v)).toBeLessThanOrEqual(q.scale / 2 + 1e-6);
    });
    expect(out.at(-1)).toBe(0);
  });

  it('uint8: a constant tensor decodes to its value', () => {
    expect(roundTrip([0.25, 0.25, 0.25], 'uint8').out).toEqual([0.25, 0.25, 0.25]);
  });

  it('rejects an unknown quantisation', () => {
    expect(() => quantizeWeights([], new ArrayBuffer(0), 'int4' as never)).toThrow(
      /quantizeWeights: argument 'dtype' must be one of none, float16, uint8/,
    );
  });
});

describe('saveModel({ quantize })', () => {
  it('writes a uint8 / float16 model that stock tf.loadLayersModel dequantises and that predicts as before', async () => {
    const model = createModel('mlp', { hiddenUnits: [32], seed: 3 });
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 5);
    const expected = (model.predict(x) as tf.Tensor).arraySync() as number[][];
    const sizes: Record<string, number> = {};
    for (const quantize of ['none', 'float16', 'uint8'] as const) {
      const dir = join(root, quantize);
      await saveModel(model, dir, { quantize });
      sizes[quantize] = statSync(join(dir, 'weights.bin')).size;
      const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
      const specs = json.weightsManifest[0].weights as tf.io.WeightsManifestEntry[];
      expect(
        specs.every((s) => (quantize === 'none' ? !s.quantization : s.quantization?.dtype === quantize)),
      ).toBe(true);
      // stock tfjs-layers, no distilljs loader in between; and ours (which checks the recorded sha256)
      for (const loaded of [await tfl.loadLayersModel(fileSystemHandler(dir)), await loadModel(dir)]) {
        const y = (loaded.predict(x) as tf.Tensor).arraySync() as number[][];
        const tol = quantize === 'uint8' ? 0.05 : quantize === 'float16' ? 2e-3 : 0;
        y.flat().forEach((v, i) => {
          expect(Math.abs(v - expected.flat()[i]!)).toBeLessThanOrEqual(tol);
        });
        loaded.dispose();
      }
    }
    expect(sizes.float16).toBe(sizes.none! / 2);
    expect(sizes.uint8).toBe(sizes.none! / 4);
    x.dispose();
    model.dispose();
  });
});
