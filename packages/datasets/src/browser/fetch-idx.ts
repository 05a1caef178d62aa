import type { ImageDataset } from '@distilljs/core';
import type { FetchLike, ProgressCallback } from '../download-types.js';
import type { Gunzip } from '../gzip.js';
import { webGunzip } from '../gzip.js';
import { decodeIdxPair } from '../idx-split.js';
import type { IdxFileSet, PinnedFile } from '../sources.js';
import { fetchBytes } from './fetch-bytes.js';

/** Fetch settings shared by the browser loaders. */
export interface BrowserFetchOptions {
  readonly fetch?: FetchLike;
  readonly onProgress?: ProgressCallback;
  /** Decompression (default `DecompressionStream('gzip')`). */
  readonly gunzip?: Gunzip;
  /** Check each file's pinned sha256 with Web Crypto (default true). */
  readonly verify?: boolean;
}

function resolveUrl(base: string, file: string): string {
  const b = base.endsWith('/') ? base : `${base}/`;
  return new URL(file, new URL(b, globalThis.location?.href)).toString();
}

/** Fetches, verifies and decodes the four IDX files of an MNIST-style dataset. */
export async function fetchIdxDataset(
  baseUrl: string,
  files: IdxFileSet,
  options: BrowserFetchOptions,
  meta: { name: string; classNames: readonly string[] },
): Promise<ImageDataset> {
  const gunzip = options.gunzip ?? webGunzip;
  const get = async (f: PinnedFile) => {
    const url = resolveUrl(baseUrl, f.file);
    const bytes = await fetchBytes(url, {
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.verify === false ? {} : { sha256: f.sha256 }),
    });
    return { url, bytes };
  };
  const pair = async (imagesFile: PinnedFile, labelsFile: PinnedFile) => {
    const images = await get(imagesFile);
    const labels = await get(labelsFile);
    return decodeIdxPair(
      { images: images.bytes, labels: labels.bytes, imagesFile: images.url, labelsFile: labels.url },
      gunzip,
      meta.classNames.length,
    );
  };
  const train = await pair(files.trainImages, files.trainLabels);
  const test = await pair(files.testImages, files.testLabels);
  return {
    name: meta.name,
    imageShape: train.imageShape,
    numClasses: meta.classNames.length,
    classNames: meta.classNames,
    train: train.split,
    test: test.split,
  };
}
