import { DistillError, InvalidArgumentError, InvalidFileError } from '@distilljs/core';
import { dispose, io, type Variable } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { type DistillModelMetadata, getModelMetadata, METADATA_KEY } from './model-metadata.js';
import { registerCustomLayers } from './pad-shortcut.js';
import { quantizeWeights, type WeightQuantization } from './quantize-weights.js';
import { expectedWeightBytes, weightDataSha256 } from './weights-bytes.js';

/**
 * The distilljs model file format version this package writes (in model.json's
 * `userDefinedMetadata.distilljs.formatVersion`) and the newest it reads.
 */
export const MODEL_FORMAT_VERSION = 1;

/** Where a model is saved to or loaded from: a tfjs URL (`indexeddb://`, `downloads://`, `http(s)://`) or an IOHandler. */
export type ModelLocation = string | io.IOHandler;

/** An IOHandler that can say which files it reads, for error messages (the Node file-system handler does). */
export interface DescribedIOHandler extends io.IOHandler {
  /** The model.json's path or URL. */
  readonly modelPath?: string;
  /** The weight files' paths or URLs, in manifest order (known after `load`). */
  readonly weightPaths?: readonly string[];
}

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /** The zoo name to record; defaults to the one the model carries from `createModel`. */
  zooName?: string;
  /** The build config to record; defaults to the one the model carries from `createModel`. */
  config?: Record<string, unknown>;
  /** Store the float32 weights as float16 or affine uint8, with tfjs's standard quantisation entries. */
  quantize?: WeightQuantization;
}

/** Options of {@link loadModel}. */
export interface LoadModelOptions {
  /** Fail if the file has no distilljs content hash (default false: foreign tfjs models load unverified). */
  requireHash?: boolean;
}

/** Turns a string location into an IOHandler; the Node entry adds file paths. */
export type HandlerResolver = (
  fn: string,
  location: string,
  mode: 'save' | 'load',
) => io.IOHandler | undefined;

/** The browser-safe resolver: tfjs-core's own routers (IndexedDB, downloads, local storage, http(s)). */
export const tfjsRouters: HandlerResolver = (fn, location, mode) => {
  if (mode === 'load' && io.isHTTPScheme(location)) return httpLoadHandler(location);
  const handlers = mode === 'save' ? io.getSaveHandlers(location) : io.getLoadHandlers(location);
  if (handlers.length > 1) {
    throw new InvalidArgumentError(
      `${fn}: location ${JSON.stringify(location)} matches ${handlers.length} tfjs IO handlers; pass an IOHandler`,
      {
        where: `${fn}(location)`,
      },
    );
  }
  return handlers[0];
};

/** tfjs-core's http loader, recording the weight URLs it fetches so errors can name them. */
function httpLoadHandler(url: string): DescribedIOHandler {
  const fetched: string[] = [];
  const inner = io.http(url, {
    fetchFunc: (input: RequestInfo | URL, init?: RequestInit) => {
      const href = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (href !== url) fetched.push(href);
      return globalThis.fetch(input, init);
    },
  });
  return {
    load: () => (inner.load as io.LoadHandler)(),
    modelPath: url,
    get weightPaths() {
      return fetched;
    },
  };
}

/**
 * Sets constrained weights (max-norm kernels) to the saved values exactly: tfjs-layers re-applies a
 * weight's constraint when loading, which moves values already inside the bound by a rounding error.
 */
function restoreConstrainedWeights(model: tfl.LayersModel, artifacts: io.ModelArtifacts): void {
  const constrained = model.weights.filter((w) => w.constraint != null);
  if (constrained.length === 0 || !artifacts.weightData || !artifacts.weightSpecs) return;
  const byName = new Map(constrained.map((w) => [w.originalName, w]));
  const saved = io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  for (const [name, value] of Object.entries(saved)) {
    const parts = name.split('/');
    const short = [...parts.slice(0, -2), parts[parts.length - 1]].join('/');
    const w = byName.get(name) ?? byName.get(short);
    if (w) (w.read() as Variable).assign(value);
  }
  dispose(Object.values(saved));
}

