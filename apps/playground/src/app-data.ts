import type { ImageDataset } from '@distilljs/core';
import { loadFashionMnist, loadMnist } from '@distilljs/datasets';
import type { DataManifest, PackedDatasetEntry } from '../vite/pack-data.js';

export type { DataManifest, PackedDatasetEntry };

/** Base URL of the packed data (next to index.html). */
export function dataBase(): string {
  return new URL('data/', document.baseURI).toString();
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
 * Fetches one packed dataset with the browser loaders of @distilljs/datasets: four gzipped IDX files,
 * checked against the sha256 recorded at build time and decompressed with DecompressionStream.
 */
export function loadPackedDataset(entry: PackedDatasetEntry): Promise<ImageDataset> {
  const options = { baseUrl: new URL(`${entry.id}/`, dataBase()).toString(), files: entry.files };
  return entry.id === 'fashion-mnist' ? loadFashionMnist(options) : loadMnist({ ...options, source: 'url' });
}
