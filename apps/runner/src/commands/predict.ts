import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { BackendRequest } from '@distilljs/core';
import { applyStandardization, decodeImageFile, parseFeatureRows, parseNpy } from '@distilljs/datasets';
import * as models from '@distilljs/models/node';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../exit-code.js';
import { type Io, println } from '../io.js';
import { type ModelSource, resolveModelSource } from '../model-source.js';
import {
  type ImagePreprocessing,
  imageInput,
  imagePreprocessingFor,
  type Preprocessing,
  readSavedPreprocessing,
  type TablePreprocessing,
} from '../preprocessing.js';
import * as toolkit from '../toolkit.js';
import { datasetFromFlags } from './train.js';

/** One input's prediction: the top classes and every class's probability (softmax of the logits). */
export interface Prediction {
  readonly input: string;
  readonly predicted: { readonly index: number; readonly className: string; readonly probability: number };
  readonly top: readonly {
    readonly index: number;
    readonly className: string;
    readonly probability: number;
  }[];
  readonly probabilities: readonly number[];
}

/** The saved preprocessing, else the run's or --dataset's; otherwise a usage error saying what to pass. */
async function preprocessingOf(source: ModelSource, opts: Record<string, unknown>): Promise<Preprocessing> {
  const saved = readSavedPreprocessing(source.modelJson);
  if (saved) return saved;
  const given = (opts.$given as string[] | undefined) ?? [];
  const spec = given.includes('dataset') ? (datasetFromFlags(opts) as toolkit.DatasetSpec) : source.dataset;
  if (!spec) {
    throw new UsageError(
      `${source.label} has no saved preprocessing (input size, normalisation, class names); pass --dataset NAME, the dataset it was trained on (e.g. --dataset mnist-embedded), or export it with \`distill export RUN_DIR --out DIR\`, which saves them with the model`,
    );
  }
  return imagePreprocessingFor((await toolkit.loadDataset(spec)) as never);
}

/** Extensions `distill predict` reads as images (what sharp decodes). */
const IMAGE_FILE = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;
/** Extensions `distill predict` reads as rows of a table. */
const TABLE_FILE = /\.(csv|tsv|tab|txt)(\.gz)?$/i;

/** The model's inputs, one per predicted example, with the name each prediction is printed under. */
interface Inputs {
  readonly names: string[];
  readonly xs: Float32Array[];
  readonly shape: readonly number[];
}

function mustExist(input: string): void {
  if (!existsSync(input)) throw new UsageError(`${input}: no such file`);
}

async function readImages(inputs: readonly string[], p: ImagePreprocessing): Promise<Inputs> {
  const { height, width, channels, resize } = p.image;
  const xs: Float32Array[] = [];
  for (const input of inputs) {
    mustExist(input);
    if (!IMAGE_FILE.test(input)) {
      throw new UsageError(
        `${input}: not an image file this model can take (.png, .jpg, .jpeg, .webp, .gif, .tiff, .avif)`,
      );
    }
    const bytes = await decodeImageFile(input, { imageSize: [height, width], channels, resize });
    xs.push(imageInput(bytes, p));
  }
  return { names: [...inputs], xs, shape: [height, width, channels] };
}

/** Standardised with the training part's statistics, as the training batches were. */
function standardized(row: Float32Array, p: TablePreprocessing): Float32Array {
  return p.standardization ? applyStandardization(row, p.standardization) : row;
}

function readNpyRows(input: string, p: TablePreprocessing, width: number): Inputs['xs'] {
  const array = parseNpy(new Uint8Array(readFileSync(input)), input);
  const [n = 0, ...rest] = array.shape;
  if (rest.join('x') !== p.featureShape.join('x')) {
    throw new UsageError(
      `${input}: holds an array of shape (${array.shape.join(', ')}), but this model takes (n, ${p.featureShape.join(', ')})`,
    );
  }
  return Array.from({ length: n }, (_, i) =>
    Float32Array.from(array.data.subarray(i * width, (i + 1) * width)),
  );
}