function resolveHandler(
  fn: string,
  location: ModelLocation,
  mode: 'save' | 'load',
  resolve: HandlerResolver,
): io.IOHandler {
  if (typeof location !== 'string') {
    if (location && typeof location === 'object' && typeof location[mode] === 'function') return location;
    throw new InvalidArgumentError(
      `${fn}: argument 'location' must be a URL string or an IOHandler with a ${mode}() method`,
      {
        where: `${fn}(location)`,
      },
    );
  }
  const handler = resolve(fn, location, mode);
  if (!handler) {
    throw new InvalidArgumentError(
      `${fn}: no model ${mode} handler for ${JSON.stringify(location)}; use an indexeddb://, downloads:// (save) or http(s):// URL or an IOHandler, or in Node import ${fn} from '@distilljs/models/node' for file paths`,
      { where: `${fn}(location)` },
    );
  }
  return handler;
}

function labelOf(location: ModelLocation, handler: io.IOHandler): string {
  const path = (handler as DescribedIOHandler).modelPath;
  if (path) return path;
  return typeof location === 'string' ? location : 'the model (IOHandler)';
}

function weightsLabel(handler: io.IOHandler, label: string): string {
  const paths = (handler as DescribedIOHandler).weightPaths;
  return paths && paths.length > 0 ? paths.join(', ') : `the weights of ${label}`;
}

/**
 * Saves a model in the tfjs Layers format (model.json + weight files) and records, in model.json's
 * `userDefinedMetadata.distilljs`, the zoo name, build config, {@link MODEL_FORMAT_VERSION} and the sha256
 * of the weight bytes. In the browser `location` is an `indexeddb://name` or `downloads://name` URL (or
 * `http(s)://` for a POST), or any IOHandler; in Node, `saveModel` from `@distilljs/models/node` also takes
 * a directory.
 */
export function saveModel(
  model: tfl.LayersModel,
  location: ModelLocation,
  options: SaveModelOptions = {},
): Promise<io.SaveResult> {
  return saveModelWith(tfjsRouters, 'saveModel', model, location, options);
}

/** {@link saveModel} with a given string-location resolver (the Node entry passes one that knows paths). */
export async function saveModelWith(
  resolve: HandlerResolver,
  fn: string,
  model: tfl.LayersModel,
  location: ModelLocation,
  options: SaveModelOptions,
): Promise<io.SaveResult> {
  if (!(model instanceof tfl.LayersModel)) {
    throw new InvalidArgumentError(`${fn}: argument 'model' must be a tf.LayersModel`, {
      where: `${fn}(model)`,
    });
  }
  const handler = resolveHandler(fn, location, 'save', resolve);
  const carried = getModelMetadata(model);
  const metadata: DistillModelMetadata = { ...carried };
  if (options.zooName !== undefined) metadata.zooName = options.zooName;
  if (options.config !== undefined) metadata.config = options.config;
  const wrapper: io.IOHandler = {
    save: async (saved) => {
      const q = options.quantize;
      const artifacts =
        q && q !== 'none' && saved.weightSpecs && saved.weightData
          ? { ...saved, ...quantizeWeights(saved.weightSpecs, saved.weightData, q) }
          : saved;
      metadata.formatVersion = MODEL_FORMAT_VERSION;
      metadata.weightsSha256 = await weightDataSha256(artifacts.weightData);
      const userDefinedMetadata = {
        ...(artifacts.userDefinedMetadata ?? {}),
        [METADATA_KEY]: JSON.parse(JSON.stringify(metadata)),
      };
      return (handler.save as io.SaveHandler)({ ...artifacts, userDefinedMetadata });
    },
  };
  return model.save(wrapper);
}

/**
 * Loads a tfjs Layers model and checks it: if model.json carries distilljs metadata, its format version
 * must not be newer than this package's and the weights' sha256 must match the recorded one; the weight
 * bytes must match the manifest's size. Errors are {@link InvalidFileError}s naming the file.
 *
 * `location` is an `indexeddb://` or `http(s)://` URL or an IOHandler (for example
 * `tf.io.browserFiles([json, weights])`); in Node, `loadModel` from `@distilljs/models/node` also takes a
 * directory or model.json path.
 */
