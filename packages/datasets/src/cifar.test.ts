import { InvalidFileError } from '@distilljs/core';
import { describe, expect, it } from 'vitest';
import { randomBytes } from './__fixtures__/files.js';
import { CIFAR10_RECORD_BYTES, concatSplits, encodeCifarBatch, parseCifarBatch } from './cifar.js';

describe('CIFAR-10 binary batches', () => {
  it('round-trips bit-exact and converts channel-planar to HWC', () => {
    const count = 6;
    const images = randomBytes(count * 3072, 11);
    const labels = Uint8Array.from([0, 9, 4, 4, 1, 7]);
    const bytes = encodeCifarBatch({ images, labels, count });
    expect(bytes.length).toBe(count * CIFAR10_RECORD_BYTES);
    // Record 2: label byte, then the red plane; red of pixel (y=1, x=2) is HWC byte ((1*32+2)*3+0).
    const rec = 2 * CIFAR10_RECORD_BYTES;
    expect(bytes[rec]).toBe(4);
    expect(bytes[rec + 1 + (1 * 32 + 2)]).toBe(images[2 * 3072 + (1 * 32 + 2) * 3 + 0]);
    expect(bytes[rec + 1 + 1024 + (1 * 32 + 2)]).toBe(images[2 * 3072 + (1 * 32 + 2) * 3 + 1]);
    expect(bytes[rec + 1 + 2048 + 1023]).toBe(images[2 * 3072 + 1023 * 3 + 2]);
    const back = parseCifarBatch(bytes, 'data_batch_1.bin');
    expect(back.count).toBe(count);
    expect(back.labels).toEqual(labels);
    expect(back.images).toEqual(images);
  });

  it('rejects a truncated batch, naming the file and offset', () => {
    const bytes = encodeCifarBatch({
      images: new Uint8Array(2 * 3072),
      labels: Uint8Array.of(1, 2),
      count: 2,
    });
    expect(() => parseCifarBatch(bytes.subarray(0, bytes.length - 5), 'test_batch.bin')).toThrow(
      InvalidFileError,
    );
    expect(() => parseCifarBatch(bytes.subarray(0, bytes.length - 5), 'test_batch.bin')).toThrow(
      /test_batch\.bin: a CIFAR-10 binary batch is a whole number of 3073-byte records .* got 6141 bytes \(1 records and 3068 bytes over\); the last record is truncated at byte offset 3073/,
    );
    expect(() => parseCifarBatch(new Uint8Array(0), 'empty.bin')).toThrow(/empty\.bin: .* got 0 bytes/);
  });

  it('rejects a label outside 0..9 with its byte offset', () => {
    const bytes = encodeCifarBatch({
      images: new Uint8Array(3 * 3072),
      labels: Uint8Array.of(1, 2, 3),
      count: 3,
    });
    bytes[2 * CIFAR10_RECORD_BYTES] = 10;
    expect(() => parseCifarBatch(bytes, 'data_batch_3.bin')).toThrow(
      'data_batch_3.bin: label 10 of example 2 at byte offset 6146 is outside 0..9',
    );
  });

  it('concatenates batches in order', () => {
    const a = parseCifarBatch(
      encodeCifarBatch({ images: randomBytes(3072, 1), labels: Uint8Array.of(3), count: 1 }),
    );
    const b = parseCifarBatch(
      encodeCifarBatch({ images: randomBytes(6144, 2), labels: Uint8Array.of(5, 6), count: 2 }),
    );
    const ab = concatSplits([a, b]);
    expect(ab.count).toBe(3);
    expect(Array.from(ab.labels)).toEqual([3, 5, 6]);
    expect(ab.images.subarray(3072)).toEqual(b.images);
  });
});
