import {
  type Batch,
  ConfigError,
  InvalidArgumentError,
  InvalidFileError,
  invalidArgument,
  type Teacher,
} from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { sha256Hex } from './layers-teacher.js';
import { type OnnxGraphInfo, readOnnxGraph } from './onnx-graph.js';
import {
  checkTeacherClasses,
  checkTeacherNormalize,
  chooseTeacherOutput,
  formatShape as fmt,
  type TeacherNormalize,
  teacherInputLayout,
} from './teacher-input.js';

/** The part of onnxruntime-node / onnxruntime-web's API an ONNX teacher uses. */
export interface OrtModule {
  InferenceSession: {
    create(bytes: Uint8Array, options?: unknown): Promise<OrtSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

/** An ONNX Runtime inference session (the fields used here). */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release?(): Promise<void>;
}

/** Options of an ONNX teacher. */
export interface OnnxTeacherOptions {
  /** One example as the data gives it, NHWC (e.g. `[28, 28, 1]`) or flat; checked against the model's input. */
  readonly inputShape: readonly number[];
  /** The data's class count; checked against the model's output. */
  readonly numClasses?: number;
  /** Per-channel `(x - mean) / std` applied to the data's inputs before the model (as PyTorch's Normalize). */
  readonly normalize?: TeacherNormalize;
  /** The output holding the class scores, when the model has several. */
  readonly output?: string;
  /** Examples per ONNX Runtime call for a model with a free batch dimension (default 256). */
  readonly batchSize?: number;
}

async function createSession(
  ort: OrtModule,
  bytes: Uint8Array,
  source: string,
  graph: OnnxGraphInfo,
): Promise<OrtSession> {
  try {
    return await ort.InferenceSession.create(bytes);
  } catch (err) {
    const msg = String((err as Error).message ?? err).split('\n')[0]!;
    const inNode = /In Node, \("([^"]*)", ([\w.]+)/.exec(msg);
    const named = /No Op registered for ([\w.]+)|implementation for ([\w.]+)/.exec(msg);
    const opType = inNode?.[2] ?? named?.[1] ?? named?.[2];
    const node = graph.nodes.find((n) => (inNode ? n.name === inNode[1] : n.opType === opType));
    const where = node
      ? ` (node '${node.name}', op ${node.domain ? `${node.domain}.` : ''}${node.opType})`
      : '';
    throw new InvalidFileError(`${source}: ONNX Runtime cannot load the model${where}: ${msg}`, {
      where: source,
      cause: err,
    });
  }
}

/**
 * An ONNX model (e.g. from `torch.onnx.export`) as a {@link Teacher}, run by ONNX Runtime (`ort`: the
 * onnxruntime-node or onnxruntime-web module). Handles what real exports look like: NCHW inputs (the data's
 * NHWC batches are transposed), a fixed or free batch dimension (fixed: run in chunks, the last padded),
 * per-channel input normalisation, a final Softmax (its log is used as logits, with a note) or LogSoftmax
 * node, and several outputs (`output` picks one; without it the teacher is refused, listing them).
 */
