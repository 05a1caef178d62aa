import type { ImageDataset, Teacher } from '@distilljs/core';
import {
  layersTeacher,
  loadGraphTeacherWith,
  loadTeacher,
  onnxTeacherFromBytes,
  readOnnxGraph,
  type TeacherNormalize,
} from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { onnxRuntimeWeb } from './ort-web.js';
import {
  checkTeacherFiles,
  graphInputShape,
  graphOutputNames,
  manifestWeightCount,
  type TeacherFileInfo,
  type TfjsModelJson,
} from './teacher-files.js';

/** A teacher loaded from files picked or dropped on the page. */
export interface TeacherFile {
  readonly teacher: Teacher;
  /** The Layers model, for a tfjs Layers teacher (the page stores and disposes it like a trained teacher). */
  readonly layersModel: LayersModel | undefined;
  readonly info: TeacherFileInfo;
  /** Frees an ONNX session or a graph model (a Layers model is the page's to dispose). */
  dispose(): void | Promise<void>;
}

/** What the page's teacher card adds to the files: normalisation and, for several outputs, the one chosen. */
export interface TeacherFileOptions {
  readonly normalize?: TeacherNormalize | undefined;
  readonly output?: string | undefined;
}

/** The model has several outputs and none was chosen: the page lists them for the user to pick one. */
export class ChooseOutputError extends Error {
  override readonly name = 'ChooseOutputError';
  constructor(
    message: string,
    readonly outputs: readonly string[],
  ) {
    super(message);
  }
}

function chooseOutput(file: string, outputs: readonly string[], chosen: string | undefined): void {
  if (outputs.length > 1 && chosen === undefined) {
    throw new ChooseOutputError(
      `${file} has ${outputs.length} outputs (${outputs.join(', ')}); choose the one holding the class scores under "Output".`,
      outputs,
    );
  }
}

async function loadOnnx(file: File, data: ImageDataset, options: TeacherFileOptions): Promise<TeacherFile> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  const graph = readOnnxGraph(bytes, file.name);
  const outputs = graph.outputs.map((o) => o.name);
  chooseOutput(file.name, outputs, options.output);
  const teacher = await onnxTeacherFromBytes(await onnxRuntimeWeb(), bytes, file.name, {
    inputShape: [...data.imageShape],
    numClasses: data.numClasses,
    ...(options.normalize ? { normalize: options.normalize } : {}),
    ...(options.output !== undefined ? { output: options.output } : {}),
  });
  const made = [`opset ${graph.opset ?? '?'}`, graph.producer && `made by ${graph.producer}`]
    .filter(Boolean)
    .join(', ');
  return {
    teacher,
    layersModel: undefined,
    info: {
      file: file.name,
      format: `ONNX (${made})`,
      modelInput: graph.inputs[0]?.shape,
      layout: teacher.inputLayout,
      dataShape: data.imageShape,
      classes: teacher.numClasses,
      parameters: graph.parameterCount,
      output: options.output ?? outputs[0],
      normalize: options.normalize,
      notes: teacher.notes,
    },
    dispose: () => teacher.dispose(),
  };
}

async function loadGraph(
  json: TfjsModelJson,
  files: readonly File[],
  data: ImageDataset,
  options: TeacherFileOptions,
): Promise<TeacherFile> {
  const name = files[0]!.name;
  const outputs = graphOutputNames(json);
  chooseOutput(name, outputs, options.output);
  const teacher = await loadGraphTeacherWith(tf.io.browserFiles([...files]), name, {
    converter: await import('@tensorflow/tfjs-converter'),
    inputShape: [...data.imageShape],
    numClasses: data.numClasses,
    ...(options.normalize ? { normalize: options.normalize } : {}),
    ...(options.output !== undefined ? { output: options.output } : {}),
  });
  return {
    teacher,
    layersModel: undefined,
    info: {
      file: name,
      format: `tfjs graph model${json.convertedBy ? ` (converted by ${json.convertedBy})` : ''}`,
      modelInput: graphInputShape(json),
      layout: teacher.inputLayout,
      dataShape: data.imageShape,
      classes: teacher.numClasses,
      parameters: manifestWeightCount(json),
      output: options.output ?? outputs[0],
      normalize: options.normalize,
      notes: teacher.notes,
    },
    dispose: () => teacher.dispose(),
  };
}

async function loadLayers(
  files: readonly File[],
  data: ImageDataset,
  options: TeacherFileOptions,
): Promise<TeacherFile> {
  const name = files[0]!.name;
  if (options.normalize) {
    throw new Error(
      `${name} is a tfjs Layers model, which takes the page's pixels in [0, 1] as they are; clear "Input normalisation" (it applies to ONNX and graph teachers).`,
    );
  }
  const loaded = await loadTeacher(tf.io.browserFiles([...files]), {
    inputShape: [...data.imageShape],
    numClasses: data.numClasses,
  });
  const model = loaded.model;
  return {
    teacher: layersTeacher(model, name),
    layersModel: model,
    info: {
      file: name,
      format: 'tfjs Layers model',
      modelInput: model.inputs[0]?.shape,
      layout: 'NHWC',
      dataShape: data.imageShape,
      classes: data.numClasses,
      parameters: model.countParams(),
      output: undefined,
      normalize: undefined,
      notes: loaded.messages,
    },
    dispose: () => {},
  };
}

/**
 * Loads a teacher from picked or dropped files: one `.onnx` file (run by onnxruntime-web), or a tfjs
 * model.json with its `.bin` weights (a graph model through tfjs-converter, a Layers model through
 * `loadTeacher`). The input shape and class count must fit `data`. Errors are one sentence naming the file.
 */
export async function loadTeacherFile(
  files: readonly File[],
  data: ImageDataset,
  options: TeacherFileOptions = {},
): Promise<TeacherFile> {
  const texts = await Promise.all(files.map((f) => (f.name.toLowerCase().endsWith('.json') ? f.text() : '')));
  const check = checkTeacherFiles(files, (i) => texts[i] ?? '');
  if (!check.ok) throw new Error(check.message);
  if (check.format === 'onnx') return loadOnnx(files[check.index]!, data, options);
  const picked = [files[check.jsonIndex]!, ...check.weightIndices.map((i) => files[i]!)];
  return check.format === 'graph'
    ? loadGraph(check.json, picked, data, options)
    : loadLayers(picked, data, options);
}
