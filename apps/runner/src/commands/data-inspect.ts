import { UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { datasetName } from '../option-parsers.js';
import { renderTable } from '../results-table.js';
import * as toolkit from '../toolkit.js';
import { datasetFromFlags } from './train.js';

/** `distill data inspect NAME`: sizes, shape, classes and class counts of a dataset. */
export async function dataInspectCommand(
  opts: Record<string, unknown>,
  io: Io,
  args: string[],
): Promise<void> {
  let name: string;
  try {
    name = datasetName(args[0] ?? '');
  } catch (error) {
    throw new UsageError(
      `data inspect: ${(error as Error).message.replace(/^expected/, 'dataset name: expected')}`,
    );
  }
  const dataset = await toolkit.loadDataset({
    ...(datasetFromFlags(opts) as toolkit.DatasetSpec),
    name: name as toolkit.DatasetSpec['name'],
  });
  const counts = (labels: Uint8Array) => {
    const c = new Array<number>(dataset.numClasses).fill(0);
    for (const y of labels) c[y]! += 1;
    return c;
  };
  const mean = (images: Uint8Array) => {
    let s = 0;
    for (const v of images) s += v;
    return images.length ? s / images.length / 255 : 0;
  };
  const info = {
    name: dataset.name,
    imageShape: dataset.imageShape,
    numClasses: dataset.numClasses,
    classNames: dataset.classNames,
    train: {
      count: dataset.train.count,
      classCounts: counts(dataset.train.labels),
      meanPixel: mean(dataset.train.images),
    },
    test: {
      count: dataset.test.count,
      classCounts: counts(dataset.test.labels),
      meanPixel: mean(dataset.test.images),
    },
  };
  if (opts.json) {
    println(io.stdout, JSON.stringify(info));
    return;
  }
  println(
    io.stdout,
    `${info.name}: ${info.train.count} train / ${info.test.count} test images of [${info.imageShape.join(', ')}], ${info.numClasses} classes; mean pixel ${info.train.meanPixel.toFixed(4)} (train)`,
  );
  println(
    io.stdout,
    renderTable(
      ['class', 'name', 'train', 'test'],
      info.classNames.map((n, k) => [
        String(k),
        n,
        String(info.train.classCounts[k]),
        String(info.test.classCounts[k]),
      ]),
    ),
  );
}