export async function onnxTeacherFromBytes(
  ort: OrtModule,
  bytes: Uint8Array,
  source: string,
  options: OnnxTeacherOptions,
): Promise<Teacher> {
  if (!options || !Array.isArray(options.inputShape))
    invalidArgument(
      'onnxTeacher',
      'options.inputShape',
      'the data example shape, e.g. [28, 28, 1]',
      options?.inputShape,
    );
  const graph = readOnnxGraph(bytes, source);
  const session = await createSession(ort, bytes, source, graph);
  if (session.inputNames.length !== 1) {
    throw new ConfigError(
      `${source}: the model has ${session.inputNames.length} inputs (${session.inputNames.join(', ')}); a teacher takes one batch of examples`,
      { where: source },
    );
  }
  const output = chooseTeacherOutput(source, session.outputNames, options.output);
  const inputName = session.inputNames[0]!;
  const inInfo = graph.inputs.find((i) => i.name === inputName);
  const outInfo = graph.outputs.find((o) => o.name === output);
  const inShape = inInfo?.shape ?? [];
  const layout = teacherInputLayout(source, inShape, options.inputShape);
  const fixedBatch =
    typeof inShape[0] === 'number' && (inShape[0] as number) > 0 ? (inShape[0] as number) : undefined;
  const channels = options.inputShape.length === 3 ? options.inputShape[2]! : 1;
  const norm = checkTeacherNormalize(source, options.normalize, channels);
  const last = graph.nodes.find((n) => n.outputs.includes(output));
  const head = last?.opType === 'Softmax' || last?.opType === 'LogSoftmax' ? last.opType : undefined;
  const notes: string[] = [];
  if (head === 'Softmax')
    notes.push(
      `${source}: the output '${output}' comes from a Softmax node ('${last!.name}'); using its log-probabilities as logits (same soft targets at every temperature)`,
    );
  if (head === 'LogSoftmax')
    notes.push(
      `${source}: the output '${output}' comes from a LogSoftmax node ('${last!.name}'); its log-probabilities are used as logits`,
    );
  if (layout === 'NCHW')
    notes.push(
      `${source}: the model takes NCHW input ${fmt(inShape)}; the data's NHWC batches are transposed`,
    );

  const run = async (x: Float32Array, n: number): Promise<Float32Array> => {
    const dims =
      layout === 'flat'
        ? [n, x.length / n]
        : layout === 'NCHW'
          ? [n, channels, options.inputShape[0]!, options.inputShape[1]!]
          : [n, ...options.inputShape];
    const result = await session.run({ [inputName]: new ort.Tensor('float32', x, dims) });
    const out = result[output]!;
    if (out.dims.length !== 2 || out.dims[0] !== n) {
      throw new InvalidArgumentError(
        `${source}: output '${output}' has shape ${fmt(out.dims)} for ${n} examples; expected [${n}, classes]`,
        { where: source },
      );
    }
    return Float32Array.from(out.data as ArrayLike<number>);
  };
  const prepare = (xs: tf.Tensor) =>
    tf.tidy(() => {
      let x = xs as tf.Tensor;
      if (norm) x = tf.div(tf.sub(x, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std));
      if (layout === 'NCHW') x = tf.transpose(x, [0, 3, 1, 2]);
      return x;
    });
  const chunk = fixedBatch ?? options.batchSize ?? 256;
  const logitsOf = async (xs: tf.Tensor): Promise<{ values: Float32Array; classes: number }> => {
    const n = xs.shape[0]!;
    const prepared = prepare(xs);
    const data = (await prepared.data()) as Float32Array;
    if (prepared !== xs) prepared.dispose(); // prepare() returns xs itself when there is nothing to do
    const per = data.length / n;
    const parts: Float32Array[] = [];
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      let x = data.subarray(s * per, (s + m) * per);
      if (fixedBatch && m < fixedBatch) {
        const padded = new Float32Array(fixedBatch * per);
        padded.set(x);
        x = padded;
      }
      const y = await run(Float32Array.from(x), fixedBatch ?? m);
      parts.push(y.subarray(0, m * (y.length / (fixedBatch ?? m))));
    }
    const values = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let off = 0;
    for (const p of parts) {
      values.set(p, off);
      off += p.length;
    }
    if (head === 'Softmax')
      for (let i = 0; i < values.length; i++) values[i] = Math.log(Math.max(values[i]!, 1e-30));
    return { values, classes: values.length / n };
  };
  const declared = outInfo?.shape.at(-1);
  let numClasses = typeof declared === 'number' ? declared : 0;
  if (!numClasses) {
    const probe = tf.zeros([1, ...options.inputShape]);
    numClasses = (await logitsOf(probe)).classes;
    probe.dispose();
  }
  checkTeacherClasses(source, numClasses, options.numClasses, output, outInfo?.shape);
  const fingerprint = await sha256Hex([
    bytes,
    new TextEncoder().encode(JSON.stringify({ output, norm: norm ?? null })),
  ]);
  return {
    kind: 'onnx',
    name: source,
    inputShape: [...options.inputShape],
    inputLayout: layout,
    numClasses,
    notes,
    async logits(batch: Batch) {
      const { values } = await logitsOf(batch.xs);
      return tf.tensor2d(values, [batch.xs.shape[0]!, numClasses]);
    },
    fingerprint: async () => fingerprint,
    async dispose() {
      await session.release?.();
    },
  };
}
