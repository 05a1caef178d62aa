import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import { IMAGE_EXTENSIONS, isImageFileName } from '../image-options.js';

/** One image file of a folder dataset. */
export interface ImageFileEntry {
  /** Path relative to the root, with `/` separators. */
  readonly path: string;
  /** Class id (index into `classNames`), or -1 in an unlabelled folder. */
  readonly label: number;
  readonly size: number;
  readonly mtimeMs: number;
}

/** The layout of an image folder. */
export interface ImageFolderListing {
  readonly root: string;
  /** Sorted names of the class subfolders; empty for an unlabelled folder. */
  readonly classNames: readonly string[];
  /** True when the root has no class subfolders: the images are an unlabelled transfer set. */
  readonly unlabelled: boolean;
  /** Every image, class by class, each class's files sorted by name. */
  readonly files: readonly ImageFileEntry[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function imagesIn(root: string, sub: string, label: number): ImageFileEntry[] {
  const dir = join(root, sub);
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && isImageFileName(e.name))
    .map((e) => e.name)
    .sort(byName)
    .map((name) => {
      const st = statSync(join(dir, name));
      return { path: sub ? `${sub}/${name}` : name, label, size: st.size, mtimeMs: st.mtimeMs };
    });
}

/**
 * Lists an image folder laid out as Keras' image_dataset_from_directory and torchvision's ImageFolder
 * read it: `root/<class>/*.{png,jpg,jpeg,webp,gif,bmp}`, class names sorted; or, with no subfolders, a
 * folder of images that is an unlabelled transfer set. An empty class folder or a folder without images
 * is an error naming it.
 */
export function scanImageFolder(root: string): ImageFolderListing {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch (cause) {
    throw new InvalidFileError(`${root}: cannot read the image folder (${(cause as Error).message})`, {
      where: root,
      cause,
    });
  }
  const classNames = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byName);
  const kinds = IMAGE_EXTENSIONS.join(', ');
  if (classNames.length === 0) {
    const files = imagesIn(root, '', -1);
    if (files.length === 0) {
      throw new InvalidFileError(
        `${root}: no images; expected class folders (${root}/<class>/image.png) or image files (${kinds}) for an unlabelled set`,
        { where: root },
      );
    }
    return { root, classNames: [], unlabelled: true, files };
  }
  const files: ImageFileEntry[] = [];
  classNames.forEach((name, k) => {
    const found = imagesIn(root, name, k);
    if (found.length === 0) {
      throw new InvalidFileError(
        `${join(root, name)}: class folder "${name}" holds no images (${kinds}); add images or remove the folder`,
        { where: join(root, name) },
      );
    }
    files.push(...found);
  });
  return { root, classNames, unlabelled: false, files };
}
