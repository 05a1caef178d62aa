import { describe, expect, it } from 'vitest';
import { parseNumber, parseRunSettings, parseTemperature, type RawRunSettings } from './run-settings.js';

const ctx = {
  models: ['mlp', 'mlp-small'],
  datasets: [{ id: 'mnist', trainCount: 8000, testCount: 2000 }],
};
const good: RawRunSettings = {
  dataset: 'mnist',
  teacherModel: 'mlp',
  studentModel: 'mlp-small',
  teacherEpochs: '3',
  studentEpochs: '3',
  temperature: '4',
  alpha: '0.9',
  trainSize: '8000',
  studentSize: '1000',
  testSize: '2000',
  batchSize: '64',
  learningRate: '0.001',
  seed: '42',
};

describe('parseNumber', () => {
  it('accepts plain decimal and exponent forms', () => {
    expect(parseNumber(' 4 ')).toBe(4);
    expect(parseNumber('0.5')).toBe(0.5);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('1e-3')).toBe(0.001);
  });
  it('rejects text, empty input, junk and infinities', () => {
    for (const t of ['', '  ', 'abc', '3x', 'NaN', 'Infinity', '1e999', '0x10', '1,5', undefined]) {
      expect(parseNumber(t), String(t)).toBeUndefined();
    }
  });
});

describe('parseRunSettings', () => {
  it('parses a valid form', () => {
    const r = parseRunSettings(good, ctx);
    expect(r.ok).toBe(true);
    if (r.ok)
      expect(r.settings).toMatchObject({ temperature: 4, alpha: 0.9, teacherEpochs: 3, trainSize: 8000 });
  });

  it('refuses a non-numeric temperature and says why', () => {
    const r = parseRunSettings({ ...good, temperature: 'hot' }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toEqual([
        { field: 'temperature', message: 'Temperature must be a number between 1 and 20; got "hot".' },
      ]);
    }
  });

  it('refuses out-of-range temperatures', () => {
    for (const t of ['0', '-2', '0.5', '21', '1000']) {
      const r = parseRunSettings({ ...good, temperature: t }, ctx);
      expect(r.ok, t).toBe(false);
    }
    expect(parseRunSettings({ ...good, temperature: '1' }, ctx).ok).toBe(true);
    expect(parseRunSettings({ ...good, temperature: '20' }, ctx).ok).toBe(true);
  });

  it('refuses fractional, zero, negative, empty or huge epoch counts', () => {
    for (const e of ['0', '-1', '2.5', '', 'ten', '51']) {
      const r = parseRunSettings({ ...good, teacherEpochs: e }, ctx);
      expect(r.ok, e).toBe(false);
      if (!r.ok)
        expect(r.problems[0]!.message).toMatch(/^Teacher epochs must be a whole number between 1 and 50/);
    }
  });

  it('reports every bad field at once', () => {
    const r = parseRunSettings({ ...good, alpha: '1.5', studentEpochs: 'x', trainSize: '9000' }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems.map((p) => p.field).sort()).toEqual(['alpha', 'studentEpochs', 'trainSize']);
      expect(r.problems.find((p) => p.field === 'trainSize')!.message).toContain('between 100 and 8000');
    }
  });

  it('a small dataset (a folder of your images) lowers the minimum sizes to what it holds', () => {
    const small = {
      ...ctx,
      datasets: [...ctx.datasets, { id: 'folder:clothes', trainCount: 120, testCount: 30 }],
    };
    const mine = { ...good, dataset: 'folder:clothes', trainSize: '120', studentSize: '100', testSize: '30' };
    expect(parseRunSettings(mine, small)).toMatchObject({
      ok: true,
      settings: { testSize: 30, studentSize: 100 },
    });
    const r = parseRunSettings({ ...mine, testSize: '31' }, small);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.problems[0]?.message).toBe(
        'Test examples must be a whole number between 30 and 30; got "31".',
      );
    // the built-in datasets keep their minimum of 100
    expect(parseRunSettings({ ...good, testSize: '30' }, small).ok).toBe(false);
  });

  it("refuses a student subset larger than the teacher's training examples, or too small", () => {
    const r = parseRunSettings({ ...good, trainSize: '2000', studentSize: '3000' }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems).toEqual([
        {
          field: 'studentSize',
          message: 'Student examples must be a whole number between 100 and 2000; got "3000".',
        },
      ]);
    }
    for (const n of ['50', '1.5', 'many', ''])
      expect(parseRunSettings({ ...good, studentSize: n }, ctx).ok, n).toBe(false);
    expect(parseRunSettings({ ...good, trainSize: '2000', studentSize: '2000' }, ctx)).toMatchObject({
      ok: true,
      settings: { trainSize: 2000, studentSize: 2000 },
    });
  });

  it('refuses models and datasets that are not offered', () => {
    const r = parseRunSettings({ ...good, teacherModel: 'gpt', dataset: 'imagenet' }, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems.map((p) => p.field).sort()).toEqual(['dataset', 'teacherModel']);
      expect(r.problems.find((p) => p.field === 'teacherModel')!.message).toContain('mlp, mlp-small');
    }
  });
});

describe('parseTemperature', () => {
  it('accepts the slider range and refuses the rest', () => {
    expect(parseTemperature('7.5')).toEqual({ ok: true, value: 7.5 });
    expect(parseTemperature('0')).toMatchObject({ ok: false });
    expect(parseTemperature('warm')).toEqual({
      ok: false,
      message: 'Temperature must be a number between 1 and 20; got "warm".',
    });
  });
});
