import type { DatasetSplit, ImageShape } from '@distilljs/core';
import { InvalidFileError } from '@distilljs/core';
import type { Gunzip } from './gzip.js';
import { maybeGunzip } from './gzip.js';
import { parseIdx } from './idx.js';
import { checkLabels } from './labels.js';

/** A split read from a pair of IDX files, with the image shape the files declare. */
export interface IdxSplit {
  readonly split: DatasetSplit;
  readonly imageShape: ImageShape;
}

/** Names and bytes of an IDX image file and its label file. */
export interface IdxPair {
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  /** Name of the image file, for error messages. */
  readonly imagesFile: string;
  /** Name of the label file, for error messages. */
  readonly labelsFile: string;
}

/**
 * Decodes an IDX image file (`[n, h, w]` or `[n, h, w, c]`) and its IDX label file (`[n]`), each gzip or
 * raw, into a {@link DatasetSplit}. Checks that both files agree on `n` and that every label is in
 * `0..numClasses-1`.
 *
 * @throws InvalidFileError naming the file and byte offset on any mismatch.
 */
export async function decodeIdxPair(pair: IdxPair, gunzip: Gunzip, numClasses = 10): Promise<IdxSplit> {
  const imgBytes = await maybeGunzip(pair.images, pair.imagesFile, gunzip);
  const images = parseIdx(imgBytes, pair.imagesFile);
  const lblBytes = await maybeGunzip(pair.labels, pair.labelsFile, gunzip);
  const labels = parseIdx(lblBytes, pair.labelsFile);
  if (images.dims.length !== 3 && images.dims.length !== 4) {
    throw new InvalidFileError(
      `${pair.imagesFile}: an image file must have 3 dimensions [count, height, width] (or 4 with channels), the header at byte offset 3 says ${images.dims.length} ([${images.dims.join(', ')}])`,
      { where: `${pair.imagesFile}@3` },
    );
  }
  if (labels.dims.length !== 1) {
    throw new InvalidFileError(
      `${pair.labelsFile}: a label file must have 1 dimension [count], the header at byte offset 3 says ${labels.dims.length} ([${labels.dims.join(', ')}])`,
      { where: `${pair.labelsFile}@3` },
    );
  }
  const count = images.dims[0] as number;
  const labelCount = labels.dims[0] as number;
  if (count !== labelCount) {
    throw new InvalidFileError(
      `${pair.labelsFile}: holds ${labelCount} labels (count at byte offset 4) but ${pair.imagesFile} holds ${count} images; the two files must have the same count`,
      { where: `${pair.labelsFile}@4` },
    );
  }
  checkLabels(labels.data, numClasses, pair.labelsFile, 8, 1);
  const [, h, w, c = 1] = images.dims as [number, number, number, number?];
  return {
    split: { images: images.data, labels: labels.data, count },
    imageShape: [h, w, c],
  };
}
