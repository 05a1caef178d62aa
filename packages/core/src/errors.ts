/**
 * The one base class of every error distilljs throws on purpose.
 *
 * Messages say what was wrong, where (function and argument, file and offset, config path) and what
 * would be valid. `code` is a stable machine-readable kind; `where` points at the place.
 */
export class DistillError extends Error {
  override readonly name: string = 'DistillError';
  /** Stable kind of error, e.g. `invalid-argument`, `invalid-file`, `not-installed`. */
  readonly code: string;
  /** Where the problem is: `kdLoss(temperature)`, `/data/train-images.gz@16`, `students[1].alpha`. */
  readonly where: string | undefined;

  constructor(message: string, options: { code?: string; where?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'distill-error';
    this.where = options.where;
  }
}

/** A function was called with an argument of the wrong shape, rank, range or type. */
export class InvalidArgumentError extends DistillError {
  override readonly name = 'InvalidArgumentError';
  constructor(message: string, options: { where?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'invalid-argument' });
  }
}

/** A file or byte buffer is not what it claims to be (truncated, wrong magic, corrupt). */
export class InvalidFileError extends DistillError {
  override readonly name = 'InvalidFileError';
  constructor(message: string, options: { where?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'invalid-file' });
  }
}

/** A configuration (experiment file, options object) failed validation. */
export class ConfigError extends DistillError {
  override readonly name = 'ConfigError';
  constructor(message: string, options: { where?: string; cause?: unknown } = {}) {
    super(message, { ...options, code: 'invalid-config' });
  }
}

/** An optional package (a tfjs backend, a dataset package) is not installed. */
export class NotInstalledError extends DistillError {
  override readonly name = 'NotInstalledError';
  /** The shell command that installs what is missing. */
  readonly installCommand: string;
  constructor(message: string, installCommand: string, options: { cause?: unknown } = {}) {
    super(`${message} Install it with: ${installCommand}`, { ...options, code: 'not-installed' });
    this.installCommand = installCommand;
  }
}

/** Formats a value for an error message: short, never the whole tensor or buffer. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value))
    return `a ${value.constructor.name} of length ${(value as Uint8Array).length}`;
  if (typeof value === 'object' && value !== null && 'shape' in value && 'dtype' in value) {
    const t = value as { shape: number[]; dtype: string };
    return `a ${t.dtype} tensor of shape [${t.shape.join(', ')}]`;
  }
  return typeof value;
}

/**
 * Throws an {@link InvalidArgumentError} of the house form:
 * `kdLoss: argument 'temperature' must be a finite number > 0, got -1`.
 */
export function invalidArgument(fn: string, arg: string, expected: string, got: unknown): never {
  throw new InvalidArgumentError(`${fn}: argument '${arg}' must be ${expected}, got ${describeValue(got)}`, {
    where: `${fn}(${arg})`,
  });
}

/** Checks a number is finite and positive; throws the house error otherwise. */
export function assertPositive(fn: string, arg: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    invalidArgument(fn, arg, 'a finite number > 0', value);
  }
}

/** Checks a number lies in [lo, hi]; throws the house error otherwise. */
export function assertInRange(
  fn: string,
  arg: string,
  value: unknown,
  lo: number,
  hi: number,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < lo || value > hi) {
    invalidArgument(fn, arg, `a number in [${lo}, ${hi}]`, value);
  }
}

/** Checks a value is an integer >= min; throws the house error otherwise. */
export function assertInteger(fn: string, arg: string, value: unknown, min = 0): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    invalidArgument(fn, arg, `an integer >= ${min}`, value);
  }
}
