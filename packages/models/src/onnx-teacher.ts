import {
  type Batch,
  ConfigError,
  InvalidArgumentError,
  InvalidFileError,
  invalidArgument,
  type Teacher,
  type TeacherLayout,
} from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { sha256Hex } from './layers-teacher.js';
import { type OnnxGraphInfo, readOnnxGraph } from './onnx-graph.js';

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
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** The output holding the class scores, when the model has several. */
  readonly output?: string;
  /** Examples per ONNX Runtime call for a model with a free batch dimension (default 256). */
  readonly batchSize?: number;
}

const fmt = (s: readonly (number | string | null)[]) =>
  `[${s.map((d) => (typeof d === 'number' ? d : '?')).join(', ')}]`;

/** Which layout the model's input has, given the data's NHWC example shape; throws with both shapes. */
function inputLayout(
  source: string,
  model: readonly (number | string | null)[],
  data: readonly number[],
): TeacherLayout {
  const dims = model.slice(1);
  const fits = (want: readonly number[]) =>
    dims.length === want.length && dims.every((d, i) => typeof d !== 'number' || d === want[i]);
  const size = data.reduce((a, b) => a * b, 1);
  if (data.length === 3) {
    const [h, w, c] = data as [number, number, number];
    if (fits([c, h, w]) && !(c !== 1 && fits([h, w, c]))) return 'NCHW';
    if (fits([h, w, c])) return 'NHWC';
  } else if (fits(data)) return data.length === 1 ? 'flat' : 'NHWC';
  if (dims.length === 1 && dims[0] === size) return 'flat';
  const nchw = data.length === 3 ? `, i.e. [${data[2]}, ${data[0]}, ${data[1]}] as NCHW` : '';
  throw new InvalidArgumentError(
    `${source}: the model takes input ${fmt(model)} but the data gives examples of ${fmt(data)} (NHWC${nchw}); use a teacher trained on data of this shape`,
    { where: source },
  );
}

function checkNormalize(source: string, norm: OnnxTeacherOptions['normalize'], channels: number) {
  if (!norm) return undefined;
  const expand = (v: readonly number[]) =>
    v.length === 1 ? Array.from({ length: channels }, () => v[0]!) : [...v];
  const mean = expand(norm.mean);
  const std = expand(norm.std);
  if (
    mean.length !== channels ||
    std.length !== channels ||
    std.some((s) => !(s > 0)) ||
    mean.some((m) => !Number.isFinite(m))
  ) {
    throw new ConfigError(
      `${source}: normalize needs 1 or ${channels} means and standard deviations > 0 (one per channel), got mean [${norm.mean}] std [${norm.std}]`,
      { where: `${source}(normalize)` },
    );
  }
  return { mean, std };
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
  const outputs = session.outputNames;
  let output = options.output;
  if (output === undefined && outputs.length > 1) {
    throw new ConfigError(
      `${source}: the model has ${outputs.length} outputs (${outputs.join(', ')}); choose the logits with --teacher-output NAME (option 'output')`,
      { where: source },
    );
  }
  output ??= outputs[0]!;
  if (!outputs.includes(output)) {
    throw new ConfigError(
      `${source}: no output named '${output}'; the model's outputs are ${outputs.join(', ')}`,
      { where: source },
    );
  }
  const inputName = session.inputNames[0]!;
  const inInfo = graph.inputs.find((i) => i.name === inputName);
  const outInfo = graph.outputs.find((o) => o.name === output);
  const inShape = inInfo?.shape ?? [];
  const layout = inputLayout(source, inShape, options.inputShape);
  const fixedBatch =
    typeof inShape[0] === 'number' && (inShape[0] as number) > 0 ? (inShape[0] as number) : undefined;
  const channels = options.inputShape.length === 3 ? options.inputShape[2]! : 1;
  const norm = checkNormalize(source, options.normalize, channels);
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
    const out = result[output!]!;
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
    prepared.dispose();
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
  if (options.numClasses !== undefined && options.numClasses !== numClasses) {
    throw new InvalidArgumentError(
      `${source}: the model outputs ${numClasses} classes ('${output}' ${fmt(outInfo?.shape ?? [])}) but the data has ${options.numClasses}; use a teacher trained on the same classes`,
      { where: source },
    );
  }
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
