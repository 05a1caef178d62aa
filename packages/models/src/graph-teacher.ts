import { type Batch, InvalidFileError, invalidArgument, type Teacher } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { sha256Hex } from './layers-teacher.js';
import {
  checkTeacherClasses,
  checkTeacherNormalize,
  chooseTeacherOutput,
  formatShape,
  type TeacherNormalize,
  teacherInputLayout,
} from './teacher-input.js';

/** The part of a tfjs-converter `GraphModel` a graph teacher uses. */
export interface GraphModelLike {
  readonly inputs: readonly { name: string; shape?: number[] }[];
  readonly outputs: readonly { name: string; shape?: number[] }[];
  readonly weights: Record<string, tf.Tensor[]>;
  execute(inputs: tf.Tensor, outputs?: string): tf.Tensor | tf.Tensor[];
  executeAsync(inputs: tf.Tensor, outputs?: string): Promise<tf.Tensor | tf.Tensor[]>;
  dispose(): void;
}

/** One node of a GraphDef (model.json's `modelTopology.node`). */
export interface GraphNodeDef {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
}

/** Options of a graph-model teacher. */
export interface GraphTeacherOptions {
  /** One example as the data gives it, NHWC (e.g. `[28, 28, 1]`) or flat; checked against the model's input. */
  readonly inputShape: readonly number[];
  /** The data's class count; checked against the model's output. */
  readonly numClasses?: number;
  /** Per-channel `(x - mean) / std` applied to the data's inputs before the model. */
  readonly normalize?: TeacherNormalize;
  /** The output holding the class scores, when the model has several. */
  readonly output?: string;
  /** The GraphDef's nodes (model.json's `modelTopology.node`): used to find a Softmax/LogSoftmax head. */
  readonly nodes?: readonly GraphNodeDef[];
}

const bareName = (name: string) => name.replace(/^\^/, '').replace(/:\d+$/, '');

/** The op that produces `output`, looking through Identity nodes (the converter ends graphs with one). */
export function graphHead(
  nodes: readonly GraphNodeDef[],
  output: string,
): { op: string; node: string } | undefined {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  let node = byName.get(bareName(output));
  for (let hops = 0; node && node.op === 'Identity' && hops < 16; hops++)
    node = byName.get(bareName(node.input?.[0] ?? ''));
  return node ? { op: node.op, node: node.name } : undefined;
}

function headNotes(source: string, output: string, head: { op: string; node: string } | undefined) {
  if (head?.op === 'Softmax')
    return [
      `${source}: the output '${output}' comes from a Softmax node ('${head.node}'); using its log-probabilities as logits (same soft targets at every temperature)`,
    ];
  if (head?.op === 'LogSoftmax')
    return [
      `${source}: the output '${output}' comes from a LogSoftmax node ('${head.node}'); its log-probabilities are used as logits`,
    ];
  return [];
}

async function weightsDigest(model: GraphModelLike, extra: unknown): Promise<string> {
  const chunks: Uint8Array[] = [new TextEncoder().encode(JSON.stringify(extra))];
  for (const name of Object.keys(model.weights).sort()) {
    for (const t of model.weights[name]!) {
      const v = (await t.data()) as Float32Array | Int32Array | Uint8Array;
      chunks.push(
        new TextEncoder().encode(`${name}:${t.dtype}:${t.shape.join('x')}`),
        new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
      );
    }
  }
  return sha256Hex(chunks);
}

/**
 * Runs the model once on zeros, so that an operator tfjs cannot run is reported when the teacher is loaded
 * (naming the node), and returns the class count.
 */
async function probeClasses(
  source: string,
  forward: (xs: tf.Tensor) => Promise<tf.Tensor2D>,
  shape: number[],
  options: GraphTeacherOptions,
): Promise<number> {
  const probe = tf.zeros(shape);
  try {
    const y = await forward(probe);
    y.dispose();
    return y.shape[1];
  } catch (err) {
    const msg = String((err as Error).message ?? err).split('\n')[0]!;
    const op = /op '([^']+)'|Custom op (\S+)/.exec(msg);
    const node = op ? options.nodes?.find((n) => n.op === (op[1] ?? op[2])) : undefined;
    const where = node ? ` (node '${node.name}', op ${node.op})` : '';
    throw new InvalidFileError(`${source}: TensorFlow.js cannot run the graph model${where}: ${msg}`, {
      where: source,
      cause: err,
    });
  } finally {
    probe.dispose();
  }
}

