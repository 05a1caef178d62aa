/**
 * Argument checks shared by the losses. Every check runs on shapes, dtypes and plain numbers only
 * (never on tensor values), before any tensor is allocated, so a failed call leaks nothing.
 *
 * @internal
 */
import { describeValue, InvalidArgumentError, invalidArgument } from '@distilljs/core';
import type { Tensor } from '@tensorflow/tfjs-core';

/** True for anything that looks like a tfjs tensor (works across realms and duplicate installs). */
export function isTensor(value: unknown): value is Tensor {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { shape?: unknown }).shape) &&
    typeof (value as { dtype?: unknown }).dtype === 'string' &&
    typeof (value as { dataId?: unknown }).dataId === 'object'
  );
}

/** Checks `value` is a live float tensor of the given rank. */
export function assertTensor(fn: string, arg: string, value: unknown, rank?: number, what?: string): Tensor {
  const expected = what ?? (rank === undefined ? 'a float tensor' : `a rank-${rank} float tensor`);
  if (!isTensor(value)) invalidArgument(fn, arg, expected, value);
  if (value.isDisposed) {
    throw new InvalidArgumentError(`${fn}: argument '${arg}' was already disposed`, {
      where: `${fn}(${arg})`,
    });
  }
  if (rank !== undefined && value.rank !== rank) invalidArgument(fn, arg, expected, value);
  if (value.dtype !== 'float32') invalidArgument(fn, arg, `${expected} (dtype float32)`, value);
  return value;
}

/** Checks a `[batch, classes]` logits tensor with at least one row and one class. */
export function assertLogits(fn: string, arg: string, value: unknown): Tensor {
  const t = assertTensor(fn, arg, value, 2, 'a rank-2 float32 tensor [batch, classes]');
  if (t.shape[0] === 0 || t.shape[1] === 0) {
    invalidArgument(fn, arg, 'a non-empty [batch, classes] tensor', value);
  }
  return t;
}

/** Checks two tensors have the same shape; `b` is named in the message. */
export function assertSameShape(fn: string, argA: string, a: Tensor, argB: string, b: Tensor): void {
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (!same) {
    throw new InvalidArgumentError(
      `${fn}: argument '${argB}' must have the same shape as '${argA}' [${a.shape.join(', ')}], got ${describeValue(b)}`,
      { where: `${fn}(${argB})` },
    );
  }
}

/** Checks a temperature: a finite number > 0. */
export function assertTemperature(fn: string, value: unknown, arg = 'temperature'): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    invalidArgument(fn, arg, 'a finite number > 0', value);
  }
  return value;
}

/** Checks an options argument is absent or a plain object. */
export function assertOptions<T extends object>(fn: string, value: unknown, required: boolean): T {
  if (value === undefined && !required) return {} as T;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    invalidArgument(fn, 'options', required ? 'an options object' : 'an options object or undefined', value);
  }
  return value as T;
}

/** Checks a finite number >= 0 (a weight such as DKD's alpha and beta). */
export function assertNonNegative(fn: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    invalidArgument(fn, arg, 'a finite number >= 0', value);
  }
  return value;
}

/** Checks an optional boolean flag (undefined is false). */
export function assertFlag(fn: string, arg: string, value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') invalidArgument(fn, arg, 'true or false', value);
  return value;
}
