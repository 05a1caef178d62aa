import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkTeacherFiles,
  graphInputShape,
  graphOutputNames,
  manifestWeightCount,
  parseNormalizeField,
  teacherFileFacts,
} from './teacher-files.js';

// The committed graph-model fixture of @distilljs/models (a GraphDef as tensorflowjs_converter writes it).
const graphJson = readFileSync(
  fileURLToPath(new URL('../../../packages/models/src/__fixtures__/graph/graph/model.json', import.meta.url)),
  'utf8',
);
const layersJson = JSON.stringify({
  format: 'layers-model',
  modelTopology: { class_name: 'Sequential', config: {} },
  weightsManifest: [{ paths: ['./w.bin'], weights: [{ name: 'k', shape: [3, 2], dtype: 'float32' }] }],
});

describe('checkTeacherFiles', () => {
  it('one .onnx file is an ONNX teacher; with other files it is refused', () => {
    expect(checkTeacherFiles([{ name: 'net.ONNX', size: 9 }], () => '')).toEqual({
      ok: true,
      format: 'onnx',
      index: 0,
    });
    expect(
      checkTeacherFiles(
        [
          { name: 'a.onnx', size: 1 },
          { name: 'b.onnx', size: 1 },
        ],
        () => '',
      ),
    ).toEqual({
      ok: false,
      message:
        'Pick one teacher at a time: a.onnx, b.onnx holds 2 .onnx files; an ONNX teacher is a single .onnx file.',
    });
  });

  it('tells a graph model.json from a Layers one, and needs every weight file', () => {
    const graph = checkTeacherFiles(
      [
        { name: 'group1-shard1of1.bin', size: 20_528 },
        { name: 'model.json', size: 7_342 },
      ],
      (i) => (i === 1 ? graphJson : ''),
    );
    expect(graph).toMatchObject({ ok: true, format: 'graph', jsonIndex: 1, weightIndices: [0] });
    const layers = checkTeacherFiles(
      [
        { name: 'model.json', size: 1 },
        { name: 'w.bin', size: 24 },
      ],
      () => layersJson,
    );
    expect(layers).toMatchObject({ ok: true, format: 'layers', jsonIndex: 0, weightIndices: [1] });
    expect(checkTeacherFiles([{ name: 'model.json', size: 1 }], () => graphJson)).toEqual({
      ok: false,
      message:
        'model.json needs weight file(s) group1-shard1of1.bin: pick them together with the model.json.',
    });
    expect(checkTeacherFiles([{ name: 'cat.png', size: 5 }], () => '')).toEqual({
      ok: false,
      message:
        'cat.png is not a teacher: pick an .onnx file, or a tfjs model.json together with its .bin weight file(s).',
    });
    const odd = JSON.stringify({ modelTopology: { something: 1 }, weightsManifest: [] });
    expect(checkTeacherFiles([{ name: 'odd.json', size: 1 }], () => odd)).toEqual({
      ok: false,
      message:
        'odd.json is neither a tfjs Layers model nor a tfjs graph model (its "format" is null and its topology is neither a Keras model nor a GraphDef).',
    });
  });

  it("reads a graph model.json's outputs, input shape and weight count", () => {
    const json = JSON.parse(graphJson);
    expect(graphOutputNames(json)).toEqual(['Identity']);
    expect(graphInputShape(json)).toEqual([-1, 28, 28, 1]);
    expect(manifestWeightCount(json)).toBe(5_130);
    expect(manifestWeightCount(JSON.parse(layersJson))).toBe(6);
  });
});

describe('parseNormalizeField', () => {
  it('empty is none; MEAN,STD or one mean and one std per channel', () => {
    expect(parseNormalizeField(' ', 1)).toEqual({ ok: true, value: undefined });
    expect(parseNormalizeField('0.1307, 0.3081', 1)).toEqual({
      ok: true,
      value: { mean: [0.1307], std: [0.3081] },
    });
    expect(parseNormalizeField('0.5,0.4,0.3,0.2,0.2,0.2', 3)).toEqual({
      ok: true,
      value: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.2] },
    });
  });

  it('refuses what is not numbers, an odd count, a count that fits no channel, std <= 0', () => {
    for (const bad of ['x', '0.1', '0.1,0', '0.1,0.2,0.3,0.4', '0.1,-1']) {
      const r = parseNormalizeField(bad, 1);
      expect(r.ok, bad).toBe(false);
      if (!r.ok)
        expect(r.message).toBe(
          `Input normalisation must be MEAN,STD, with standard deviations > 0 (e.g. 0.1307,0.3081 for MNIST); got ${JSON.stringify(bad)}.`,
        );
    }
    const rgb = parseNormalizeField('1,2,3,4', 3);
    expect(rgb.ok).toBe(false);
    if (!rgb.ok)
      expect(rgb.message).toMatch(/MEAN,STD \(every channel\) or 3 means then 3 standard deviations/);
  });
});

describe('teacherFileFacts', () => {
  it('says the format, the input and its layout, classes, parameters, normalisation and the softmax head', () => {
    const facts = teacherFileFacts({
      file: 'net.onnx',
      format: 'ONNX (opset 13, made by pytorch)',
      modelInput: ['batch', 1, 28, 28],
      layout: 'NCHW',
      dataShape: [28, 28, 1],
      classes: 10,
      parameters: 105_866,
      output: 'probs',
      normalize: { mean: [0.1307], std: [0.3081] },
      notes: [
        "net.onnx: the output 'probs' comes from a Softmax node ('/Softmax'); using its log-probabilities",
      ],
    });
    expect(Object.fromEntries(facts)).toEqual({
      File: 'net.onnx',
      Format: 'ONNX (opset 13, made by pytorch)',
      Input: "[?, 1, 28, 28] (NCHW: the page's 28 × 28 × 1 images are transposed)",
      Output: 'probs',
      Classes: '10',
      Parameters: '105,866',
      'Input normalisation': '(x − 0.1307) / 0.3081 on pixels in [0, 1]',
      'Softmax head': 'log-probabilities used as logits (the same soft targets at every temperature)',
    });
    const flat = teacherFileFacts({
      file: 'm.json',
      format: 'tfjs Layers model',
      modelInput: [null, 784],
      layout: 'flat',
      dataShape: [28, 28, 1],
      classes: 10,
      parameters: undefined,
      output: undefined,
      normalize: undefined,
      notes: ["loadTeacher: m.json: the last layer 'd' (Dense) applies softmax; replaced it"],
    });
    expect(Object.fromEntries(flat)).toMatchObject({
      Input: "[?, 784] (flat: the page's 28 × 28 × 1 images are flattened)",
      Parameters: 'not known',
      'Input normalisation': 'none (pixels in [0, 1])',
      'Softmax head': 'removed: the logits are the softmax’s input (same weights)',
    });
    expect(Object.fromEntries(flat).Output).toBeUndefined();
  });
});
