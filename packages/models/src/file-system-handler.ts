import { randomBytes } from 'node:crypto';
import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DistillError, InvalidFileError } from '@distilljs/core';
import { io } from '@tensorflow/tfjs-core';
import type { DescribedIOHandler } from './model-files.js';
import { expectedWeightBytes } from './weights-bytes.js';

/** The weights file name {@link fileSystemHandler} writes beside model.json. */
export const WEIGHTS_FILE_NAME = 'weights.bin';

/** A tfjs IOHandler over the Node file system, with the files it touched (for messages). */
export interface FileSystemHandler extends DescribedIOHandler {
  /** The model.json path. */
  readonly modelPath: string;
  /** The weight files read by the last `load`, or written by the last `save`. */
  readonly weightPaths: readonly string[];
}

function toPath(location: string): string {
  return location.startsWith('file://') ? fileURLToPath(location) : location;
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (cause) {
    await rm(temp, { force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'no space left on the device' : (cause as Error).message;
    throw new DistillError(`cannot write ${path}: ${why}`, { code: 'write-failed', where: path, cause });
  }
}

/** True when `file` is `dir` itself or below it. */
function inside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/**
 * Every weights path of a manifest, resolved against the model's directory. A path that leaves the
 * directory (`../x`, an absolute path, a symbolic link pointing out) is refused before any file is read.
 */
async function manifestFiles(
  manifest: io.WeightsManifestConfig,
  dir: string,
  modelPath: string,
): Promise<string[][]> {
  const realDir = await realpath(dir).catch(() => dir);
  const groups: string[][] = [];
  for (const group of manifest) {
    const files: string[] = [];
    for (const p of group.paths) {
      const file = resolve(dir, p);
      const real = await realpath(file).catch(() => undefined);
      if (!inside(dir, file) || (real !== undefined && !inside(realDir, real))) {
        throw new InvalidFileError(
          `${modelPath}: weights path ${JSON.stringify(p)} leaves the model's directory ${dir}; weights files must lie inside it (refused, nothing read)`,
          { where: modelPath },
        );
      }
      files.push(file);
    }
    groups.push(files);
  }
  return groups;
}

function jsonErrorOffset(message: string): string {
  const m = /position (\d+)/.exec(message);
  return m ? `@${m[1]}` : '';
}

/**
 * A tfjs `IOHandler` that saves and loads the tfjs Layers format (model.json + weights.bin) on the Node
 * file system, without `@tensorflow/tfjs-node`. `location` is a directory (holding `model.json`), a path
 * ending in `.json`, or a `file://` URL.
 *
 * Saving writes `weights.bin` then `model.json`, each to a temporary file renamed into place, so a reader
 * never sees a half-written file and model.json never names weights that are not there yet. Loading checks
 * model.json is JSON and a Layers model, and that each weight group's files hold exactly the bytes its
 * manifest needs; errors are {@link InvalidFileError}s naming the file (and byte offset).
 */
export function fileSystemHandler(location: string): FileSystemHandler {
  const path = resolve(toPath(location));
  const modelPath = path.endsWith('.json') ? path : join(path, 'model.json');
  const dir = dirname(modelPath);
  let weightPaths: string[] = [];

  const save = async (artifacts: io.ModelArtifacts): Promise<io.SaveResult> => {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new InvalidFileError(
        `fileSystemHandler: cannot save a binary model topology to ${modelPath}; only Layers models (JSON topology)`,
        {
          where: modelPath,
        },
      );
    }
    await mkdir(dir, { recursive: true });
    const weightsPath = join(dir, WEIGHTS_FILE_NAME);
    const data =
      artifacts.weightData === undefined
        ? new ArrayBuffer(0)
        : io.CompositeArrayBuffer.join(artifacts.weightData);
    const modelJson: io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? '',
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [WEIGHTS_FILE_NAME], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
    if (artifacts.signature) modelJson.signature = artifacts.signature;
    if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
    if (artifacts.modelInitializer) modelJson.modelInitializer = artifacts.modelInitializer;
    if (artifacts.initializerSignature) modelJson.initializerSignature = artifacts.initializerSignature;
    await atomicWrite(weightsPath, new Uint8Array(data));
    await atomicWrite(modelPath, JSON.stringify(modelJson));
    weightPaths = [weightsPath];
    return { modelArtifactsInfo: io.getModelArtifactsInfoForJSON(artifacts) };
  };

  const load = async (): Promise<io.ModelArtifacts> => {
    let text: string;
    try {
      text = await readFile(modelPath, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (cause as Error).message})`;
      throw new InvalidFileError(
        `fileSystemHandler: ${modelPath} ${why}; expected a tfjs model.json (or a directory holding one)`,
        {
          where: modelPath,
          cause,
        },
      );
    }
    let json: io.ModelJSON;
    try {
      json = JSON.parse(text) as io.ModelJSON;
    } catch (cause) {
      throw new InvalidFileError(
        `fileSystemHandler: ${modelPath} is not JSON (${(cause as Error).message}); expected a tfjs model.json`,
        {
          where: `${modelPath}${jsonErrorOffset((cause as Error).message)}`,
          cause,
        },
      );
    }
    if (
      json === null ||
      typeof json !== 'object' ||
      json.modelTopology == null ||
      !Array.isArray(json.weightsManifest)
    ) {
      throw new InvalidFileError(
        `fileSystemHandler: ${modelPath} is JSON but not a tfjs model.json (Layers or graph model): it needs 'modelTopology' and a 'weightsManifest' array`,
        { where: modelPath },
      );
    }
    const read: string[] = [];
    return io.getModelArtifactsForJSON(json, async (manifest) => {
      const specs: io.WeightsManifestEntry[] = [];
      const buffers: ArrayBuffer[] = [];
      const files = await manifestFiles(manifest, dir, modelPath);
      for (const [g, group] of manifest.entries()) {
        let groupBytes = 0;
        let lastPath = modelPath;
        for (const file of files[g]!) {
          lastPath = file;
          let bytes: Buffer;
          try {
            bytes = await readFile(file);
          } catch (cause) {
            throw new InvalidFileError(
              `fileSystemHandler: weights file ${file} named in ${modelPath} cannot be read (${(cause as NodeJS.ErrnoException).code ?? cause})`,
              {
                where: file,
                cause,
              },
            );
          }
          read.push(file);
          groupBytes += bytes.byteLength;
          buffers.push(
            bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
          );
        }
        const expected = expectedWeightBytes(group.weights);
        if (expected !== undefined && groupBytes !== expected) {
          const what = groupBytes < expected ? 'truncated' : 'longer than its manifest';
          throw new InvalidFileError(
            `fileSystemHandler: weights file ${lastPath} is ${what}: ${groupBytes} bytes, but the manifest in ${modelPath} needs ${expected}`,
            { where: `${lastPath}@${Math.min(groupBytes, expected)}` },
          );
        }
        specs.push(...group.weights);
      }
      weightPaths = read;
      return [specs, buffers];
    });
  };

  return {
    save,
    load,
    modelPath,
    get weightPaths() {
      return weightPaths;
    },
  };
}
