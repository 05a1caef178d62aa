import { existsSync } from 'node:fs';
import type { ImageDataset } from '@distilljs/core';
import { InvalidArgumentError, invalidArgument, NotInstalledError } from '@distilljs/core';
import { FASHION_MNIST_CLASS_NAMES } from '../class-names.js';
import type { IdxFileSet } from '../sources.js';
import { FASHION_MNIST_BASE_URL, FASHION_MNIST_FILES } from '../sources.js';
import { downloadIdxDataset } from './download-idx.js';
import type { NodeDownloadOptions } from './download-options.js';
import { loadIdxDir } from './load-idx.js';

/** Where Debian's `dataset-fashion-mnist` package installs the four IDX gzip files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link loadFashionMnist} (Node). */
export interface LoadFashionMnistOptions extends NodeDownloadOptions {
  /**
   * `dir`: the IDX files in `dir` (default {@link DEBIAN_FASHION_MNIST_DIR}); `url`: download the official
   * files into the cache, checked against their pinned sha256. Default: `dir` when `dir` is given or the
   * Debian directory exists, else `url`.
   */
  readonly source?: 'dir' | 'url';
  readonly dir?: string;
  /** Where to download from (default {@link FASHION_MNIST_BASE_URL}). */
  readonly baseUrl?: string;
  /** File names and sha256 to expect (default {@link FASHION_MNIST_FILES}). */
  readonly files?: IdxFileSet;
}

/** Loads Fashion-MNIST (60,000 train / 10,000 test images of `[28, 28, 1]`, 10 classes) in Node. */
export async function loadFashionMnist(options: LoadFashionMnistOptions = {}): Promise<ImageDataset> {
  const fn = 'loadFashionMnist';
  const source = options.source ?? (options.dir || existsSync(DEBIAN_FASHION_MNIST_DIR) ? 'dir' : 'url');
  const meta = { name: 'fashion-mnist', classNames: FASHION_MNIST_CLASS_NAMES };
  const files = options.files ?? FASHION_MNIST_FILES;
  if (source === 'url') {
    return downloadIdxDataset(
      fn,
      'fashion-mnist',
      options.baseUrl ?? FASHION_MNIST_BASE_URL,
      files,
      options,
      meta,
    );
  }
  if (source !== 'dir') invalidArgument(fn, 'source', "'dir' or 'url'", source);
  const dir = options.dir ?? DEBIAN_FASHION_MNIST_DIR;
  if (!existsSync(dir)) {
    if (options.dir === undefined) {
      throw new NotInstalledError(
        `${fn}: Fashion-MNIST is not in ${DEBIAN_FASHION_MNIST_DIR}, where Debian's dataset-fashion-mnist package installs it (or pass { source: 'url' } to download it, or { dir } to read it from elsewhere).`,
        'apt-get install dataset-fashion-mnist',
      );
    }
    throw new InvalidArgumentError(
      `${fn}: argument 'dir' must be an existing directory, got ${JSON.stringify(dir)}`,
      {
        where: `${fn}(dir)`,
      },
    );
  }
  return loadIdxDir(fn, dir, files, meta);
}
