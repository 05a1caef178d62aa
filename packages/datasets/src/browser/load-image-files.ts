import type { ImageDataset } from '@distilljs/core';
import { InvalidFileError } from '@distilljs/core';
import { type ImageDecodeOptions, isImageFileName, resolveImageOptions } from '../image-options.js';
import { holdOut } from '../stratified-split.js';
import { decodeImageBlob } from './decode-image.js';

/** One file picked in a browser: its path inside the chosen folder (`root/class/x.png`) and its content. */
export interface PickedImageFile {
  /** e.g. a File's `webkitRelativePath`, or the path of a dropped entry. */
  readonly path: string;
  readonly blob: Blob;
}

/** Options of {@link imageFolderFromFiles}. */
export interface ImageFilesOptions extends ImageDecodeOptions {
  /** Share held out (stratified, seeded) as the validation split (`test`); default 0.2. */
  readonly validationFraction?: number;
  readonly seed?: number;
  /** Skip images that cannot be decoded instead of failing (default false). */
  readonly skipBadFiles?: boolean;
}

/**
 * A dataset from files picked in a browser (a directory picker or a dropped folder), laid out as an image
 * folder: `root/<class>/<image>` with class names sorted, decoded with {@link decodeImageBlob}. Files
 * directly in the root when there are class folders, and files that are not images, are ignored.
 */
export async function imageFolderFromFiles(
  files: readonly PickedImageFile[],
  options: ImageFilesOptions = {},
): Promise<ImageDataset & { badFiles: string[] }> {
  const o = resolveImageOptions('imageFolderFromFiles', options);
  const images = files
    .map((f) => ({ ...f, parts: f.path.split('/').filter(Boolean) }))
    .filter((f) => isImageFileName(f.path) && f.parts.length >= 3)
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  if (images.length === 0)
    throw new InvalidFileError(
      'no images in class folders (root/<class>/<image>.png|jpg|jpeg|webp|gif|bmp)',
      { where: 'files' },
    );
  const classNames = [...new Set(images.map((f) => f.parts[1] as string))].sort();
  const px = o.height * o.width * o.channels;
  const pixels = new Uint8Array(images.length * px);
  const labels: number[] = [];
  const badFiles: string[] = [];
  for (const f of images) {
    try {
      const decoded = await decodeImageBlob(
        f.blob,
        { imageSize: [o.height, o.width], channels: o.channels, resize: o.resize },
        f.path,
      );
      pixels.set(decoded, labels.length * px);
      labels.push(classNames.indexOf(f.parts[1] as string));
    } catch (error) {
      if (!options.skipBadFiles) throw error;
      badFiles.push(f.path);
    }
  }
  const count = labels.length;
  const dataset: ImageDataset = {
    name: images[0]?.parts[0] ?? 'images',
    imageShape: [o.height, o.width, o.channels],
    numClasses: classNames.length,
    classNames,
    train: { images: pixels.subarray(0, count * px), labels: Uint8Array.from(labels), count },
    test: { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 },
  };
  const fraction = options.validationFraction ?? 0.2;
  const split =
    fraction > 0 ? holdOut(dataset, { fraction, seed: options.seed ?? 0, label: 'validation' }) : dataset;
  return { ...split, badFiles };
}
