import { modelJsonKind } from '@distilljs/models';
import { checkModelFiles, type PickedFile } from './model-files.js';

/** What a set of picked (or dropped) teacher files is. */
export type TeacherFilesCheck =
  | { readonly ok: true; readonly format: 'onnx'; readonly index: number }
  | {
      readonly ok: true;
      readonly format: 'layers' | 'graph';
      readonly jsonIndex: number;
      readonly weightIndices: readonly number[];
      /** The model.json, parsed. */
      readonly json: TfjsModelJson;
    }
  | { readonly ok: false; readonly message: string };

/** The parts of a tfjs model.json the page reads (graph and Layers models). */
export interface TfjsModelJson {
  readonly format?: string;
  readonly convertedBy?: string | null;
  readonly generatedBy?: string;
  readonly signature?: {
    readonly inputs?: Record<string, SignatureTensor>;
    readonly outputs?: Record<string, SignatureTensor>;
  };
  readonly weightsManifest?: readonly {
    readonly weights?: readonly { readonly shape: readonly number[]; readonly dtype: string }[];
  }[];
}

interface SignatureTensor {
  readonly name?: string;
  readonly tensorShape?: { readonly dim?: readonly { readonly size?: string | number }[] };
}

const isOnnx = (f: PickedFile) => f.name.toLowerCase().endsWith('.onnx');

/**
 * Tells what the picked files are: one `.onnx` file, or a tfjs model.json (Layers or graph model) with all
 * the `.bin` weight files its manifest names. Anything else gets one sentence saying what was picked and
 * what a teacher file is.
 */
export function checkTeacherFiles(
  files: readonly PickedFile[],
  jsonText: (index: number) => string,
): TeacherFilesCheck {
  const onnx = files.filter(isOnnx);
  if (onnx.length > 0) {
    if (files.length === 1) return { ok: true, format: 'onnx', index: 0 };
    return {
      ok: false,
      message: `Pick one teacher at a time: ${files.map((f) => f.name).join(', ')} holds ${onnx.length === 1 ? 'an .onnx file and other files' : `${onnx.length} .onnx files`}; an ONNX teacher is a single .onnx file.`,
    };
  }
  if (files.length > 0 && !files.some((f) => f.name.toLowerCase().endsWith('.json'))) {
    return {
      ok: false,
      message: `${files.map((f) => f.name).join(', ')} is not a teacher: pick an .onnx file, or a tfjs model.json together with its .bin weight file(s).`,
    };
  }
  const check = checkModelFiles(files, jsonText);
  if (!check.ok) return check;
  const json = JSON.parse(jsonText(check.jsonIndex)) as TfjsModelJson;
  const kind = modelJsonKind(json);
  if (!kind) {
    return {
      ok: false,
      message: `${files[check.jsonIndex]!.name} is neither a tfjs Layers model nor a tfjs graph model (its "format" is ${JSON.stringify(json.format ?? null)} and its topology is neither a Keras model nor a GraphDef).`,
    };
  }
  return { ok: true, format: kind, jsonIndex: check.jsonIndex, weightIndices: check.weightIndices, json };
}

/** The output names of a graph model.json's signature (as tfjs names them: without `:0`). */
export function graphOutputNames(json: TfjsModelJson): string[] {
  return Object.values(json.signature?.outputs ?? {})
    .map((o) => o.name?.replace(/:\d+$/, '') ?? '')
    .filter((n) => n !== '');
}

/** A graph model.json's input shape from its signature (`-1` for a free dimension), when it has one. */
export function graphInputShape(json: TfjsModelJson): number[] | undefined {
  const first = Object.values(json.signature?.inputs ?? {})[0];
  const dims = first?.tensorShape?.dim;
  return dims ? dims.map((d) => Number(d.size ?? -1)) : undefined;
}

/** Number of float weights a tfjs model.json's manifest lists. */
export function manifestWeightCount(json: TfjsModelJson): number {
  let n = 0;
  for (const group of json.weightsManifest ?? [])
    for (const w of group.weights ?? [])
      if (w.dtype === 'float32' || w.dtype === 'float16') n += w.shape.reduce((a, b) => a * b, 1);
  return n;
}

