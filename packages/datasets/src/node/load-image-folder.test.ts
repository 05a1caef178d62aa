import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../__fixtures__/files.js';
import { type WrittenImage, writeImageFolder } from '../__fixtures__/image-folder.js';
import { DEBIAN_FASHION_MNIST_DIR, loadFashionMnist } from './load-fashion-mnist.js';
import { loadImageFolder } from './load-image-folder.js';
import { scanImageFolder } from './scan-image-folder.js';

const COUNT = 300;
let fashion: ImageDataset;
let root: string;
let written: WrittenImage[];
let cacheDir: string;

describe('loadImageFolder on real Fashion-MNIST images written as PNG and JPEG', () => {
  beforeAll(async () => {
    expect(existsSync(DEBIAN_FASHION_MNIST_DIR), 'apt-get install dataset-fashion-mnist').toBe(true);
    fashion = await loadFashionMnist();
    root = join(tempDir(), 'fashion');
    written = await writeImageFolder(fashion, 'test', root, { count: COUNT, jpeg: true });
    cacheDir = join(tempDir(), 'cache');
  });

  it('lists sorted class folders and every image, and the PNGs decode bit-exact with the IDX labels', async () => {
    const listing = scanImageFolder(root);
    expect(listing.classNames).toEqual([...fashion.classNames.map((n) => n.replace('/', '-'))].sort());
    expect(listing.files.length).toBe(COUNT);
    const ds = await loadImageFolder(root, { imageSize: 28, channels: 1, validationFraction: 0, cacheDir });
    expect(ds.imageShape).toEqual([28, 28, 1]);
    expect(ds.train.count).toBe(COUNT);
    expect(ds.fromCache).toBe(false);
    const byPath = new Map(written.map((w) => [relative(root, w.path), w]));
    let pngs = 0;
    let jpegMaxDiff = 0;
    listing.files.forEach((f, j) => {
      const w = byPath.get(f.path)!;
      // the folder's class name maps back to the IDX label
      const idxLabel = fashion.test.labels[w.index]!;
      expect(listing.classNames[ds.train.labels[j]!]).toBe(fashion.classNames[idxLabel]!.replace('/', '-'));
      const got = ds.train.images.subarray(j * 784, (j + 1) * 784);
      const want = fashion.test.images.subarray(w.index * 784, (w.index + 1) * 784);
      if (w.format === 'png') {
        pngs++;
        expect(Buffer.from(got).equals(Buffer.from(want)), f.path).toBe(true);
      } else {
        for (let k = 0; k < 784; k++) jpegMaxDiff = Math.max(jpegMaxDiff, Math.abs(got[k]! - want[k]!));
      }
    });
    expect(pngs).toBe(COUNT / 2);
    // JPEG is lossy: close, not equal (quality 95)
    expect(jpegMaxDiff).toBeGreaterThan(0);
    expect(jpegMaxDiff).toBeLessThan(80);
  });

  it('decodes again only when the files change: a second load reads the checksummed cache', async () => {
    const opts = { imageSize: 28, channels: 1 as const, validationFraction: 0, cacheDir };
    const first = await loadImageFolder(root, opts);
    const second = await loadImageFolder(root, opts);
    expect(second.fromCache).toBe(true);
    expect(Buffer.from(second.train.images).equals(Buffer.from(first.train.images))).toBe(true);
    expect(Array.from(second.train.labels)).toEqual(Array.from(first.train.labels));
    // a corrupted cache file fails its checksum and is decoded again
    const [file] = readdirSync(cacheDir);
    const bytes = readFileSync(join(cacheDir, file!));
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] as number) ^ 0xff;
    writeFileSync(join(cacheDir, file!), bytes);
    const third = await loadImageFolder(root, opts);
    expect(third.fromCache).toBe(false);
    expect(Buffer.from(third.train.images).equals(Buffer.from(first.train.images))).toBe(true);
  });

  it('holds out a seeded stratified validation split', async () => {
    const a = await loadImageFolder(root, {
      imageSize: 28,
      channels: 1,
      validationFraction: 0.2,
      seed: 3,
      cacheDir,
    });
    const b = await loadImageFolder(root, {
      imageSize: 28,
      channels: 1,
      validationFraction: 0.2,
      seed: 3,
      cacheDir,
    });
    const c = await loadImageFolder(root, {
      imageSize: 28,
      channels: 1,
      validationFraction: 0.2,
      seed: 4,
      cacheDir,
    });
    expect(a.train.count + a.test.count).toBe(COUNT);
    const counts = (l: Uint8Array) => Array.from({ length: 10 }, (_, k) => l.filter((y) => y === k).length);
    const all = counts(Uint8Array.from([...a.train.labels, ...a.test.labels]));
    counts(a.test.labels).forEach((n, k) => {
      expect(n).toBe(Math.round(0.2 * all[k]!));
    });
    expect(Buffer.from(a.test.images).equals(Buffer.from(b.test.images))).toBe(true);
    expect(Buffer.from(a.test.images).equals(Buffer.from(c.test.images))).toBe(false);
  });

  it('resizes to the size and channels asked for', async () => {
    const ds = await loadImageFolder(root, {
      imageSize: [20, 24],
      channels: 3,
      resize: 'pad',
      validationFraction: 0,
      cacheDir: false,
    });
    expect(ds.imageShape).toEqual([20, 24, 3]);
    expect(ds.train.images.length).toBe(COUNT * 20 * 24 * 3);
    // pad: a 28x28 image fits as 20x20 in the middle of 24 columns; columns 0-1 and 22-23 are black
    for (let y = 0; y < 20; y++)
      for (const x of [0, 1, 22, 23]) expect(ds.train.images[(y * 24 + x) * 3]).toBe(0);
  });

  it('reads a folder without class folders as an unlabelled transfer set', async () => {
    const flat = tempDir();
    for (const w of written.slice(0, 10))
      writeFileSync(join(flat, `${w.index}.${w.format === 'png' ? 'png' : 'jpg'}`), readFileSync(w.path));
    const ds = await loadImageFolder(flat, { imageSize: 28, channels: 1, cacheDir: false });
    expect(ds.unlabelled).toBe(true);
    expect(ds.numClasses).toBe(0);
    expect(ds.train.count).toBe(10);
  });
});

