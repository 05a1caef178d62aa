import { describe, expect, it } from 'vitest';
import {
  availableChoices,
  DEFAULT_STUDENT,
  DEFAULT_TEACHER,
  findChoice,
  MODEL_CHOICES,
} from './model-choices.js';

describe('model choices', () => {
  it('has unique ids and valid defaults', () => {
    expect(new Set(MODEL_CHOICES.map((c) => c.id)).size).toBe(MODEL_CHOICES.length);
    expect(findChoice(DEFAULT_TEACHER)?.zoo).toBe('mlp');
    expect(findChoice(DEFAULT_STUDENT)?.options).toEqual({ hiddenUnits: [100, 100] });
    expect(findChoice('nope')).toBeUndefined();
  });
  it('filters by the zoo names present', () => {
    expect(availableChoices(['lenet5']).map((c) => c.id)).toEqual(['lenet5']);
  });
});
