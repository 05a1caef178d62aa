import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ImageDataset } from '@distilljs/core';
import { DistillError } from '@distilljs/core';
import { decodeIdxPair } from '../idx-split.js';
import type { IdxFileSet } from '../sources.js';
import { nodeGunzip } from './node-gunzip.js';
import { readBytes } from './read-bytes.js';

/** The names an IDX file is found under: `x-idx3-ubyte.gz`, `x-idx3-ubyte`, `x.idx3-ubyte` (and `.gz`). */
function candidates(file: string): string[] {
  const raw = file.replace(/\.gz$/, '');
  const dotted = raw.replace(/-(idx\d-ubyte)$/, '.$1');
  return [...new Set([file, raw, dotted, `${dotted}.gz`])];
}

function findFile(fn: string, dir: string, file: string): string {
  for (const name of candidates(file)) {
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new DistillError(`${fn}: no ${file} in ${dir} (looked for ${candidates(file).join(', ')})`, {
    code: 'file-not-found',
    where: join(dir, file),
  });
}

/** Reads the four IDX files of an MNIST-style dataset from a directory (gzip or raw). */
export async function loadIdxDir(
  fn: string,
  dir: string,
  files: IdxFileSet,
  meta: { name: string; classNames: readonly string[] },
): Promise<ImageDataset> {
  const read = async (images: string, labels: string) => {
    const imagesFile = findFile(fn, dir, images);
    const labelsFile = findFile(fn, dir, labels);
    return decodeIdxPair(
      { images: await readBytes(imagesFile), labels: await readBytes(labelsFile), imagesFile, labelsFile },
      nodeGunzip,
      meta.classNames.length,
    );
  };
  const train = await read(files.trainImages.file, files.trainLabels.file);
  const test = await read(files.testImages.file, files.testLabels.file);
  if (train.imageShape.join('x') !== test.imageShape.join('x')) {
    throw new DistillError(
      `${fn}: train images are ${train.imageShape.join('x')} but test images are ${test.imageShape.join('x')} in ${dir}`,
      { code: 'invalid-file', where: dir },
    );
  }
  return {
    name: meta.name,
    imageShape: train.imageShape,
    numClasses: meta.classNames.length,
    classNames: meta.classNames,
    train: train.split,
    test: test.split,
  };
}
