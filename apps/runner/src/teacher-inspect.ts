import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import { type GraphNodeDef, graphHead, modelJsonKind, readOnnxGraph, softmaxHead } from '@distilljs/models';
import { loadModel } from '@distilljs/models/node';
import { teacherLogitsManifestSchema } from '@distilljs/trainer';
import { UsageError } from './exit-code.js';
import { resolveTeacherLocation } from './experiment-runner.js';
import { isLogitsDir } from './teacher-loader.js';

/** One input or output of a teacher file; `null` dimensions are free (the batch, symbolic sizes). */
export interface TensorSummary {
  readonly name: string;
  readonly shape: readonly (number | null)[] | null;
  /** For inputs: how one example is laid out (`NCHW`, `NHWC`, `flat`), when the shape tells. */
  readonly layout?: string;
}

/** What `distill models inspect` finds in a teacher file. */
export interface TeacherFileInfo {
  readonly file: string;
  /** `onnx`, `graph-model`, `layers-model` or `teacher-logits`. */
  readonly format: string;
  /** Format details: ONNX opset and producer, converter, dataset split of logits files. */
  readonly details: readonly string[];
  readonly inputs: readonly TensorSummary[];
  readonly outputs: readonly TensorSummary[];
  readonly numClasses: number | null;
  /** The softmax head, when the first output ends in one (its log-probabilities are used as logits). */
  readonly softmaxHead: string | null;
  /** Operator (ONNX, graph) or layer (Layers) counts, by type. */
  readonly ops: Readonly<Record<string, number>>;
  /** Number of weights (values in the initializers or weight files); `null` when not known. */
  readonly weights: number | null;
}

const dims = (shape: readonly (number | string | null)[] | undefined): (number | null)[] | null =>
  shape ? shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null)) : null;

/** The layout of one example from a model input shape (batch first), for images of 1 or 3 channels. */
function layoutOf(shape: readonly (number | null)[] | null): string | undefined {
  if (!shape) return undefined;
  const [, a, b, c] = shape;
  if (shape.length === 2) return 'flat';
  if (shape.length !== 4) return undefined;
  if ((a === 1 || a === 3) && b !== 1 && b !== 3) return 'NCHW';
  if ((c === 1 || c === 3) && a !== 1 && a !== 3) return 'NHWC';
  return undefined;
}

const countOps = (types: readonly string[]) => {
  const ops: Record<string, number> = {};
  for (const t of types) ops[t] = (ops[t] ?? 0) + 1;
  return ops;
};

const lastDim = (s: TensorSummary | undefined) =>
  s?.shape && s.shape.length >= 2 ? (s.shape.at(-1) ?? null) : null;

function inspectOnnx(file: string): TeacherFileInfo {
  const g = readOnnxGraph(new Uint8Array(readFileSync(file)), file);
  const inputs = g.inputs.map((i) => ({ name: i.name, shape: dims(i.shape) }));
  const outputs = g.outputs.map((o) => ({ name: o.name, shape: dims(o.shape) }));
  const first = g.outputs[0]?.name;
  const last = g.nodes.find((n) => first !== undefined && n.outputs.includes(first));
  const head =
    last && (last.opType === 'Softmax' || last.opType === 'LogSoftmax')
      ? `${last.opType} node '${last.name}'`
      : null;
  return {
    file,
    format: 'onnx',
    details: [
      `opset ${g.opset ?? '?'}`,
      `IR version ${g.irVersion}`,
      ...(g.producer ? [`producer ${g.producer}`] : []),
    ],
    inputs: inputs.map((i) => ({ ...i, ...withLayout(i.shape) })),
    outputs,
    numClasses: lastDim(outputs[0]),
    softmaxHead: head,
    ops: countOps(g.nodes.map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType))),
    weights: g.parameterCount,
  };
}

const withLayout = (shape: readonly (number | null)[] | null) => {
  const layout = layoutOf(shape);
  return layout ? { layout } : {};
};

