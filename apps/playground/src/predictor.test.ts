import { describe, expect, it } from 'vitest';
import { modelInput, topClasses } from './predictor.js';

describe('predictor helpers', () => {
  const p = {
    image: { height: 1, width: 2, channels: 3 as const, resize: 'stretch' as const },
    normalize: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.5] },
    classNames: ['a', 'b', 'c'],
  };
  it('scales by 1/255 and normalises each channel as the export says', () => {
    const x = modelInput(Uint8Array.from([255, 0, 51, 0, 255, 153]), p);
    const want = [
      (1 - 0.5) / 0.2,
      (0 - 0.4) / 0.25,
      (0.2 - 0.3) / 0.5,
      (0 - 0.5) / 0.2,
      (1 - 0.4) / 0.25,
      (0.6 - 0.3) / 0.5,
    ];
    want.forEach((w, i) => {
      expect(x[i]).toBeCloseTo(w, 5);
    });
    expect([...modelInput(Uint8Array.from([0, 255]), { ...p, normalize: undefined })]).toEqual([0, 1]);
  });
  it('lists the most probable classes first, with their names', () => {
    expect(topClasses([0.1, 0.7, 0.2], ['a', 'b', 'c'], 2)).toEqual([
      { className: 'b', probability: 0.7 },
      { className: 'c', probability: 0.2 },
    ]);
  });
});