export function loadModel(location: ModelLocation, options: LoadModelOptions = {}): Promise<tfl.LayersModel> {
  return loadModelWith(tfjsRouters, 'loadModel', location, options);
}

/** {@link loadModel} with a given string-location resolver (the Node entry passes one that knows paths). */
export async function loadModelWith(
  resolve: HandlerResolver,
  fn: string,
  location: ModelLocation,
  options: LoadModelOptions = {},
): Promise<tfl.LayersModel> {
  const handler = resolveHandler(fn, location, 'load', resolve);
  const artifacts = await (handler.load as io.LoadHandler)();
  const label = labelOf(location, handler);
  await verifyArtifacts(fn, artifacts, label, () => weightsLabel(handler, label), options);
  registerCustomLayers();
  try {
    const model = await tfl.loadLayersModel(io.fromMemory(artifacts));
    restoreConstrainedWeights(model, artifacts);
    return model;
  } catch (cause) {
    if (cause instanceof DistillError) throw cause;
    throw new InvalidFileError(
      `${fn}: ${label} is not a loadable tfjs Layers model: ${(cause as Error).message}`,
      { where: label, cause },
    );
  }
}

async function verifyArtifacts(
  fn: string,
  artifacts: io.ModelArtifacts,
  label: string,
  weights: () => string,
  options: LoadModelOptions,
): Promise<void> {
  if (artifacts.modelTopology == null || artifacts.modelTopology instanceof ArrayBuffer) {
    throw new InvalidFileError(
      `${fn}: ${label} has no JSON 'modelTopology'; it is not a tfjs Layers model.json`,
      { where: label },
    );
  }
  const raw = artifacts.userDefinedMetadata?.[METADATA_KEY] as DistillModelMetadata | undefined;
  const version = raw?.formatVersion;
  if (raw !== undefined && version !== undefined) {
    if (!Number.isInteger(version) || version < 1) {
      throw new InvalidFileError(
        `${fn}: ${label} has an invalid distilljs formatVersion ${JSON.stringify(version)}; expected an integer >= 1`,
        {
          where: `${label}:userDefinedMetadata.${METADATA_KEY}.formatVersion`,
        },
      );
    }
    if (version > MODEL_FORMAT_VERSION) {
      throw new InvalidFileError(
        `${fn}: ${label} was written in distilljs model format version ${version}, newer than this @distilljs/models reads (versions 1 to ${MODEL_FORMAT_VERSION}); upgrade @distilljs/models to load it`,
        { where: `${label}:userDefinedMetadata.${METADATA_KEY}.formatVersion` },
      );
    }
  }
  const specs = artifacts.weightSpecs ?? [];
  const expected = expectedWeightBytes(specs);
  const actual =
    artifacts.weightData === undefined ? 0 : new io.CompositeArrayBuffer(artifacts.weightData).byteLength;
  if (expected !== undefined && actual !== expected) {
    const what = actual < expected ? 'truncated' : 'too long';
    throw new InvalidFileError(
      `${fn}: weights of ${label} are ${what}: ${weights()} hold ${actual} bytes, the manifest in ${label} needs ${expected}`,
      { where: `${weights()}@${Math.min(actual, expected)}` },
    );
  }
  const recorded = raw?.weightsSha256;
  if (recorded === undefined) {
    if (options.requireHash) {
      throw new InvalidFileError(
        `${fn}: ${label} records no distilljs weightsSha256, and requireHash is set`,
        { where: label },
      );
    }
    return;
  }
  const computed = await weightDataSha256(artifacts.weightData);
  if (computed !== recorded) {
    throw new InvalidFileError(
      `${fn}: ${weights()} do not match the sha256 recorded in ${label} (recorded ${recorded}, computed ${computed}); the weights were changed or corrupted after saving`,
      { where: weights() },
    );
  }
}
