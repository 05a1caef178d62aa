// Writes a class-per-folder tree of real Fashion-MNIST images with sharp (PNG and JPEG), for tests,
// the runner's end-to-end tests and the folder benchmark.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import sharp from 'sharp';

export interface WrittenImage {
  /** Index of the image in the source split. */
  readonly index: number;
  readonly path: string;
  readonly label: number;
  readonly format: 'png' | 'jpeg';
}

/**
 * Writes images `from..from+count-1` of `split` as `root/<class name>/<index>.png` (even indices) or `.jpg`
 * (odd indices, when `jpeg` is set); `/` in class names becomes `-`. Returns what was written.
 */
export async function writeImageFolder(
  dataset: ImageDataset,
  split: 'train' | 'test',
  root: string,
  options: { from?: number; count: number; jpeg?: boolean; concurrency?: number },
): Promise<WrittenImage[]> {
  const [h, w, c] = dataset.imageShape;
  const px = h * w * c;
  const s = dataset[split];
  const dirName = (k: number) => dataset.classNames[k]!.replace(/\//g, '-');
  for (let k = 0; k < dataset.numClasses; k++) mkdirSync(join(root, dirName(k)), { recursive: true });
  const from = options.from ?? 0;
  const written: WrittenImage[] = [];
  let next = 0;
  const worker = async () => {
    for (let j = next++; j < options.count; j = next++) {
      const i = from + j;
      const label = s.labels[i]!;
      const format = options.jpeg && i % 2 === 1 ? 'jpeg' : 'png';
      const path = join(
        root,
        dirName(label),
        `${String(i).padStart(5, '0')}.${format === 'png' ? 'png' : 'jpg'}`,
      );
      const raw = sharp(Buffer.from(s.images.subarray(i * px, (i + 1) * px)), {
        raw: { width: w, height: h, channels: c as 1 | 3 },
      });
      await (format === 'png' ? raw.png() : raw.jpeg({ quality: 95 })).toFile(path);
      written.push({ index: i, path, label, format });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return written.sort((a, b) => a.index - b.index);
}
