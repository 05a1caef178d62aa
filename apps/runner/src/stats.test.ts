import { describe, expect, it } from 'vitest';
import { formatMeanStd, meanStd } from './stats.js';

describe('meanStd', () => {
  it('computes the mean and the sample standard deviation', () => {
    const m = meanStd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(m.mean).toBe(5);
    expect(m.std).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(m.n).toBe(8);
  });
  it('formats with ± and handles one and zero values', () => {
    expect(formatMeanStd(meanStd([1, 3]), 2)).toBe('2.00 ± 1.41');
    expect(formatMeanStd(meanStd([7]))).toBe('7.0');
    expect(formatMeanStd(meanStd([]))).toBe('n/a');
  });
});
