import type { ImageDataset } from '@distilljs/core';
import { decodeIdxPair, webGunzip } from '@distilljs/datasets';
import type { DataManifest, PackedDatasetEntry } from '../vite/pack-data.js';

export type { DataManifest, PackedDatasetEntry };

/** Base URL of the packed data (next to index.html). */
export function dataBase(): string {
  return new URL('data/', document.baseURI).toString();
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Could not load ${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** The list of packed datasets written at build time. */
export async function loadManifest(): Promise<DataManifest> {
  const url = new URL('manifest.json', dataBase()).toString();
  const res = await fetch(url);
  if (!res.ok)
    throw new Error(`Could not load the data manifest ${url}: HTTP ${res.status}. Was the app built?`);
  return (await res.json()) as DataManifest;
}

/**
 * Fetches and decodes one packed dataset: gzipped IDX files, decompressed with DecompressionStream
 * (a server that already sent them decoded is fine too) and parsed by @distilljs/datasets.
 */
export async function loadPackedDataset(entry: PackedDatasetEntry): Promise<ImageDataset> {
  const base = dataBase();
  const get = (file: string) => fetchBytes(new URL(file, base).toString());
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    get(entry.files.trainImages),
    get(entry.files.trainLabels),
    get(entry.files.testImages),
    get(entry.files.testLabels),
  ]);
  const n = entry.classNames.length;
  const train = await decodeIdxPair(
    {
      images: trainImages,
      labels: trainLabels,
      imagesFile: entry.files.trainImages,
      labelsFile: entry.files.trainLabels,
    },
    webGunzip,
    n,
  );
  const test = await decodeIdxPair(
    {
      images: testImages,
      labels: testLabels,
      imagesFile: entry.files.testImages,
      labelsFile: entry.files.testLabels,
    },
    webGunzip,
    n,
  );
  return {
    name: entry.id,
    imageShape: train.imageShape,
    numClasses: n,
    classNames: entry.classNames,
    train: train.split,
    test: test.split,
  };
}
