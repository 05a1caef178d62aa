import { describe, expect, it } from 'vitest';
import { checkModelFiles } from './model-files.js';

const model = JSON.stringify({
  modelTopology: { class_name: 'Sequential' },
  weightsManifest: [{ paths: ['./student.weights.bin'], weights: [] }],
});

describe('checkModelFiles', () => {
  it('accepts model.json with its weights', () => {
    const files = [
      { name: 'student.weights.bin', size: 100 },
      { name: 'student.json', size: 10 },
    ];
    expect(checkModelFiles(files, () => model)).toEqual({ ok: true, jsonIndex: 1, weightIndices: [0] });
  });

  it('says a picture is not a model', () => {
    const r = checkModelFiles([{ name: 'cat.png', size: 5 }], () => '');
    expect(r).toEqual({
      ok: false,
      message:
        'cat.png is not a model: a tfjs model is a model.json file plus its .bin weight file(s); pick them together.',
    });
  });

  it('says broken JSON and JSON without a topology are not models', () => {
    const bad = checkModelFiles([{ name: 'model.json', size: 3 }], () => '{oops');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/^model\.json is not a model: it is not valid JSON/);
    const other = checkModelFiles([{ name: 'package.json', size: 3 }], () => '{"name":"x"}');
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.message).toMatch(/no "modelTopology"/);
  });

  it('names missing weight files', () => {
    const r = checkModelFiles([{ name: 'student.json', size: 10 }], () => model);
    expect(r).toEqual({
      ok: false,
      message:
        'student.json needs weight file(s) student.weights.bin: pick them together with the model.json.',
    });
  });

  it('says when nothing was picked', () => {
    expect(checkModelFiles([], () => '')).toMatchObject({ ok: false });
  });
});
