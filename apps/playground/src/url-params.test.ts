import { describe, expect, it } from 'vitest';
import { parseRunSettings } from './run-settings.js';
import { parseUrlPreset, presetQuery } from './url-params.js';

describe('parseUrlPreset', () => {
  it('reads known fields, the backend and autorun; ignores the rest', () => {
    const p = parseUrlPreset('?backend=wasm&teacherEpochs=1&trainSize=500&autorun=1&evil=<script>');
    expect(p).toEqual({ fields: { teacherEpochs: '1', trainSize: '500' }, backend: 'wasm', autorun: true });
    expect(parseUrlPreset('').autorun).toBe(false);
  });

  it('round-trips settings through a query string', () => {
    const ctx = { models: ['a', 'b'], datasets: [{ id: 'mnist', trainCount: 8000, testCount: 2000 }] };
    const raw = {
      dataset: 'mnist',
      teacherModel: 'a',
      studentModel: 'b',
      teacherEpochs: '2',
      studentEpochs: '3',
      temperature: '2.5',
      alpha: '0.5',
      trainSize: '1000',
      studentSize: '500',
      testSize: '500',
      batchSize: '32',
      learningRate: '0.002',
      seed: '7',
    };
    const r = parseRunSettings(raw, ctx);
    if (!r.ok) throw new Error('expected valid settings');
    const back = parseUrlPreset(presetQuery(r.settings, 'cpu'));
    expect(back.backend).toBe('cpu');
    expect(back.fields).toEqual(raw);
  });
});
