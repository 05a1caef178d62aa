import { describe, expect, it } from 'vitest';
import { bestBias, biasGrid, errorsWithBias } from './bias-search.js';

describe('bias search', () => {
  // three classes; class 1 is under-predicted by 2 logits for its own examples
  const rows = [
    [5, 3, 0, 1], // true 1, predicted 0 at bias 0
    [5, 4, 0, 1], // true 1
    [0, 1, 5, 2], // true 2
    [5, 0, 0, 0], // true 0
    [4, 3.5, 0, 0], // true 0: a bias > 0.5 makes this wrong
  ];
  const data = {
    logits: Float32Array.from(rows.flatMap((r) => r.slice(0, 3))),
    labels: Int32Array.from(rows.map((r) => r[3]!)),
    indices: Int32Array.from(rows.map((_, i) => i)),
    numClasses: 3,
    count: rows.length,
  };

  it('counts errors overall and on the class', () => {
    expect(errorsWithBias(data, 1, 0)).toMatchObject({ errors: 2, classErrors: 2, classCount: 2 });
    expect(errorsWithBias(data, 1, 2.5)).toMatchObject({ errors: 1, classErrors: 0 });
  });

  it('picks the smallest bias with the fewest errors', () => {
    const best = bestBias(data, 1, biasGrid(5, 0.5));
    expect(best.errors).toBe(1);
    expect(best.bias).toBe(2.5);
    expect(errorsWithBias(data, 1, 4.5)).toMatchObject({ errors: 2 });
  });
});
