import type { ImageDataset } from '@distilljs/core';
import { FASHION_MNIST_CLASS_NAMES } from '../class-names.js';
import type { IdxFileSet } from '../sources.js';
import { FASHION_MNIST_BASE_URL, FASHION_MNIST_FILES } from '../sources.js';
import type { BrowserFetchOptions } from './fetch-idx.js';
import { fetchIdxDataset } from './fetch-idx.js';

/** Options of {@link loadFashionMnist} (browser). */
export interface LoadFashionMnistOptions extends BrowserFetchOptions {
  /** Base URL of the four IDX files (default {@link FASHION_MNIST_BASE_URL}; must allow CORS). */
  readonly baseUrl?: string;
  /** File names and sha256 (default {@link FASHION_MNIST_FILES}). */
  readonly files?: IdxFileSet;
}

/** Loads Fashion-MNIST in the browser by URL. */
export async function loadFashionMnist(options: LoadFashionMnistOptions = {}): Promise<ImageDataset> {
  return fetchIdxDataset(
    options.baseUrl ?? FASHION_MNIST_BASE_URL,
    options.files ?? FASHION_MNIST_FILES,
    options,
    {
      name: 'fashion-mnist',
      classNames: FASHION_MNIST_CLASS_NAMES,
    },
  );
}