function readTables(inputs: readonly string[], p: TablePreprocessing): Inputs {
  const width = p.featureShape.reduce((a, b) => a * b, 1);
  const names: string[] = [];
  const xs: Float32Array[] = [];
  for (const input of inputs) {
    mustExist(input);
    if (/\.npy$/i.test(input)) {
      const rows = readNpyRows(input, p, width);
      rows.forEach((row, i) => {
        names.push(`${input}[${i}]`);
        xs.push(standardized(row, p));
      });
      continue;
    }
    if (!TABLE_FILE.test(input)) {
      throw new UsageError(
        `${input}: this model takes table rows (${width} features); give a .csv or .tsv file of rows, or a .npy array of shape (n, ${p.featureShape.join(', ')})`,
      );
    }
    const raw = readFileSync(input);
    const text = (/\.gz$/i.test(input) ? gunzipSync(raw) : raw).toString('utf8');
    const delimiter = /\.(tsv|tab)(\.gz)?$/i.test(input) ? '\t' : ',';
    const rows = parseFeatureRows(text, input, {
      width,
      delimiter,
      ...(p.featureNames ? { featureNames: p.featureNames } : {}),
    });
    rows.lines.forEach((line, i) => {
      names.push(`${input}:${line}`);
      xs.push(standardized(rows.features.slice(i * width, (i + 1) * width), p));
    });
  }
  return { names, xs, shape: p.featureShape };
}

function readInputs(inputs: readonly string[], p: Preprocessing): Promise<Inputs> | Inputs {
  return 'image' in p ? readImages(inputs, p) : readTables(inputs, p);
}

function checkInputShape(
  model: { inputs: { shape: (number | null)[] }[] },
  want: readonly number[],
  label: string,
) {
  const shape = model.inputs[0]?.shape.slice(1) ?? [];
  if (shape.length !== want.length || shape.some((d, i) => d !== null && d !== want[i])) {
    throw new UsageError(
      `${label} takes inputs [${shape.join(', ')}], but its preprocessing makes inputs of ${want.join('x')}; the preprocessing does not belong to this model`,
    );
  }
}

/** Runs the model on the inputs as one batch; returns softmax probabilities per input. */
function probabilities(model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] }, inputs: Inputs) {
  const { xs, shape } = inputs;
  const size = shape.reduce((a, b) => a * b, 1);
  const flat = new Float32Array(xs.length * size);
  xs.forEach((x, i) => {
    flat.set(x, i * size);
  });
  const probs = tf.tidy(() => {
    const out = model.predict(tf.tensor(flat, [xs.length, ...shape]));
    return tf.softmax(Array.isArray(out) ? (out[0] as tf.Tensor) : out);
  });
  const rows = probs.arraySync() as number[][];
  probs.dispose();
  return rows;
}

function toPrediction(input: string, probs: number[], classNames: readonly string[], k: number): Prediction {
  const order = probs.map((_, i) => i).sort((a, b) => (probs[b] as number) - (probs[a] as number));
  const entry = (index: number) => ({
    index,
    className: classNames[index] ?? String(index),
    probability: probs[index] as number,
  });
  const top = order.slice(0, k).map(entry);
  return { input, predicted: top[0] as Prediction['predicted'], top, probabilities: probs };
}

/**
 * `distill predict MODEL INPUTS... [--top K] [--json]`: classes of image files, or of the rows of CSV/TSV
 * tables and NPY arrays, with a saved model and the preprocessing saved with it.
 */
export async function predictCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const [ref, ...inputs] = args as [string, ...string[]];
  const source = resolveModelSource(ref, 'MODEL', opts.model as string | undefined);
  const pre = await preprocessingOf(source, opts);
  const read = await readInputs(inputs, pre);
  await toolkit.setupBackend((opts.backend as BackendRequest) ?? 'auto');
  const model = await models.loadModel(source.modelJson);
  let rows: number[][];
  try {
    checkInputShape(model, read.shape, source.label);
    rows = probabilities(model, read);
  } finally {
    model.dispose();
  }
  const k = Math.min((opts.top as number | undefined) ?? 3, pre.classNames.length || rows[0]?.length || 1);
  const predictions = read.names.map((name, i) => toPrediction(name, rows[i] as number[], pre.classNames, k));
  if (opts.json) {
    println(io.stdout, JSON.stringify({ model: source.label, predictions }));
    return;
  }
  for (const pr of predictions) {
    const top = pr.top.map((t) => `${t.className} ${(t.probability * 100).toFixed(2)}%`).join(', ');
    println(io.stdout, `${pr.input}: ${top}`);
  }
}
