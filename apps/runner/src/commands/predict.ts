import { existsSync } from 'node:fs';
import type { BackendRequest } from '@distilljs/core';
import * as models from '@distilljs/models/node';
import * as tf from '@tensorflow/tfjs-core';
import { UsageError } from '../exit-code.js';
import { decodeImageForModel, IMAGE_FILE } from '../image-file.js';
import { type Io, println } from '../io.js';
import { type ModelSource, resolveModelSource } from '../model-source.js';
import {
  type ImagePreprocessing,
  imageInput,
  imagePreprocessingFor,
  type Preprocessing,
  readSavedPreprocessing,
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

function imageOnly(p: Preprocessing): ImagePreprocessing {
  if ('image' in p) return p;
  throw new UsageError(
    `this model takes table rows (${p.featureShape.join('x')} features); CSV rows for prediction are not read yet`,
  );
}

async function readInputs(inputs: readonly string[], p: ImagePreprocessing): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const input of inputs) {
    if (!existsSync(input)) throw new UsageError(`${input}: no such file`);
    if (!IMAGE_FILE.test(input)) {
      throw new UsageError(
        `${input}: not an image file this model can take (.png, .jpg, .jpeg, .webp, .gif, .bmp, .tiff, .avif)`,
      );
    }
    out.push(imageInput(await decodeImageForModel(input, p), p));
  }
  return out;
}

function checkInputShape(
  model: { inputs: { shape: (number | null)[] }[] },
  p: ImagePreprocessing,
  label: string,
) {
  const shape = model.inputs[0]?.shape.slice(1) ?? [];
  const want = [p.image.height, p.image.width, p.image.channels];
  if (shape.length !== 3 || shape.some((d, i) => d !== null && d !== want[i])) {
    throw new UsageError(
      `${label} takes inputs [${shape.join(', ')}], but its preprocessing makes ${want.join('x')} images; the preprocessing does not belong to this model`,
    );
  }
}

/** Runs the model on the inputs as one batch; returns softmax probabilities per input. */
function probabilities(
  model: { predict(x: tf.Tensor): tf.Tensor | tf.Tensor[] },
  xs: Float32Array[],
  p: ImagePreprocessing,
) {
  const { height, width, channels } = p.image;
  const flat = new Float32Array(xs.length * height * width * channels);
  xs.forEach((x, i) => {
    flat.set(x, i * x.length);
  });
  const probs = tf.tidy(() => {
    const out = model.predict(tf.tensor4d(flat, [xs.length, height, width, channels]));
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

/** `distill predict MODEL INPUTS... [--top K] [--json]`: classes of image files with a saved model. */
export async function predictCommand(opts: Record<string, unknown>, io: Io, args: string[]): Promise<void> {
  const [ref, ...inputs] = args as [string, ...string[]];
  const source = resolveModelSource(ref, 'MODEL', opts.model as string | undefined);
  const image = imageOnly(await preprocessingOf(source, opts));
  const xs = await readInputs(inputs, image);
  await toolkit.setupBackend((opts.backend as BackendRequest) ?? 'auto');
  const model = await models.loadModel(source.modelJson);
  let rows: number[][];
  try {
    checkInputShape(model, image, source.label);
    rows = probabilities(model, xs, image);
  } finally {
    model.dispose();
  }
  const k = Math.min((opts.top as number | undefined) ?? 3, image.classNames.length || rows[0]?.length || 1);
  const predictions = inputs.map((input, i) => toPrediction(input, rows[i] as number[], image.classNames, k));
  if (opts.json) {
    println(io.stdout, JSON.stringify({ model: source.label, predictions }));
    return;
  }
  for (const pr of predictions) {
    const top = pr.top.map((t) => `${t.className} ${(t.probability * 100).toFixed(2)}%`).join(', ');
    println(io.stdout, `${pr.input}: ${top}`);
  }
}
