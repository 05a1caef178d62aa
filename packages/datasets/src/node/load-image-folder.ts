import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import { InvalidFileError } from '@distilljs/core';
import { type ImageDecodeOptions, type ResolvedImageOptions, resolveImageOptions } from '../image-options.js';
import { checkDatasetBytes } from '../memory-limit.js';
import { holdOut } from '../stratified-split.js';
import { resolveCacheDir } from './cache-dir.js';
import { decodeResolved, loadSharp } from './decode-image.js';
import { type ImageFolderListing, scanImageFolder } from './scan-image-folder.js';

/** Options of {@link loadImageFolder}. */
export interface LoadImageFolderOptions extends ImageDecodeOptions {
  /** Share held out, stratified and seeded, as the validation split (the dataset's `test`); default 0.2, 0 for none. */
  readonly validationFraction?: number;
  /** Seed of the validation split (default 0). */
  readonly seed?: number;
  /** What the held-out part is called in the dataset's name (default `validation`; the runner says `test`). */
  readonly heldOutLabel?: string;
  /** Skip files that cannot be decoded (listed in `badFiles`) instead of failing (default false). */
  readonly skipBadFiles?: boolean;
  /**
   * Where decoded pixels are cached, so a second load does not decode again: a directory, `false` for no
   * cache, default `<cache dir>/image-folders` (see `resolveCacheDir`).
   */
  readonly cacheDir?: string | false;
  /** Most bytes the decoded pixels may take (default 4 GiB). */
  readonly maxBytes?: number;
  /** Images decoded at once (default 8). */
  readonly concurrency?: number;
}

/** An image-folder dataset and what happened while loading it. */
export interface ImageFolderDataset extends ImageDataset {
  /** Files that could not be decoded (skipped with `skipBadFiles`), with the reason. */
  readonly badFiles: readonly { readonly path: string; readonly reason: string }[];
  /** True when the pixels came from the decode cache. */
  readonly fromCache: boolean;
}

interface Decoded {
  readonly pixels: Uint8Array;
  readonly labels: Int32Array;
  readonly bad: { path: string; reason: string }[];
}

const CACHE_MAGIC = 'DJSIMG01';

function cacheKey(listing: ImageFolderListing, o: ResolvedImageOptions): string {
  const h = createHash('sha256');
  h.update(`distilljs-image-folder/v1;${o.height}x${o.width}x${o.channels};${o.resize}\n`);
  h.update(listing.classNames.join('/'));
  for (const f of listing.files) h.update(`\n${f.label}\t${f.path}\t${f.size}\t${f.mtimeMs}`);
  return h.digest('hex').slice(0, 32);
}

/** Reads a cache file; returns undefined when it is missing, or corrupt (its sha256 does not match). */
function readCache(file: string, count: number, px: number): Decoded | undefined {
  if (!existsSync(file)) return undefined;
  const buf = readFileSync(file);
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== CACHE_MAGIC) return undefined;
  const headLen = buf.readUInt32LE(8);
  let head: { sha256: string; count: number; bad: { path: string; reason: string }[] };
  try {
    head = JSON.parse(buf.toString('utf8', 12, 12 + headLen));
  } catch {
    return undefined;
  }
  const body = buf.subarray(12 + headLen);
  if (head.count !== count || body.length !== count * 4 + count * px) return undefined;
  if (createHash('sha256').update(body).digest('hex') !== head.sha256) return undefined;
  const copy = new Uint8Array(body);
  return {
    labels: new Int32Array(copy.buffer, 0, count),
    pixels: new Uint8Array(copy.buffer, count * 4, count * px),
    bad: head.bad,
  };
}

function writeCache(file: string, d: Decoded): void {
  const count = d.labels.length;
  const body = Buffer.concat([
    Buffer.from(d.labels.buffer, d.labels.byteOffset, count * 4),
    Buffer.from(d.pixels),
  ]);
  const head = Buffer.from(
    JSON.stringify({ sha256: createHash('sha256').update(body).digest('hex'), count, bad: d.bad }),
  );
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  mkdirSync(join(file, '..'), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, Buffer.concat([Buffer.from(CACHE_MAGIC, 'latin1'), len, head, body]));
  renameSync(tmp, file);
}

