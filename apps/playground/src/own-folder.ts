import type { ImageDataset } from '@distilljs/core';
import { imageFolderFromFiles, type PickedImageFile } from '@distilljs/datasets/browser';

/** How the page brings a folder's images to its models: 28 x 28 grey, as the built-in datasets are. */
export const FOLDER_IMAGE = { imageSize: 28, channels: 1 } as const;
/** Share of a folder's images held out as the test split (stratified, seeded with 0). */
export const FOLDER_TEST_FRACTION = 0.2;

/** A folder of images chosen on the page, as a dataset the run form can pick. */
export interface FolderDataset {
  readonly id: string;
  readonly name: string;
  readonly dataset: ImageDataset;
  readonly trainCount: number;
  readonly testCount: number;
  /** Files that could not be decoded (left out). */
  readonly badFiles: readonly string[];
}

/** The files of a directory picker (`<input webkitdirectory>`): each with its path inside the folder. */
export function pickedFiles(files: Iterable<File>): PickedImageFile[] {
  return [...files].map((f) => ({ path: f.webkitRelativePath || f.name, blob: f }));
}

/**
 * Decodes a chosen folder laid out as `root/<class>/<image>` (the layout of Keras'
 * image_dataset_from_directory): classes sorted, images brought to 28 x 28 grey, 20% held out as the test
 * split. Unreadable images are left out and listed.
 */
export async function folderDataset(files: readonly PickedImageFile[]): Promise<FolderDataset> {
  const ds = await imageFolderFromFiles(files, {
    ...FOLDER_IMAGE,
    validationFraction: FOLDER_TEST_FRACTION,
    skipBadFiles: true,
  });
  if (ds.numClasses < 2) {
    throw new Error(
      `the folder ${ds.name} holds ${ds.numClasses} class folder; distillation needs at least 2 (one subfolder per class)`,
    );
  }
  const root = files[0]?.path.split('/')[0] ?? 'images';
  const { badFiles, ...dataset } = ds;
  return {
    id: `folder:${root}`,
    name: `${root} (your images, ${ds.numClasses} classes)`,
    dataset: { ...dataset, name: root },
    trainCount: ds.train.count,
    testCount: ds.test.count,
    badFiles,
  };
}
