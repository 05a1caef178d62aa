import { readFile } from 'node:fs/promises';
import { InvalidFileError, NotInstalledError, type Teacher } from '@distilljs/core';
import { type OnnxTeacherOptions, type OrtModule, onnxTeacherFromBytes } from './onnx-teacher.js';

/** The command that installs ONNX Runtime for Node, CPU only (its install script would fetch CUDA libraries). */
export const ONNXRUNTIME_NODE_INSTALL =
  'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node (or: npm install --ignore-scripts onnxruntime-node)';

/** Node: onnxruntime-node, loaded on demand; a {@link NotInstalledError} with the install command when absent. */
export async function loadOnnxRuntimeNode(): Promise<OrtModule> {
  try {
    const name = 'onnxruntime-node';
    const mod = (await import(name)) as OrtModule & { default?: OrtModule };
    return mod.InferenceSession ? mod : (mod.default as OrtModule);
  } catch (cause) {
    throw new NotInstalledError(
      'An ONNX teacher needs onnxruntime-node, which is not installed.',
      ONNXRUNTIME_NODE_INSTALL,
      {
        cause,
      },
    );
  }
}

/**
 * Node: loads an .onnx file as a {@link Teacher} run by onnxruntime-node (see `onnxTeacherFromBytes` for
 * what is handled). Errors name the file: missing, not ONNX, truncated, input shape or class count that do
 * not fit the data (both shapes given), several outputs and none chosen, an operator ONNX Runtime cannot run.
 */
export async function loadOnnxTeacher(path: string, options: OnnxTeacherOptions): Promise<Teacher> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (cause) {
    throw new InvalidFileError(`${path}: cannot read the ONNX file: ${(cause as Error).message}`, {
      where: path,
      cause,
    });
  }
  return onnxTeacherFromBytes(await loadOnnxRuntimeNode(), bytes, path, options);
}
