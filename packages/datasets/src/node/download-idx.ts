import { join } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import type { IdxFileSet } from '../sources.js';
import { resolveCacheDir } from './cache-dir.js';
import { downloadFile } from './download.js';
import type { NodeDownloadOptions } from './download-options.js';
import { loadIdxDir } from './load-idx.js';

/** Downloads (or finds in the cache) the four IDX files of a dataset, verifies them and loads them. */
export async function downloadIdxDataset(
  fn: string,
  subdir: string,
  baseUrl: string,
  files: IdxFileSet,
  options: NodeDownloadOptions,
  meta: { name: string; classNames: readonly string[] },
): Promise<ImageDataset> {
  const dir = join(resolveCacheDir(options.cacheDir), subdir);
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  for (const f of [files.trainImages, files.trainLabels, files.testImages, files.testLabels]) {
    await downloadFile({
      url: new URL(f.file, base).toString(),
      sha256: f.sha256,
      dest: join(dir, f.file),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.allowHttpLoopback ? { allowHttpLoopback: true } : {}),
    });
  }
  return loadIdxDir(fn, dir, files, meta);
}
