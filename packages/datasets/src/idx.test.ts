import { InvalidArgumentError, InvalidFileError } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { gzip, randomBytes } from './__fixtures__/files.js';
import { isGzip, webGunzip } from './gzip.js';
import { encodeIdx, parseIdx } from './idx.js';
import { decodeIdxPair } from './idx-split.js';
import { nodeGunzip } from './node/node-gunzip.js';

function pair(images: Uint8Array, labels: Uint8Array) {
  return { images, labels, imagesFile: 'imgs.idx3', labelsFile: 'lbls.idx1' };
}

describe('IDX', () => {
  it('round-trips images and labels bit-exact', () => {
    const data = randomBytes(7 * 28 * 28, 1);
    const file = encodeIdx([7, 28, 28], data);
    expect(Array.from(file.subarray(0, 8))).toEqual([0, 0, 8, 3, 0, 0, 0, 7]);
    expect(file.length).toBe(16 + 7 * 784);
    const back = parseIdx(file, 'x');
    expect(back.dims).toEqual([7, 28, 28]);
    expect(back.data).toEqual(data);
    const labels = randomBytes(300, 2, 10);
    expect(parseIdx(encodeIdx([300], labels)).data).toEqual(labels);
  });

  it.each([
    ['node:zlib', nodeGunzip],
    ['DecompressionStream', webGunzip],
  ])('decodes a gzip image/label pair with %s, bit-exact', async (_name, gunzip) => {
    const images = randomBytes(5 * 4 * 3, 3);
    const labels = Uint8Array.from([0, 9, 3, 3, 1]);
    const gzImages = gzip(encodeIdx([5, 4, 3], images));
    expect(isGzip(gzImages)).toBe(true);
    const out = await decodeIdxPair(pair(gzImages, encodeIdx([5], labels)), gunzip);
    expect(out.imageShape).toEqual([4, 3, 1]);
    expect(out.split.count).toBe(5);
    expect(out.split.images).toEqual(images);
    expect(out.split.labels).toEqual(labels);
  });

  it('reads a 4-d image file as [h, w, c]', async () => {
    const images = randomBytes(2 * 3 * 3 * 3, 4);
    const out = await decodeIdxPair(
      pair(encodeIdx([2, 3, 3, 3], images), encodeIdx([2], Uint8Array.of(1, 2))),
      nodeGunzip,
    );
    expect(out.imageShape).toEqual([3, 3, 3]);
    expect(out.split.images).toEqual(images);
  });

  it('rejects a wrong magic number, naming the file and offset', () => {
    const bad = encodeIdx([1, 2, 2], new Uint8Array(4));
    bad[0] = 0x50;
    expect(() => parseIdx(bad, 'train-images.gz')).toThrow(InvalidFileError);
    expect(() => parseIdx(bad, 'train-images.gz')).toThrow(
      /train-images\.gz: not an IDX file: magic number at byte offset 0 is 50 00 08 03, expected 00 00 08 <ndims>/,
    );
    const float = encodeIdx([1], new Uint8Array(1));
    float[2] = 0x0d;
    expect(() => parseIdx(float, 'f.idx')).toThrow(
      /f\.idx: IDX data type 0x0d \(float32\) at byte offset 2 is not supported/,
    );
  });

  it('rejects truncated files and trailing bytes with the offset', () => {
    const file = encodeIdx([3, 2, 2], new Uint8Array(12));
    expect(() => parseIdx(file.subarray(0, 2), 'a')).toThrow(/a: truncated IDX file: 2 bytes/);
    expect(() => parseIdx(file.subarray(0, 10), 'b')).toThrow(
      /b: truncated IDX header: 10 bytes, expected 16/,
    );
    expect(() => parseIdx(file.subarray(0, 20), 'c')).toThrow(
      /c: truncated IDX file: 20 bytes, expected 28 \(16-byte header \+ 3x2x2 data bytes\); data ends early at byte offset 20/,
    );
    const long = new Uint8Array(file.length + 3);
    long.set(file);
    expect(() => parseIdx(long, 'd')).toThrow(/d: 3 unexpected trailing bytes after byte offset 28/);
    try {
      parseIdx(file.subarray(0, 20), 'c');
    } catch (e) {
      expect((e as InvalidFileError).where).toBe('c@20');
    }
  });

  it('rejects a count mismatch between images and labels, naming both files', async () => {
    const p = pair(encodeIdx([3, 2, 2], new Uint8Array(12)), encodeIdx([4], new Uint8Array(4)));
    await expect(decodeIdxPair(p, nodeGunzip)).rejects.toThrow(
      'lbls.idx1: holds 4 labels (count at byte offset 4) but imgs.idx3 holds 3 images; the two files must have the same count',
    );
  });

  it('rejects a label outside 0..9 with its byte offset', async () => {
    const p = pair(encodeIdx([3, 2, 2], new Uint8Array(12)), encodeIdx([3], Uint8Array.of(1, 12, 0)));
    await expect(decodeIdxPair(p, nodeGunzip)).rejects.toThrow(
      'lbls.idx1: label 12 of example 1 at byte offset 9 is outside 0..9',
    );
  });

  it('rejects files of the wrong rank', async () => {
    const p = pair(encodeIdx([3], new Uint8Array(3)), encodeIdx([3], new Uint8Array(3)));
    await expect(decodeIdxPair(p, nodeGunzip)).rejects.toThrow(
      /imgs\.idx3: an image file must have 3 dimensions/,
    );
  });

  it.each([
    ['node:zlib', nodeGunzip],
    ['DecompressionStream', webGunzip],
  ])('rejects a gzip that is not gzip (%s)', async (_name, gunzip) => {
    // Starts with the gzip magic but the stream is garbage.
    const fake = Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, ...randomBytes(64, 9)]);
    const p = { ...pair(fake, encodeIdx([1], new Uint8Array(1))), imagesFile: 'train-images-idx3-ubyte.gz' };
    const err = await decodeIdxPair(p, gunzip).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidFileError);
    expect((err as Error).message).toMatch(
      /^train-images-idx3-ubyte\.gz: starts with the gzip magic 1f 8b but is not a valid gzip stream/,
    );
    // A truncated gzip of a valid file.
    const gz = gzip(encodeIdx([2, 2, 2], new Uint8Array(8)));
    const cut = { ...p, images: gz.subarray(0, gz.length - 12) };
    await expect(decodeIdxPair(cut, gunzip)).rejects.toThrow(/not a valid gzip stream/);
  });

  it('says a .gz file without gzip or IDX magic is neither', async () => {
    const text = new TextEncoder().encode('<html>404 Not Found</html>');
    const p = { ...pair(text, encodeIdx([1], new Uint8Array(1))), imagesFile: 'train-images-idx3-ubyte.gz' };
    await expect(decodeIdxPair(p, nodeGunzip)).rejects.toThrow(
      /train-images-idx3-ubyte\.gz: not an IDX file: magic number at byte offset 0 is 3c 68 74 6d, expected 00 00 08 <ndims> \(or a gzip file starting 1f 8b\)/,
    );
  });

  it('validates encodeIdx arguments', () => {
    expect(() => encodeIdx([2, 2], new Uint8Array(3))).toThrow(InvalidArgumentError);
    expect(() => encodeIdx([], new Uint8Array(0))).toThrow(/encodeIdx: argument 'dims'/);
  });
});
