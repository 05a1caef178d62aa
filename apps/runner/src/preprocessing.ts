// What a model needs done to a new input before it predicts as it did in training: the image size and
// channels, the scaling and normalisation, and the class names. Saved with an exported model (in
// model.json's userDefinedMetadata.distilljs.preprocessing, so a browser gets it with stock
// tf.loadLayersModel, and as preprocessing.json beside it, as training runs on own data write it).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import { InvalidFileError } from '@distilljs/core';
import { CIFAR_NORMALIZATION } from './toolkit.js';

/** How an image becomes the model's input: decoded to `image`, scaled by 1/255, then normalised. */
export interface ImagePreprocessing {
  readonly kind: 'image' | 'image-folder';
  readonly image: {
    readonly height: number;
    readonly width: number;
    readonly channels: 1 | 3;
    readonly resize: 'stretch' | 'centre-crop' | 'pad';
  };
  readonly scale: '1/255';
  /** Per-channel `(x - mean) / std` after scaling (CIFAR-10), absent for MNIST-like data. */
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly classNames: readonly string[];
}

/** How a table row becomes the model's input (image-free data): standardised features. */
export interface TablePreprocessing {
  readonly kind: 'table' | 'npy';
  readonly featureShape: readonly number[];
  readonly featureNames?: readonly string[];
  readonly standardization: { readonly mean: readonly number[]; readonly std: readonly number[] } | null;
  readonly classNames: readonly string[];
}

export type Preprocessing = ImagePreprocessing | TablePreprocessing;

/** The preprocessing the runner applies to a built-in image dataset (as `makeStream` does). */
export function imagePreprocessingFor(dataset: ImageDataset): ImagePreprocessing {
  const [height, width, channels] = dataset.imageShape;
  return {
    kind: 'image',
    image: { height, width, channels: channels === 3 ? 3 : 1, resize: 'stretch' },
    scale: '1/255',
    ...(dataset.name.startsWith('cifar') ? { normalize: CIFAR_NORMALIZATION } : {}),
    classNames: [...dataset.classNames],
  };
}

function isPreprocessing(value: unknown): value is Preprocessing {
  const v = value as { kind?: unknown; classNames?: unknown } | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    ['image', 'image-folder', 'table', 'npy'].includes(v.kind as string) &&
    Array.isArray(v.classNames)
  );
}

/**
 * The preprocessing saved with a model: model.json's `userDefinedMetadata.distilljs.preprocessing`, else
 * a `preprocessing.json` beside it; `undefined` when neither is there.
 */
export function readSavedPreprocessing(modelJsonPath: string): Preprocessing | undefined {
  const fromJson = (file: string, pick: (j: unknown) => unknown) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new InvalidFileError(`${file}: not valid JSON (${(cause as Error).message})`, {
        where: file,
        cause,
      });
    }
    const found = pick(parsed);
    if (found === undefined) return undefined;
    if (!isPreprocessing(found)) {
      throw new InvalidFileError(
        `${file}: the saved preprocessing is not understood (expected kind image, image-folder, table or npy, and classNames)`,
        { where: file },
      );
    }
    return found;
  };
  const inModel = fromJson(
    modelJsonPath,
    (j) =>
      (j as { userDefinedMetadata?: { distilljs?: { preprocessing?: unknown } } }).userDefinedMetadata
        ?.distilljs?.preprocessing,
  );
  if (inModel) return inModel;
  const beside = join(dirname(modelJsonPath), 'preprocessing.json');
  return existsSync(beside) ? fromJson(beside, (j) => j) : undefined;
}

/** Decoded image bytes (HWC, `image` size) to the model's float input, as the training batches were built. */
export function imageInput(bytes: Uint8Array, p: ImagePreprocessing): Float32Array {
  const out = new Float32Array(bytes.length);
  const c = p.image.channels;
  for (let i = 0; i < bytes.length; i++) {
    const v = (bytes[i] as number) / 255;
    const k = i % c;
    out[i] = p.normalize ? (v - (p.normalize.mean[k] as number)) / (p.normalize.std[k] as number) : v;
  }
  return out;
}
