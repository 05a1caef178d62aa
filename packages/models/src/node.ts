// The Node entry point: everything from the main entry, plus model files on the file system.
// saveModel / loadModel / loadTeacher here also accept a directory, a model.json path or a file:// URL.

import type { Teacher } from '@distilljs/core';
import type { io } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { fileSystemHandler } from './file-system-handler.js';
import {
  type LoadGraphTeacherOptions,
  loadGraphTeacher as loadGraphTeacherFromSource,
  loadGraphTeacherWith,
} from './load-graph-teacher.js';
import { type LoadedTeacher, type LoadTeacherOptions, loadTeacherWith } from './load-teacher.js';
import {
  type HandlerResolver,
  type LoadModelOptions,
  loadModelWith,
  type ModelLocation,
  type SaveModelOptions,
  saveModelWith,
  tfjsRouters,
} from './model-files.js';

export type { FileSystemHandler } from './file-system-handler.js';
export { fileSystemHandler, WEIGHTS_FILE_NAME } from './file-system-handler.js';
export * from './index.js';
export { loadOnnxRuntimeNode, loadOnnxTeacher, ONNXRUNTIME_NODE_INSTALL } from './load-onnx-teacher.js';

/**
 * Loads a tfjs graph model as a teacher (see the main entry's `loadGraphTeacher`); `source` may also be a
 * directory holding model.json, a model.json path or a file:// URL (weights read beside it).
 */
export function loadGraphTeacher(
  source: string | io.IOHandler,
  options: LoadGraphTeacherOptions,
): Promise<Teacher> {
  if (typeof source !== 'string' || /^(?!file:)[a-z][a-z0-9+.-]*:\/\//i.test(source))
    return loadGraphTeacherFromSource(source, options);
  const handler = fileSystemHandler(source);
  return loadGraphTeacherWith(handler, handler.modelPath, options);
}

/** tfjs's routers for URLs with a scheme, the file system for everything else (and `file://`). */
const nodeResolver: HandlerResolver = (fn, location, mode) => {
  if (location.startsWith('file://') || !/^[a-z][a-z0-9+.-]*:\/\//i.test(location))
    return fileSystemHandler(location);
  return tfjsRouters(fn, location, mode);
};

/**
 * Saves a model (see the main entry's `saveModel`); `location` may also be a directory (written as
 * `model.json` + `weights.bin`, atomically) or a `.json` path.
 */
export function saveModel(
  model: LayersModel,
  location: ModelLocation,
  options: SaveModelOptions = {},
): Promise<io.SaveResult> {
  return saveModelWith(nodeResolver, 'saveModel', model, location, options);
}

/** Loads and verifies a model (see the main entry's `loadModel`); `location` may also be a directory or model.json path. */
export function loadModel(location: ModelLocation, options: LoadModelOptions = {}): Promise<LayersModel> {
  return loadModelWith(nodeResolver, 'loadModel', location, options);
}

/** Loads a teacher (see the main entry's `loadTeacher`); `source` may also be a directory or model.json path. */
export function loadTeacher(
  source: ModelLocation | LayersModel,
  options: LoadTeacherOptions = {},
): Promise<LoadedTeacher> {
  return loadTeacherWith(nodeResolver, source, options);
}