/**
 * A tfjs graph model (tfjs-converter's `tfjs_graph_model`, loaded with `loadGraphModel`) as a
 * {@link Teacher}. As for ONNX teachers: the input must fit the data (NHWC, NCHW or flat; both shapes named
 * otherwise), the class count must be the data's, one output is chosen when there are several, inputs can be
 * normalised per channel, and a Softmax (or LogSoftmax) head, found through trailing Identity nodes when
 * `nodes` is given, is turned into log-probabilities with a note. A fixed batch dimension is run in chunks,
 * the last padded. The teacher owns `model` and disposes it.
 */
export async function graphTeacher(
  model: GraphModelLike,
  source: string,
  options: GraphTeacherOptions,
): Promise<Teacher> {
  if (!model || typeof model.executeAsync !== 'function')
    invalidArgument('graphTeacher', 'model', 'a tfjs-converter GraphModel', model);
  if (!options || !Array.isArray(options.inputShape))
    invalidArgument(
      'graphTeacher',
      'options.inputShape',
      'the data example shape, e.g. [28, 28, 1]',
      options,
    );
  if (model.inputs.length !== 1) {
    invalidArgument(
      'graphTeacher',
      source,
      `a model with one input (this one has ${model.inputs.map((i) => i.name).join(', ')})`,
      model.inputs.length,
    );
  }
  const output = chooseTeacherOutput(
    source,
    model.outputs.map((o) => o.name),
    options.output,
  );
  const inShape = model.inputs[0]!.shape ?? [-1, ...options.inputShape];
  const layout = teacherInputLayout(source, inShape, options.inputShape);
  const fixedBatch = inShape[0] !== undefined && inShape[0] > 0 ? inShape[0] : undefined;
  const channels = options.inputShape.length === 3 ? options.inputShape[2]! : 1;
  const norm = checkTeacherNormalize(source, options.normalize, channels);
  const head = options.nodes ? graphHead(options.nodes, output) : undefined;
  const notes = headNotes(source, output, head);
  if (layout === 'NCHW')
    notes.push(
      `${source}: the model takes NCHW input ${formatShape(inShape)}; the data's NHWC batches are transposed`,
    );

  // execute() where the graph allows it; executeAsync() for control flow and dynamic shapes, which
  // execute() refuses (saying to use executeAsync).
  let dynamic = false;
  const execute = async (x: tf.Tensor): Promise<tf.Tensor> => {
    if (!dynamic) {
      try {
        return model.execute(x, output) as tf.Tensor;
      } catch (err) {
        if (!/executeAsync/.test(String((err as Error).message))) throw err;
        dynamic = true;
      }
    }
    return (await model.executeAsync(x, output)) as tf.Tensor;
  };
  const forward = async (xs: tf.Tensor): Promise<tf.Tensor2D> => {
    const n = xs.shape[0]!;
    const x = tf.tidy(() => {
      let v = xs;
      if (norm) v = tf.div(tf.sub(v, tf.tensor1d(norm.mean)), tf.tensor1d(norm.std));
      if (layout === 'NCHW') v = tf.transpose(v, [0, 3, 1, 2]);
      if (layout === 'flat') v = tf.reshape(v, [n, -1]);
      return v;
    });
    const chunk = fixedBatch ?? n;
    const parts: tf.Tensor[] = [];
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const part = tf.tidy(() => {
        const slice = tf.slice(x, s, m);
        return fixedBatch && m < fixedBatch
          ? tf.concat([slice, tf.zeros([fixedBatch - m, ...slice.shape.slice(1)])])
          : slice;
      });
      const y = await execute(part);
      part.dispose();
      parts.push(y.shape[0] === m ? y : tf.tidy(() => tf.slice(y, 0, m)));
      if (y.shape[0] !== m) y.dispose();
    }
    if (x !== xs) x.dispose();
    return tf.tidy(() => {
      const y = tf.reshape(parts.length === 1 ? parts[0]! : tf.concat(parts), [n, -1]) as tf.Tensor2D;
      tf.dispose(parts);
      return head?.op === 'Softmax' ? (tf.log(tf.maximum(y, 1e-30)) as tf.Tensor2D) : y;
    });
  };

  const declared = model.outputs.find((o) => o.name === output)?.shape;
  const numClasses = await probeClasses(source, forward, [fixedBatch ?? 1, ...options.inputShape], options);
  checkTeacherClasses(source, numClasses, options.numClasses, output, declared ?? [-1, numClasses]);
  const fingerprint = await weightsDigest(model, {
    nodes: options.nodes ?? null,
    output,
    norm: norm ?? null,
  });
  return {
    kind: 'graph',
    name: source,
    inputShape: [...options.inputShape],
    inputLayout: layout,
    numClasses,
    notes,
    logits: (batch: Batch) => forward(batch.xs),
    fingerprint: async () => fingerprint,
    dispose() {
      model.dispose();
    },
  };
}