/** Per-channel input normalisation typed in the page: `MEAN,STD` or `M1,..,Mc,S1,..,Sc`. */
export type NormalizeField =
  | { readonly ok: true; readonly value: { mean: number[]; std: number[] } | undefined }
  | { readonly ok: false; readonly message: string };

/** Reads the normalisation field for images of `channels` channels; empty means none. */
export function parseNormalizeField(text: string, channels: number): NormalizeField {
  const t = text.trim();
  if (t === '') return { ok: true, value: undefined };
  const parts = t.split(',').map((s) => Number(s.trim()));
  const half = parts.length / 2;
  const counts = half === 1 || half === channels;
  if (
    parts.length % 2 !== 0 ||
    !counts ||
    !parts.every(Number.isFinite) ||
    parts.slice(half).some((s) => s <= 0)
  ) {
    const per =
      channels === 1
        ? 'MEAN,STD'
        : `MEAN,STD (every channel) or ${channels} means then ${channels} standard deviations`;
    return {
      ok: false,
      message: `Input normalisation must be ${per}, with standard deviations > 0 (e.g. 0.1307,0.3081 for MNIST); got ${JSON.stringify(text)}.`,
    };
  }
  return { ok: true, value: { mean: parts.slice(0, half), std: parts.slice(half) } };
}

/** A shape for people: `[?, 1, 28, 28]`. */
export function shapeText(shape: readonly (number | string | null | undefined)[]): string {
  return `[${shape.map((d) => (typeof d === 'number' && d >= 0 ? d : '?')).join(', ')}]`;
}

/** What the page shows about a loaded teacher file. */
export interface TeacherFileInfo {
  readonly file: string;
  /** `ONNX`, `tfjs graph model`, `tfjs Layers model`, with what made it in brackets when known. */
  readonly format: string;
  /** The model's own input shape, batch first. */
  readonly modelInput: readonly (number | string | null)[] | undefined;
  readonly layout: string;
  /** The page dataset's image shape (NHWC). */
  readonly dataShape: readonly number[];
  readonly classes: number;
  readonly parameters: number | undefined;
  readonly output: string | undefined;
  readonly normalize: { mean: readonly number[]; std: readonly number[] } | undefined;
  /** The loader's notes (softmax head, transposition, ...). */
  readonly notes: readonly string[];
}

/** The facts shown in the teacher card, as `[term, value]` pairs. */
export function teacherFileFacts(info: TeacherFileInfo): [string, string][] {
  const [h, w, c] = info.dataShape;
  const layout =
    info.layout === 'NCHW'
      ? `NCHW: the page's ${h} × ${w} × ${c} images are transposed`
      : info.layout === 'flat'
        ? `flat: the page's ${info.dataShape.join(' × ')} images are flattened`
        : `${info.layout}, as the page's images`;
  const facts: [string, string][] = [
    ['File', info.file],
    ['Format', info.format],
    ['Input', `${info.modelInput ? shapeText(info.modelInput) : '?'} (${layout})`],
  ];
  if (info.output !== undefined) facts.push(['Output', info.output]);
  facts.push(['Classes', String(info.classes)]);
  facts.push([
    'Parameters',
    info.parameters === undefined ? 'not known' : info.parameters.toLocaleString('en-US'),
  ]);
  facts.push([
    'Input normalisation',
    info.normalize
      ? `(x − ${info.normalize.mean.join(', ')}) / ${info.normalize.std.join(', ')} on pixels in [0, 1]`
      : 'none (pixels in [0, 1])',
  ]);
  const head = info.notes.find((n) => /Softmax node/.test(n));
  if (head) {
    facts.push([
      'Softmax head',
      /LogSoftmax/.test(head)
        ? 'its log-probabilities are used as logits'
        : 'log-probabilities used as logits (the same soft targets at every temperature)',
    ]);
  }
  const removed = info.notes.find((n) => /applies softmax/.test(n));
  if (removed)
    facts.push(['Softmax head', 'removed: the logits are the softmax\u2019s input (same weights)']);
  return facts;
}
