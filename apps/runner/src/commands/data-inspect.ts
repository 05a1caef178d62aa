import { join } from 'node:path';
import type { Dataset } from '@distilljs/core';
import { exampleShape, isFeatureDataset } from '@distilljs/core';
import { UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { datasetArg } from '../option-parsers.js';
import { renderTable } from '../results-table.js';
import * as toolkit from '../toolkit.js';
import { datasetFromFlags } from './train.js';

function classCounts(labels: ArrayLike<number>, numClasses: number): number[] {
  const c = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] as number;
    if (y >= 0 && y < numClasses) c[y]! += 1;
  }
  return c;
}

function meanValue(dataset: Dataset): number {
  const values = isFeatureDataset(dataset) ? dataset.train.features : dataset.train.images;
  let s = 0;
  for (const v of values) s += v;
  return values.length ? s / values.length / (isFeatureDataset(dataset) ? 1 : 255) : 0;
}

/**
 * `distill data inspect NAME|PATH`: classes with counts, shapes, the split, and (image folders) every file
 * that could not be read.
 */
export async function dataInspectCommand(
  opts: Record<string, unknown>,
  io: Io,
  args: string[],
): Promise<void> {
  let arg: ReturnType<typeof datasetArg>;
  try {
    arg = datasetArg(args[0] ?? '');
  } catch (error) {
    throw new UsageError(
      `data inspect: ${(error as Error).message.replace(/^expected/, 'dataset name: expected')}`,
    );
  }
  const spec = { ...(datasetFromFlags(opts) as toolkit.DatasetSpec), ...arg };
  const inspectSpec = arg.name === 'folder' ? { ...spec, skipBadFiles: true, allowUnlabelled: true } : spec;
  const { dataset, own } = await toolkit.loadDatasetWithExtras(inspectSpec);
  const unlabelled = 'unlabelled' in dataset && dataset.unlabelled === true;
  const info = {
    name: dataset.name,
    kind: isFeatureDataset(dataset) ? 'features' : 'images',
    shape: exampleShape(dataset),
    numClasses: dataset.numClasses,
    classNames: dataset.classNames,
    unlabelled,
    train: { count: dataset.train.count, classCounts: classCounts(dataset.train.labels, dataset.numClasses) },
    validation: {
      count: dataset.validation.count,
      classCounts: classCounts(dataset.validation.labels, dataset.numClasses),
      seed: dataset.validationSplit.seed,
    },
    test: { count: dataset.test.count, classCounts: classCounts(dataset.test.labels, dataset.numClasses) },
    meanValue: meanValue(dataset),
    ...(own ? { unreadable: own.badFiles, preprocessing: own.preprocessing } : {}),
  };
  if (opts.json) {
    println(io.stdout, JSON.stringify(info));
    return;
  }
  const what = info.kind === 'images' ? 'images' : 'examples';
  println(
    io.stdout,
    `${info.name}: ${info.train.count} train / ${info.validation.count} validation / ${info.test.count} test ${what} of [${info.shape.join(', ')}]${unlabelled ? ', unlabelled (a transfer set)' : `, ${info.numClasses} classes`}; mean ${info.kind === 'images' ? 'pixel' : 'feature'} ${info.meanValue.toFixed(4)} (train)`,
  );
  println(
    io.stdout,
    `validation: carved from the training examples (seeded with ${info.validation.seed}, stratified; --validation-size to change it); no model trains on it`,
  );
  if (!unlabelled) {
    println(
      io.stdout,
      renderTable(
        ['class', 'name', 'train', 'validation', 'test'],
        info.classNames.map((n, k) => [
          String(k),
          n,
          String(info.train.classCounts[k]),
          String(info.validation.classCounts[k]),
          String(info.test.classCounts[k]),
        ]),
      ),
    );
  }
  if (own) {
    println(io.stdout, `unreadable files: ${own.badFiles.length}`);
    for (const b of own.badFiles) println(io.stdout, `  ${join(spec.path ?? '', b.path)}: ${b.reason}`);
  }
}
