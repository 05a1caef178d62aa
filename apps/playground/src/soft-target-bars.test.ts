import { describe, expect, it } from 'vitest';
import { barValues, entropyBits, formatProbability, temperatureSoftmax } from './soft-target-bars.js';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe('temperatureSoftmax', () => {
  it('matches a hand computation', () => {
    const p = temperatureSoftmax([1, 2, 3], 1);
    const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
    const z = sum(e);
    p.forEach((v, i) => {
      expect(v).toBeCloseTo(e[i]! / z, 12);
    });
  });

  it('is stable for huge logits and sums to one', () => {
    const p = temperatureSoftmax([1000, 999, -1000], 1);
    expect(p.every(Number.isFinite)).toBe(true);
    expect(sum(p)).toBeCloseTo(1, 12);
    expect(p[0]! / p[1]!).toBeCloseTo(Math.E, 9);
  });

  it('gets softer as the temperature rises, keeping the order', () => {
    const logits = [9, 2, 5, -1];
    const cold = temperatureSoftmax(logits, 1);
    const hot = temperatureSoftmax(logits, 8);
    expect(entropyBits(hot)).toBeGreaterThan(entropyBits(cold));
    expect(hot[0]!).toBeLessThan(cold[0]!);
    expect(hot[1]!).toBeGreaterThan(cold[1]!);
    const order = (p: number[]) => [...p.keys()].sort((a, b) => p[b]! - p[a]!);
    expect(order(hot)).toEqual(order(cold));
  });

  it('refuses a temperature that is not positive', () => {
    expect(() => temperatureSoftmax([1, 2], 0)).toThrow(/temperature must be a finite number > 0, got 0/);
    expect(() => temperatureSoftmax([1, 2], Number.NaN)).toThrow(RangeError);
  });
});

describe('barValues', () => {
  it('gives linear heights in percent and marks the top class', () => {
    const bars = barValues([0.7, 0.2, 0.1], ['a', 'b', 'c']);
    expect(bars.map((b) => b.heightPct)).toEqual([70, 20, 10]);
    expect(bars.map((b) => b.isTop)).toEqual([true, false, false]);
    expect(bars[1]).toMatchObject({ classIndex: 1, label: 'b', text: '20.0%' });
  });

  it('log scale makes tiny probabilities visible and clamps below 1e-6', () => {
    const bars = barValues([1, 1e-3, 1e-9], ['a', 'b', 'c'], 'log');
    expect(bars[0]!.heightPct).toBeCloseTo(100, 9);
    expect(bars[1]!.heightPct).toBeCloseTo(50, 9);
    expect(bars[2]!.heightPct).toBe(0);
  });
});

describe('formatProbability', () => {
  it('keeps small values readable', () => {
    expect(formatProbability(0.931)).toBe('93.1%');
    expect(formatProbability(0.0004)).toBe('0.040%');
    expect(formatProbability(1e-7)).toBe('<0.01%');
  });
});
