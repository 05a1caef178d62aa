import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Dataset, exampleShape, type Teacher } from '@distilljs/core';
import { layersTeacher, loadOnnxTeacher } from '@distilljs/models/node';
import { loadTeacherLogits } from '@distilljs/trainer/node';
import type * as tfl from '@tensorflow/tfjs-layers';
import { resolveTeacherLocation } from './experiment-runner.js';
import * as toolkit from './toolkit.js';

/** How to feed a teacher file that is not a distilljs model (ONNX, graph models). */
export interface TeacherInputOptions {
  /** Per-channel `(x - mean) / std` the teacher expects on [0, 1] pixels. */
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] } | undefined;
  /** The output holding the logits, when the model has several. */
  readonly output?: string | undefined;
}

/** A loaded teacher: always a {@link Teacher}; `model` too when it is a tfjs Layers model. */
export interface AnyTeacher {
  readonly teacher: Teacher;
  readonly model?: tfl.LayersModel;
  readonly notes: readonly string[];
}

/** The teacher input flags (`--teacher-normalize`, `--teacher-output`) as options. */
export function teacherInputFromFlags(opts: Record<string, unknown>): TeacherInputOptions {
  return {
    ...(opts.teacherNormalize
      ? { normalize: opts.teacherNormalize as TeacherInputOptions['normalize'] }
      : {}),
    ...(opts.teacherOutput ? { output: opts.teacherOutput as string } : {}),
  };
}

/** True when `ref` is a teacher-logits directory (holds manifest.json). */
export function isLogitsDir(ref: string): boolean {
  return existsSync(ref) && statSync(ref).isDirectory() && existsSync(join(ref, 'manifest.json'));
}

/**
 * Loads any teacher the CLI accepts by path: an .onnx file (onnxruntime-node), a teacher-logits directory,
 * a run directory of ours, or a tfjs Layers model.json (directory, file or URL). Its input shape and class count are checked against the data.
 */
export async function loadAnyTeacher(
  ref: string,
  dataset: Dataset,
  options: TeacherInputOptions = {},
): Promise<AnyTeacher> {
  if (/\.onnx$/i.test(ref)) {
    const teacher = await loadOnnxTeacher(ref, {
      inputShape: exampleShape(dataset),
      numClasses: dataset.numClasses,
      ...(options.normalize ? { normalize: options.normalize } : {}),
      ...(options.output ? { output: options.output } : {}),
    });
    return { teacher, notes: [] };
  }
  if (isLogitsDir(ref)) {
    const teacher = await loadTeacherLogits(ref);
    if (teacher.numClasses !== dataset.numClasses) {
      throw new ConfigError(
        `teacher ${ref}: the logits have ${teacher.numClasses} classes but ${dataset.name} has ${dataset.numClasses}`,
        { where: ref },
      );
    }
    return { teacher, notes: [] };
  }
  const { model, notes } = await toolkit.loadTeacherFrom(resolveTeacherLocation(ref), dataset);
  return { teacher: layersTeacher(model, ref), model, notes };
}
