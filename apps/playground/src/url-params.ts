import type { RawRunSettings, RunSettings } from './run-settings.js';

const FIELDS: readonly (keyof RunSettings)[] = [
  'dataset',
  'teacherModel',
  'studentModel',
  'teacherEpochs',
  'studentEpochs',
  'temperature',
  'alpha',
  'trainSize',
  'studentSize',
  'testSize',
  'batchSize',
  'learningRate',
  'seed',
];

/** What a link can preset: form fields, the backend, and whether to start at once. */
export interface UrlPreset {
  readonly fields: RawRunSettings;
  readonly backend: string | undefined;
  readonly autorun: boolean;
}

/**
 * Reads `?backend=wasm&teacherEpochs=1&trainSize=500&studentSize=200&autorun=1` style presets. Values are raw text:
 * they go into the form and are checked like typed input, so a bad link shows the same messages.
 */
export function parseUrlPreset(search: string): UrlPreset {
  const params = new URLSearchParams(search);
  const fields: Partial<Record<keyof RunSettings, string>> = {};
  for (const f of FIELDS) {
    const v = params.get(f);
    if (v !== null) fields[f] = v;
  }
  const autorun = params.get('autorun');
  return {
    fields,
    backend: params.get('backend') ?? undefined,
    autorun: autorun === '1' || autorun === 'true',
  };
}

/** The query string that reproduces these settings. */
export function presetQuery(settings: RunSettings, backend: string): string {
  const params = new URLSearchParams({ backend });
  for (const f of FIELDS) params.set(f, String(settings[f]));
  return `?${params.toString()}`;
}