interface GraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  modelTopology: { node: (GraphNodeDef & { attr?: Record<string, unknown> })[] };
  signature?: {
    inputs?: Record<string, { name: string; tensorShape?: { dim?: { size?: string }[] } }>;
    outputs?: Record<string, { name: string; tensorShape?: { dim?: { size?: string }[] } }>;
  };
  weightsManifest: { weights: { name: string; shape: number[]; dtype: string }[] }[];
}

const signatureShape = (t: { tensorShape?: { dim?: { size?: string }[] } } | undefined) =>
  t?.tensorShape?.dim ? dims(t.tensorShape.dim.map((d) => Number(d.size ?? -1))) : null;

function inspectGraphModel(file: string, json: GraphModelJson): TeacherFileInfo {
  const nodes = json.modelTopology.node;
  const placeholder = (name: string) => {
    const attr = nodes.find((n) => n.name === name)?.attr as
      | { shape?: { shape?: { dim?: { size?: string }[] } } }
      | undefined;
    return attr?.shape?.shape?.dim ? dims(attr.shape.shape.dim.map((d) => Number(d.size ?? -1))) : null;
  };
  const bare = (n: string) => n.replace(/:\d+$/, '');
  const inputs = json.signature?.inputs
    ? Object.values(json.signature.inputs).map((t) => ({
        name: bare(t.name),
        shape: signatureShape(t) ?? placeholder(bare(t.name)),
      }))
    : nodes.filter((n) => n.op === 'Placeholder').map((n) => ({ name: n.name, shape: placeholder(n.name) }));
  const outputs = json.signature?.outputs
    ? Object.values(json.signature.outputs).map((t) => ({ name: bare(t.name), shape: signatureShape(t) }))
    : [];
  const head = outputs[0] ? graphHead(nodes, outputs[0].name) : undefined;
  let weights = 0;
  for (const group of json.weightsManifest)
    for (const w of group.weights)
      if (w.dtype === 'float32' || w.dtype === 'float16') weights += w.shape.reduce((a, b) => a * b, 1);
  return {
    file,
    format: 'graph-model',
    details: [
      ...(json.convertedBy ? [`converted by ${json.convertedBy}`] : []),
      ...(json.generatedBy ? [`generated by TensorFlow ${json.generatedBy}`] : []),
    ],
    inputs: inputs.map((i) => ({ ...i, ...withLayout(i.shape) })),
    outputs,
    numClasses: lastDim(outputs[0]),
    softmaxHead:
      head && (head.op === 'Softmax' || head.op === 'LogSoftmax') ? `${head.op} node '${head.node}'` : null,
    ops: countOps(nodes.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder').map((n) => n.op)),
    weights,
  };
}

async function inspectLayersModel(file: string, location: string): Promise<TeacherFileInfo> {
  const model = await loadModel(location);
  try {
    const inputs = model.inputs.map((i) => ({ name: i.name, shape: dims(i.shape) }));
    const outputs = model.outputs.map((o) => ({ name: o.name, shape: dims(o.shape) }));
    return {
      file,
      format: 'layers-model',
      details: [`${model.layers.length} layers`],
      inputs: inputs.map((i) => ({ ...i, layout: 'NHWC' })),
      outputs,
      numClasses: lastDim(outputs[0]),
      softmaxHead: softmaxHead(model) ?? null,
      ops: countOps(model.layers.map((l) => l.getClassName())),
      weights: model.countParams(),
    };
  } finally {
    model.dispose();
  }
}

function inspectLogitsDir(dir: string): TeacherFileInfo {
  const file = join(dir, 'manifest.json');
  let m: ReturnType<typeof teacherLogitsManifestSchema.parse>;
  try {
    m = teacherLogitsManifestSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (cause) {
    const why =
      cause instanceof SyntaxError ? `not JSON (${cause.message})` : 'not a teacher-logits manifest';
    throw new InvalidFileError(`${file}: ${why}; see docs/teacher-logits.md`, { where: file, cause });
  }
  return {
    file: dir,
    format: 'teacher-logits',
    details: [
      `${m.count} examples of ${m.dataset.name}/${m.dataset.split} (pixels sha256 ${m.dataset.sha256.slice(0, 12)}…)`,
      `${m.dtype}${m.topK ? `, top-${m.topK} of ${m.numClasses} classes kept` : ', all classes kept'}`,
      `${m.shards.length} shard(s): ${m.shards.map((s) => `${s.logits.file} [${s.start}, ${s.end})`).join(', ')}`,
      ...(m.teacher ? [`written from ${m.teacher.kind} teacher ${m.teacher.name}`] : []),
    ],
    inputs: [],
    outputs: [{ name: 'logits', shape: [m.count, m.numClasses] }],
    numClasses: m.numClasses,
    softmaxHead: null,
    ops: {},
    weights: null,
  };
}

/**
 * What a teacher file is, without a dataset: an .onnx file (read with a protobuf reader, no ONNX Runtime
 * needed), a tfjs graph or Layers model.json (or its directory, or one of our run directories), or a
 * teacher-logits directory. Errors name the file.
 */
export async function inspectTeacherFile(ref: string): Promise<TeacherFileInfo> {
  if (!existsSync(ref))
    throw new UsageError(
      `models inspect ${ref}: no such file or directory; give an .onnx file, a model.json, or a directory`,
    );
  if (/\.onnx$/i.test(ref)) return inspectOnnx(ref);
  if (isLogitsDir(ref)) return inspectLogitsDir(ref);
  const location = resolveTeacherLocation(ref);
  const file = location.endsWith('.json') ? location : join(location, 'model.json');
  if (statSync(location).isFile() && !location.endsWith('.json')) {
    throw new UsageError(
      `models inspect ${ref}: not a teacher file this command knows; give an .onnx file, a tfjs model.json (Layers or graph), a run directory or a teacher-logits directory`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new InvalidFileError(
      `${file}: not JSON (${(cause as Error).message}); expected a tfjs model.json`,
      {
        where: file,
        cause,
      },
    );
  }
  const kind = modelJsonKind(json);
  if (kind === 'graph') return inspectGraphModel(file, json as GraphModelJson);
  if (kind === 'layers') return inspectLayersModel(file, location);
  throw new InvalidFileError(
    `${file}: JSON, but neither a tfjs graph model (format 'graph-model', modelTopology.node) nor a Layers model (a Keras modelTopology)`,
    { where: file },
  );
}

const shapeText = (s: readonly (number | null)[] | null) =>
  s ? `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]` : '(shape not recorded)';

/** The lines `distill models inspect` prints. */
export function formatTeacherInfo(info: TeacherFileInfo): string[] {
  const lines = [
    `${info.file}`,
    `  format: ${info.format}${info.details.length ? ` (${info.details.join('; ')})` : ''}`,
  ];
  for (const i of info.inputs)
    lines.push(`  input: ${i.name} ${shapeText(i.shape)}${i.layout ? `, layout ${i.layout}` : ''}`);
  for (const o of info.outputs) lines.push(`  output: ${o.name} ${shapeText(o.shape)}`);
  if (info.outputs.length > 1)
    lines.push(`  (${info.outputs.length} outputs: choose the logits with --teacher-output NAME)`);
  lines.push(`  classes: ${info.numClasses ?? 'not recorded (found when the teacher is loaded)'}`);
  lines.push(
    `  softmax head: ${info.softmaxHead ? `${info.softmaxHead} (its log-probabilities are used as logits)` : 'none'}`,
  );
  const ops = Object.entries(info.ops);
  if (ops.length)
    lines.push(
      `  ${info.format === 'layers-model' ? 'layers' : 'operators'}: ${ops.map(([k, n]) => `${k} x${n}`).join(', ')}`,
    );
  if (info.weights !== null) lines.push(`  weights: ${info.weights.toLocaleString('en-US')}`);
  return lines;
}
