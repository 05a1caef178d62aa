import { describe, expect, it } from 'vitest';
import {
  assertInRange,
  assertPositive,
  DistillError,
  InvalidArgumentError,
  NotInstalledError,
} from './errors.js';

describe('errors', () => {
  it('names the function, the argument and what was expected', () => {
    expect(() => assertPositive('kdLoss', 'temperature', -1)).toThrow(
      "kdLoss: argument 'temperature' must be a finite number > 0, got -1",
    );
    expect(() => assertInRange('distillationLoss', 'alpha', 1.5, 0, 1)).toThrow(
      "distillationLoss: argument 'alpha' must be a number in [0, 1], got 1.5",
    );
  });

  it('keeps one base class with name, code, where and cause', () => {
    const cause = new Error('root');
    const e = new InvalidArgumentError('bad', { where: 'f(x)', cause });
    expect(e).toBeInstanceOf(DistillError);
    expect(e.name).toBe('InvalidArgumentError');
    expect(e.code).toBe('invalid-argument');
    expect(e.where).toBe('f(x)');
    expect(e.cause).toBe(cause);
  });

  it('tells how to install what is missing', () => {
    const e = new NotInstalledError(
      '@tensorflow/tfjs-node-gpu is not installed.',
      'npm i @tensorflow/tfjs-node-gpu',
    );
    expect(e.message).toContain('Install it with: npm i @tensorflow/tfjs-node-gpu');
    expect(e.installCommand).toBe('npm i @tensorflow/tfjs-node-gpu');
  });
});