async function decodeAll(
  listing: ImageFolderListing,
  o: ResolvedImageOptions,
  concurrency: number,
): Promise<Decoded> {
  const sharp = await loadSharp();
  const px = o.height * o.width * o.channels;
  const n = listing.files.length;
  const pixels = new Uint8Array(n * px);
  const ok = new Uint8Array(n);
  const bad: { path: string; reason: string }[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const f = listing.files[i]!;
      try {
        pixels.set(await decodeResolved(sharp, join(listing.root, f.path), o, f.path), i * px);
        ok[i] = 1;
      } catch (error) {
        bad.push({
          path: f.path,
          reason: (error as Error).message.replace(`${f.path}: `, '').replace(/; give a .*$/, ''),
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  bad.sort((a, b) => (a.path < b.path ? -1 : 1));
  // keep only the decoded images, in listing order
  const keep = listing.files.flatMap((_, i) => (ok[i] ? [i] : []));
  const out = keep.length === n ? pixels : new Uint8Array(keep.length * px);
  if (out !== pixels) {
    keep.forEach((i, j) => {
      out.set(pixels.subarray(i * px, (i + 1) * px), j * px);
    });
  }
  return { pixels: out, labels: Int32Array.from(keep, (i) => listing.files[i]!.label), bad };
}

function badFilesError(root: string, bad: readonly { path: string; reason: string }[]): InvalidFileError {
  const list = bad.map((b) => `${join(root, b.path)} (${b.reason})`).join('; ');
  return new InvalidFileError(
    `${root}: ${bad.length} image file${bad.length === 1 ? '' : 's'} could not be read: ${list}; fix or remove ${bad.length === 1 ? 'it' : 'them'}, or pass --skip-bad-files (skipBadFiles: true) to leave ${bad.length === 1 ? 'it' : 'them'} out`,
    { where: join(root, bad[0]!.path) },
  );
}

/**
 * Loads a folder of images as a dataset, as Keras' image_dataset_from_directory and torchvision's
 * ImageFolder read one: `root/<class>/*.{png,jpg,jpeg,webp,gif,bmp}` with sorted class names (a folder
 * without class folders is an unlabelled transfer set), decoded and resized with sharp, a seeded
 * stratified validation split (`test`), and a checksummed decode cache keyed by the files' paths, sizes
 * and modification times and the decode options. The memory the pixels need is checked before decoding.
 * Unreadable images fail the load, all listed, unless `skipBadFiles`.
 */
export async function loadImageFolder(
  root: string,
  options: LoadImageFolderOptions = {},
): Promise<ImageFolderDataset> {
  const o = resolveImageOptions('loadImageFolder', options);
  const listing = scanImageFolder(root);
  const px = o.height * o.width * o.channels;
  const n = listing.files.length;
  checkDatasetBytes(`${root}: ${n} images of ${o.height}x${o.width}x${o.channels}`, n * px, options.maxBytes);
  const cacheFile =
    options.cacheDir === false
      ? undefined
      : join(options.cacheDir ?? join(resolveCacheDir(), 'image-folders'), `${cacheKey(listing, o)}.bin`);
  let decoded = cacheFile ? readCache(cacheFile, n, px) : undefined;
  const fromCache = decoded !== undefined;
  if (decoded && decoded.bad.length > 0) {
    const kept = n - decoded.bad.length;
    decoded = {
      ...decoded,
      labels: decoded.labels.subarray(0, kept),
      pixels: decoded.pixels.subarray(0, kept * px),
    };
  }
  if (!decoded) {
    decoded = await decodeAll(listing, o, options.concurrency ?? 8);
    if (cacheFile) writeCache(cacheFile, padded(decoded, n, px));
  }
  if (decoded.bad.length > 0 && !options.skipBadFiles) throw badFilesError(root, decoded.bad);
  if (decoded.labels.length === 0) throw badFilesError(root, decoded.bad);
  if (listing.classNames.length > 256) {
    throw new InvalidFileError(
      `${root}: ${listing.classNames.length} class folders; image datasets hold at most 256 classes (uint8 labels)`,
      { where: root },
    );
  }
  const count = decoded.labels.length;
  const dataset: ImageFolderDataset = {
    name:
      root
        .replace(/[\\/]+$/, '')
        .split(/[\\/]/)
        .pop() || root,
    imageShape: [o.height, o.width, o.channels],
    numClasses: listing.classNames.length,
    classNames: listing.classNames,
    train: { images: decoded.pixels, labels: Uint8Array.from(decoded.labels, (y) => Math.max(0, y)), count },
    test: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
    ...(listing.unlabelled ? { unlabelled: true } : {}),
    badFiles: decoded.bad,
    fromCache,
  };
  const fraction = options.validationFraction ?? 0.2;
  if (listing.unlabelled || fraction === 0) return dataset;
  return holdOut(dataset, { fraction, seed: options.seed ?? 0, label: options.heldOutLabel ?? 'validation' });
}

/** The cache holds `n` rows (bad files as zero rows at the end) so its size is known from the listing. */
function padded(d: Decoded, n: number, px: number): Decoded {
  if (d.labels.length === n) return d;
  const labels = new Int32Array(n);
  labels.set(d.labels);
  const pixels = new Uint8Array(n * px);
  pixels.set(d.pixels);
  return { labels, pixels, bad: d.bad };
}
