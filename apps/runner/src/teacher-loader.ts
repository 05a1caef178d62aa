import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, type Dataset, exampleShape, type Teacher } from '@distilljs/core';
import { layersTeacher, loadGraphTeacher, loadOnnxTeacher, modelJsonKind } from '@distilljs/models/node';
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
 * Whether the model.json at `location` (a directory holding one, a .json path or an http(s) URL) is a graph
 * model or a Layers model, from its `format` and topology; `undefined` when it cannot be read (the Layers
 * loader then reports what is wrong with it).
 */
async function modelJsonKindAt(location: string): Promise<'graph' | 'layers' | undefined> {
  try {
    if (/^https?:\/\//.test(location)) return modelJsonKind(await (await fetch(location)).json());
    const file = location.endsWith('.json') ? location : join(location, 'model.json');
    return modelJsonKind(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/**
 * Loads any teacher the CLI accepts by path: an .onnx file (onnxruntime-node), a teacher-logits directory,
 * a run directory of ours, a tfjs graph model (tfjs-converter) or a tfjs Layers model.json (directory, file or
 * URL; told apart by the model.json's format). Its input shape and class count are checked against the data.
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
  const location = resolveTeacherLocation(ref);
  if ((await modelJsonKindAt(location)) === 'graph') {
    const teacher = await loadGraphTeacher(location, {
      inputShape: exampleShape(dataset),
      numClasses: dataset.numClasses,
      ...(options.normalize ? { normalize: options.normalize } : {}),
      ...(options.output ? { output: options.output } : {}),
    });
    return { teacher, notes: [] };
  }
  const { model, notes } = await toolkit.loadTeacherFrom(location, dataset);
  return { teacher: layersTeacher(model, ref), model, notes };
}
