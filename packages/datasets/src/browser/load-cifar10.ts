import type { DatasetSplit, ImageDataset } from '@distilljs/core';
import { invalidArgument } from '@distilljs/core';
import { concatSplits, parseCifarBatch } from '../cifar.js';
import { CIFAR10_CLASS_NAMES } from '../class-names.js';
import type { FetchLike, ProgressCallback } from '../download-types.js';
import { CIFAR10_BATCH_FILES } from '../sources.js';
import { fetchBytes } from './fetch-bytes.js';

/** Options of {@link loadCifar10} (browser). */
export interface LoadCifar10Options {
  /** Base URL of the extracted binary batches (`data_batch_1.bin` .. `test_batch.bin`). */
  readonly baseUrl: string;
  readonly fetch?: FetchLike;
  readonly onProgress?: ProgressCallback;
}

/** Loads CIFAR-10 in the browser from the binary batch files served at `baseUrl`. */
export async function loadCifar10(options: LoadCifar10Options): Promise<ImageDataset> {
  if (!options?.baseUrl)
    invalidArgument('loadCifar10', 'baseUrl', 'the base URL of the CIFAR-10 .bin batches', options?.baseUrl);
  const base = new URL(
    options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`,
    globalThis.location?.href,
  );
  const read = async (files: readonly string[]): Promise<DatasetSplit> => {
    const splits: DatasetSplit[] = [];
    for (const f of files) {
      const url = new URL(f, base).toString();
      splits.push(
        parseCifarBatch(
          await fetchBytes(url, {
            ...(options.fetch ? { fetch: options.fetch } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          }),
          url,
        ),
      );
    }
    return splits.length === 1 ? (splits[0] as DatasetSplit) : concatSplits(splits);
  };
  return {
    name: 'cifar10',
    imageShape: [32, 32, 3],
    numClasses: 10,
    classNames: CIFAR10_CLASS_NAMES,
    train: await read(CIFAR10_BATCH_FILES.train),
    test: await read(CIFAR10_BATCH_FILES.test),
  };
}
