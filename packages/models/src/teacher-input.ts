import { ConfigError, InvalidArgumentError, type TeacherLayout } from '@distilljs/core';

/** Per-channel `(x - mean) / std` a teacher expects on the data's inputs (as PyTorch's Normalize). */
export interface TeacherNormalize {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** A shape for messages: `[?, 1, 28, 28]` (free dimensions as `?`). */
export const formatShape = (s: readonly (number | string | null | undefined)[]): string =>
  `[${s.map((d) => (typeof d === 'number' && d >= 0 ? d : '?')).join(', ')}]`;

/**
 * Which layout a model's input has (`model`: its full input shape, batch first; a free dimension is a string,
 * `null` or -1), given the data's NHWC example shape; throws naming both shapes when neither NCHW, NHWC nor a
 * flat vector fits.
 */
export function teacherInputLayout(
  source: string,
  model: readonly (number | string | null)[],
  data: readonly number[],
): TeacherLayout {
  const dims = model.slice(1);
  const fits = (want: readonly number[]) =>
    dims.length === want.length && dims.every((d, i) => typeof d !== 'number' || d < 0 || d === want[i]);
  const size = data.reduce((a, b) => a * b, 1);
  if (data.length === 3) {
    const [h, w, c] = data as [number, number, number];
    if (fits([c, h, w]) && !(c !== 1 && fits([h, w, c]))) return 'NCHW';
    if (fits([h, w, c])) return 'NHWC';
  } else if (fits(data)) return data.length === 1 ? 'flat' : 'NHWC';
  if (dims.length === 1 && dims[0] === size) return 'flat';
  const nchw = data.length === 3 ? `, i.e. [${data[2]}, ${data[0]}, ${data[1]}] as NCHW` : '';
  throw new InvalidArgumentError(
    `${source}: the model takes input ${formatShape(model)} but the data gives examples of ${formatShape(data)} (NHWC${nchw}); use a teacher trained on data of this shape`,
    { where: source },
  );
}

/** Expands and checks `normalize` for `channels` channels (one value stands for every channel). */
export function checkTeacherNormalize(
  source: string,
  norm: TeacherNormalize | undefined,
  channels: number,
): { mean: number[]; std: number[] } | undefined {
  if (!norm) return undefined;
  const expand = (v: readonly number[]) =>
    v.length === 1 ? Array.from({ length: channels }, () => v[0]!) : [...v];
  const mean = expand(norm.mean);
  const std = expand(norm.std);
  if (
    mean.length !== channels ||
    std.length !== channels ||
    std.some((s) => !(s > 0)) ||
    mean.some((m) => !Number.isFinite(m))
  ) {
    throw new ConfigError(
      `${source}: normalize needs 1 or ${channels} means and standard deviations > 0 (one per channel), got mean [${norm.mean}] std [${norm.std}]`,
      { where: `${source}(normalize)` },
    );
  }
  return { mean, std };
}

/** Refuses a class count other than the data's, naming the model's output. */
export function checkTeacherClasses(
  source: string,
  classes: number,
  wanted: number | undefined,
  output: string,
  shape: readonly (number | string | null | undefined)[] | undefined,
): void {
  if (wanted === undefined || wanted === classes) return;
  const where = shape ? ` ${formatShape(shape)}` : '';
  throw new InvalidArgumentError(
    `${source}: the model outputs ${classes} classes ('${output}'${where}) but the data has ${wanted}; use a teacher trained on the same classes`,
    { where: source },
  );
}

/** Picks the output holding the logits: `chosen`, or the only one; refuses several with none chosen. */
export function chooseTeacherOutput(
  source: string,
  outputs: readonly string[],
  chosen: string | undefined,
): string {
  if (chosen === undefined && outputs.length > 1) {
    throw new ConfigError(
      `${source}: the model has ${outputs.length} outputs (${outputs.join(', ')}); choose the logits with --teacher-output NAME (option 'output')`,
      { where: source },
    );
  }
  const output = chosen ?? outputs[0]!;
  if (!outputs.includes(output)) {
    throw new ConfigError(
      `${source}: no output named '${output}'; the model's outputs are ${outputs.join(', ')}`,
      { where: source },
    );
  }
  return output;
}