describe('loadImageFolder on bad input', () => {
  it('fails on corrupt images, listing every one, or skips them with skipBadFiles and says how many', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const sharp = (await import('sharp')).default;
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    writeFileSync(join(dir, 'a', 'good.png'), png);
    writeFileSync(join(dir, 'b', 'good.png'), png);
    writeFileSync(join(dir, 'a', 'broken.png'), png.subarray(0, 40));
    writeFileSync(join(dir, 'b', 'text.jpg'), 'not an image at all');
    const err = await loadImageFolder(dir, { imageSize: 8, cacheDir: false }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain('2 image files could not be read');
    expect(msg).toContain(join(dir, 'a', 'broken.png'));
    expect(msg).toContain(join(dir, 'b', 'text.jpg'));
    expect(msg).toContain('--skip-bad-files');
    expect(msg.split('\n').length).toBe(1);
    const ds = await loadImageFolder(dir, {
      imageSize: 8,
      cacheDir: false,
      skipBadFiles: true,
      validationFraction: 0,
    });
    expect(ds.train.count).toBe(2);
    expect(ds.badFiles.map((b) => b.path)).toEqual(['a/broken.png', 'b/text.jpg']);
  });

  it('names an empty class folder, and a folder without images', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'cats'));
    mkdirSync(join(dir, 'dogs'));
    writeFileSync(join(dir, 'cats', 'x.png'), 'x');
    await expect(loadImageFolder(dir, { cacheDir: false })).rejects.toThrow(
      `${join(dir, 'dogs')}: class folder "dogs" holds no images`,
    );
    const empty = tempDir();
    writeFileSync(join(empty, 'notes.txt'), 'hello');
    await expect(loadImageFolder(empty, { cacheDir: false })).rejects.toThrow(
      `${empty}: no images; expected class folders`,
    );
  });

  it('refuses a folder whose pixels would not fit in memory before decoding, giving the size', async () => {
    await expect(
      loadImageFolder(root, { imageSize: 512, maxBytes: 64 * 1024 ** 2, cacheDir: false }),
    ).rejects.toThrow(/300 images of 512x512x3 needs 225\.0 MiB of memory, more than the 64\.0 MiB limit/);
  });
});
