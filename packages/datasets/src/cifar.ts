import type { DatasetSplit } from '@distilljs/core';
import { InvalidFileError, invalidArgument } from '@distilljs/core';
import { checkLabels } from './labels.js';

/** Bytes of one CIFAR-10 binary record: 1 label byte + 32*32*3 channel-planar pixel bytes. */
export const CIFAR10_RECORD_BYTES = 3073;
const PIXELS = 1024;

/**
 * Parses one CIFAR-10 binary batch (`data_batch_N.bin`, `test_batch.bin`): records of 1 label byte then
 * 1024 red, 1024 green and 1024 blue bytes. Converts the channel-planar pixels to HWC (`[32, 32, 3]`
 * channel-last, as every distilljs dataset is kept).
 *
 * @throws InvalidFileError naming the file and byte offset when the length is not a whole number of
 *   records, or a label is outside 0..9.
 */
export function parseCifarBatch(bytes: Uint8Array, file = '<bytes>'): DatasetSplit {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new InvalidFileError(
      `${file}: a CIFAR-10 binary batch is a whole number of ${CIFAR10_RECORD_BYTES}-byte records (1 label + 3072 pixels), got ${bytes.length} bytes (${whole} records and ${bytes.length - whole * CIFAR10_RECORD_BYTES} bytes over); the last record is truncated at byte offset ${whole * CIFAR10_RECORD_BYTES}`,
      { where: `${file}@${whole * CIFAR10_RECORD_BYTES}` },
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * 3 * PIXELS);
  for (let i = 0; i < count; i++) {
    const rec = i * CIFAR10_RECORD_BYTES;
    labels[i] = bytes[rec] as number;
    const out = i * 3 * PIXELS;
    for (let c = 0; c < 3; c++) {
      const plane = rec + 1 + c * PIXELS;
      for (let p = 0; p < PIXELS; p++) images[out + p * 3 + c] = bytes[plane + p] as number;
    }
  }
  checkLabels(labels, 10, file, 0, CIFAR10_RECORD_BYTES);
  return { images, labels, count };
}

/** Encodes HWC `[32, 32, 3]` images and labels as one CIFAR-10 binary batch, the inverse of {@link parseCifarBatch}. */
export function encodeCifarBatch(split: DatasetSplit): Uint8Array {
  const { images, labels, count } = split;
  if (images.length !== count * 3 * PIXELS) {
    invalidArgument(
      'encodeCifarBatch',
      'split.images',
      `${count * 3 * PIXELS} bytes (count x 32 x 32 x 3)`,
      images,
    );
  }
  if (labels.length !== count) invalidArgument('encodeCifarBatch', 'split.labels', `${count} labels`, labels);
  const out = new Uint8Array(count * CIFAR10_RECORD_BYTES);
  for (let i = 0; i < count; i++) {
    const rec = i * CIFAR10_RECORD_BYTES;
    out[rec] = labels[i] as number;
    const src = i * 3 * PIXELS;
    for (let c = 0; c < 3; c++) {
      const plane = rec + 1 + c * PIXELS;
      for (let p = 0; p < PIXELS; p++) out[plane + p] = images[src + p * 3 + c] as number;
    }
  }
  return out;
}

/** Concatenates splits (e.g. the five CIFAR-10 training batches) into one. */
export function concatSplits(splits: readonly DatasetSplit[]): DatasetSplit {
  let count = 0;
  let bytes = 0;
  for (const s of splits) {
    count += s.count;
    bytes += s.images.length;
  }
  const images = new Uint8Array(bytes);
  const labels = new Uint8Array(count);
  let bo = 0;
  let lo = 0;
  for (const s of splits) {
    images.set(s.images, bo);
    labels.set(s.labels, lo);
    bo += s.images.length;
    lo += s.count;
  }
  return { images, labels, count };
}
