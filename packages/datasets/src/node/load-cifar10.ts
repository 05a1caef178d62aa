import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import { DistillError, invalidArgument } from '@distilljs/core';
import { concatSplits, parseCifarBatch } from '../cifar.js';
import { CIFAR10_CLASS_NAMES } from '../class-names.js';
import { CIFAR10_ARCHIVE, CIFAR10_BATCH_FILES } from '../sources.js';
import { resolveCacheDir } from './cache-dir.js';
import { downloadFile } from './download.js';
import type { NodeDownloadOptions } from './download-options.js';
import { extractTarGz } from './extract-tar-gz.js';
import { readBytes } from './read-bytes.js';

/** Options of {@link loadCifar10} (Node). */
export interface LoadCifar10Options extends NodeDownloadOptions {
  /** A directory holding the binary batches (directly or in `cifar-10-batches-bin/`). */
  readonly dir?: string;
  /** Download the official binary archive into the cache (checked against its pinned sha256) and extract it safely. */
  readonly download?: boolean;
  /** Archive URL (default {@link CIFAR10_ARCHIVE}.url). */
  readonly url?: string;
  /** Expected sha256 of the archive (default the official one); only for mirrors of other archives. */
  readonly sha256?: string;
}

function batchDir(dir: string): string | undefined {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin')]) {
    if (existsSync(join(d, CIFAR10_BATCH_FILES.test[0]))) return d;
  }
  return undefined;
}

async function classNames(dir: string): Promise<readonly string[]> {
  const meta = join(dir, 'batches.meta.txt');
  if (!existsSync(meta)) return CIFAR10_CLASS_NAMES;
  const names = (await readFile(meta, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return names.length === 10 ? names : CIFAR10_CLASS_NAMES;
}

async function loadBatches(fn: string, dir: string): Promise<ImageDataset> {
  const read = async (files: readonly string[]) => {
    const splits = [];
    for (const f of files) {
      const path = join(dir, f);
      if (!existsSync(path)) {
        throw new DistillError(
          `${fn}: ${path} is missing; a CIFAR-10 directory holds ${[...CIFAR10_BATCH_FILES.train, ...CIFAR10_BATCH_FILES.test].join(', ')}`,
          {
            code: 'file-not-found',
            where: path,
          },
        );
      }
      splits.push(parseCifarBatch(await readBytes(path), path));
    }
    return splits.length === 1 ? (splits[0] as (typeof splits)[number]) : concatSplits(splits);
  };
  return {
    name: 'cifar10',
    imageShape: [32, 32, 3],
    numClasses: 10,
    classNames: await classNames(dir),
    train: await read(CIFAR10_BATCH_FILES.train),
    test: await read(CIFAR10_BATCH_FILES.test),
  };
}

/**
 * Loads CIFAR-10 (50,000 train / 10,000 test images of `[32, 32, 3]`) in Node from its binary batches:
 * from `dir`, or (with `download: true`) from the official archive, downloaded into the cache, verified
 * and extracted safely (once; later calls reuse the extraction).
 */
export async function loadCifar10(options: LoadCifar10Options = {}): Promise<ImageDataset> {
  const fn = 'loadCifar10';
  if (options.dir) {
    const d = batchDir(options.dir);
    if (!d) {
      throw new DistillError(
        `${fn}: no CIFAR-10 binary batches in ${options.dir} (looked for ${CIFAR10_BATCH_FILES.test[0]} there and in cifar-10-batches-bin/)`,
        { code: 'file-not-found', where: options.dir },
      );
    }
    return loadBatches(fn, d);
  }
  if (!options.download) {
    invalidArgument(fn, 'options', '{ dir } or { download: true }', options);
  }
  const cache = join(resolveCacheDir(options.cacheDir), 'cifar10');
  const extracted = join(cache, 'extracted');
  let d = batchDir(extracted);
  if (!d) {
    const archive = join(cache, CIFAR10_ARCHIVE.file);
    await downloadFile({
      url: options.url ?? CIFAR10_ARCHIVE.url,
      sha256: options.sha256 ?? CIFAR10_ARCHIVE.sha256,
      dest: archive,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.allowHttpLoopback ? { allowHttpLoopback: true } : {}),
    });
    await extractTarGz(archive, extracted);
    d = batchDir(extracted);
    if (!d) {
      throw new DistillError(
        `${fn}: ${archive} did not contain cifar-10-batches-bin/${CIFAR10_BATCH_FILES.test[0]}`,
        {
          code: 'invalid-file',
          where: archive,
        },
      );
    }
  }
  return loadBatches(fn, d);
}
