// Your own data in the runner: image folders, tables and NPY arrays through @distilljs/datasets, the
// unlabelled transfer set, and the preprocessing saved beside each model.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dataset, ImageDataset } from '@distilljs/core';
import { ConfigError, isFeatureDataset } from '@distilljs/core';
import * as datasets from '@distilljs/datasets';
import type { DataKind } from './experiment-schema.js';

/** The own-data settings of a dataset spec (see the experiment schema's `dataset`). */
export interface OwnDataSpec {
  readonly name: DataKind;
  readonly path?: string | undefined;
  readonly labelsPath?: string | undefined;
  readonly labelColumn?: string | undefined;
  readonly header?: boolean | undefined;
  readonly skipLines?: number | undefined;
  readonly standardize?: boolean | undefined;
  readonly imageSize?: number | undefined;
  readonly channels?: 1 | 3 | undefined;
  readonly resize?: datasets.ResizeMode | undefined;
  readonly testFraction?: number | undefined;
  readonly splitSeed?: number | undefined;
  readonly skipBadFiles?: boolean | undefined;
  readonly unlabelled?: string | undefined;
  /** Accept a folder without class folders (data inspect). */
  readonly allowUnlabelled?: boolean | undefined;
}

/** A loaded own dataset, with what the runner reports and saves about it. */
export interface OwnData {
  readonly dataset: Dataset;
  /** Files skipped by --skip-bad-files (path and reason). */
  readonly badFiles: readonly { readonly path: string; readonly reason: string }[];
  /** The unlabelled transfer images (--unlabelled), decoded like the dataset's images. */
  readonly unlabelled?: ImageDataset;
  /** What prediction must apply to new inputs; saved as preprocessing.json beside every model. */
  readonly preprocessing: Record<string, unknown>;
}

function imageOptions(spec: OwnDataSpec): datasets.ImageDecodeOptions {
  return {
    ...(spec.imageSize ? { imageSize: spec.imageSize } : {}),
    ...(spec.channels ? { channels: spec.channels } : {}),
    ...(spec.resize ? { resize: spec.resize } : {}),
  };
}

async function loadFolder(spec: OwnDataSpec, path: string): Promise<OwnData> {
  const opts = {
    ...imageOptions(spec),
    validationFraction: spec.testFraction ?? 0.2,
    heldOutLabel: 'test',
    seed: spec.splitSeed ?? 0,
    skipBadFiles: spec.skipBadFiles ?? false,
  };
  const ds = await datasets.loadImageFolder(path, opts);
  if (ds.unlabelled && !spec.allowUnlabelled) {
    throw new ConfigError(
      `${path}: has no class folders, so it is an unlabelled transfer set; train on a folder of class folders and pass this one as --unlabelled ${path}`,
      { where: path },
    );
  }
  let unlabelled: datasets.ImageFolderDataset | undefined;
  if (spec.unlabelled) {
    unlabelled = await datasets.loadImageFolder(spec.unlabelled, { ...opts, validationFraction: 0 });
    if (!unlabelled.unlabelled) {
      throw new ConfigError(
        `--unlabelled ${spec.unlabelled}: holds class folders; an unlabelled transfer set is a folder of images without class folders`,
        { where: spec.unlabelled },
      );
    }
  }
  const resolved = datasets.resolveImageOptions('loadImageFolder', imageOptions(spec));
  return {
    dataset: ds,
    badFiles: [...ds.badFiles, ...(unlabelled?.badFiles ?? [])],
    ...(unlabelled ? { unlabelled } : {}),
    preprocessing: { kind: 'image-folder', image: resolved, scale: '1/255', classNames: ds.classNames },
  };
}

/** Loads an image folder, a table or NPY arrays as the runner's dataset (`test` is the held-out part). */
export async function loadOwnData(spec: OwnDataSpec): Promise<OwnData> {
  const path = spec.path as string;
  if (spec.unlabelled && spec.name !== 'folder') {
    throw new ConfigError(
      `--unlabelled: an unlabelled transfer set goes with an image folder dataset, not ${spec.name}`,
      {
        where: 'dataset.unlabelled',
      },
    );
  }
  if (spec.name === 'folder') return loadFolder(spec, path);
  const common = {
    validationFraction: spec.testFraction ?? 0.2,
    heldOutLabel: 'test',
    seed: spec.splitSeed ?? 0,
    ...(spec.standardize === false ? { standardize: false } : {}),
  };
  const ds =
    spec.name === 'csv'
      ? await datasets.loadTable(path, {
          ...common,
          ...(spec.labelColumn ? { labelColumn: spec.labelColumn } : {}),
          ...(spec.header === false ? { header: false } : {}),
          ...(spec.skipLines ? { skipLines: spec.skipLines } : {}),
        })
      : await datasets.loadNpy(path, spec.labelsPath as string, common);
  return {
    dataset: ds,
    badFiles: [],
    preprocessing: {
      kind: spec.name === 'csv' ? 'table' : 'npy',
      featureShape: ds.featureShape,
      ...(ds.featureNames ? { featureNames: ds.featureNames } : {}),
      standardization: ds.standardization ?? null,
      classNames: ds.classNames,
    },
  };
}

/**
 * The transfer set of a distilled student with unlabelled images: the labelled training images at
 * `positions` followed by every unlabelled image, all reported as unlabelled (the hard term comes from
 * the labelled stream alone).
 */
export function transferWithUnlabelled(
  dataset: ImageDataset,
  positions: Int32Array | undefined,
  unlabelled: ImageDataset,
): ImageDataset {
  const [h, w, c] = dataset.imageShape;
  const px = h * w * c;
  const keep = positions ?? Int32Array.from({ length: dataset.train.count }, (_, i) => i);
  const n = keep.length + unlabelled.train.count;
  const images = new Uint8Array(n * px);
  keep.forEach((p, i) => {
    images.set(dataset.train.images.subarray(p * px, (p + 1) * px), i * px);
  });
  images.set(unlabelled.train.images, keep.length * px);
  return {
    ...dataset,
    name: `${dataset.name} + ${unlabelled.train.count} unlabelled`,
    train: { images, labels: new Uint8Array(n), count: n },
    unlabelled: true,
  };
}

/** Writes `preprocessing.json` (what prediction must apply to new inputs) into a saved model's directory. */
export function savePreprocessing(
  modelDir: string,
  preprocessing: Record<string, unknown> | undefined,
): void {
  if (!preprocessing) return;
  writeFileSync(join(modelDir, 'preprocessing.json'), `${JSON.stringify(preprocessing, null, 2)}\n`);
}

/** True when a dataset holds float features (tables, NPY) rather than images. */
export function isFeatures(dataset: Dataset): boolean {
  return isFeatureDataset(dataset);
}
