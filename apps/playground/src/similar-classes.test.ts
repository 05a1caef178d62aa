import { describe, expect, it } from 'vitest';
import { similarClassPairs, topSimilarClasses } from './similar-classes.js';

const digits = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

describe('topSimilarClasses', () => {
  it('returns the k most probable wrong classes, highest first', () => {
    const p = [0.01, 0.2, 0.05, 0, 0, 0, 0, 0.7, 0.04, 0];
    expect(topSimilarClasses(p, 7, digits, 3)).toEqual([
      { classIndex: 1, label: '1', probability: 0.2 },
      { classIndex: 2, label: '2', probability: 0.05 },
      { classIndex: 8, label: '8', probability: 0.04 },
    ]);
  });

  it('never returns the excluded class, even when it is not the top one', () => {
    const p = [0.5, 0.3, 0.2];
    expect(topSimilarClasses(p, 1, ['a', 'b', 'c'], 5).map((c) => c.classIndex)).toEqual([0, 2]);
  });

  it('breaks ties by class index', () => {
    expect(topSimilarClasses([0.25, 0.25, 0.25, 0.25], 0, digits, 2).map((c) => c.classIndex)).toEqual([
      1, 2,
    ]);
  });
});

describe('similarClassPairs', () => {
  it('averages per true class and returns the largest off-diagonal means', () => {
    // two examples of class 0 and one of class 1, over 3 classes
    const probs = [0.8, 0.1, 0.1, 0.6, 0.3, 0.1, 0.05, 0.9, 0.05];
    const pairs = similarClassPairs(probs, [0, 0, 1], 3, ['a', 'b', 'c'], 2);
    expect(pairs).toHaveLength(2);
    expect(pairs[0]).toMatchObject({ trueClass: 0, similarClass: 1, trueLabel: 'a', similarLabel: 'b' });
    expect(pairs[0]!.meanProbability).toBeCloseTo(0.2, 12);
    expect(pairs[1]).toMatchObject({ trueClass: 0, similarClass: 2 });
    expect(pairs[1]!.meanProbability).toBeCloseTo(0.1, 12);
  });

  it('skips unlabelled examples and refuses mismatched sizes', () => {
    expect(
      similarClassPairs([0.5, 0.5, 0.9, 0.1], [-1, 0], 2, ['a', 'b'], 1)[0]!.meanProbability,
    ).toBeCloseTo(0.1, 12);
    expect(() => similarClassPairs([0.5, 0.5], [0, 1], 2, ['a', 'b'])).toThrow(/expected 2 x 2/);
  });
});
