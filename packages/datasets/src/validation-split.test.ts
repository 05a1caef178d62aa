import { ConfigError } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { carveValidation } from './validation-split.js';

describe('carveValidation', () => {
  // 300 labels of 3 unbalanced classes: 150, 100 and 50 examples, interleaved
  const labels = Uint8Array.from({ length: 300 }, (_, i) => (i % 6 < 3 ? 0 : i % 6 < 5 ? 1 : 2));

  it('holds out a seeded, class-stratified share, disjoint from what stays for training', () => {
    const a = carveValidation(labels, 3, 60, 7);
    expect(a.info).toEqual({ from: 300, count: 60, seed: 7, perClass: [30, 20, 10] });
    expect(Array.from(carveValidation(labels, 3, 60, 7).validation)).toEqual(Array.from(a.validation));
    expect(Array.from(carveValidation(labels, 3, 60, 8).validation)).not.toEqual(Array.from(a.validation));
    const held = new Set(a.validation);
    expect(a.train.length + a.validation.length).toBe(300);
    expect(Array.from(a.train).some((p) => held.has(p))).toBe(false);
    for (const k of [0, 1, 2]) {
      expect(Array.from(a.validation).filter((p) => labels[p] === k)).toHaveLength(a.info.perClass[k]!);
    }
    // both lists ascending, so batches keep the source order
    expect(Array.from(a.train)).toEqual(Array.from(a.train).sort((x, y) => x - y));
  });

  it('rounds to the requested size and refuses to hold out nothing or everything', () => {
    expect(carveValidation(labels, 3, 7, 0).validation).toHaveLength(7);
    expect(() => carveValidation(labels, 3, 300, 0)).toThrow(ConfigError);
    expect(() => carveValidation(labels, 3, 0, 0, 'validationSize')).toThrow(
      /validationSize: 0 would hold out nothing; give a count from 1 to 299/,
    );
  });
});
