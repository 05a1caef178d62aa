/** Everything one run of the playground needs, parsed and checked. */
export interface RunSettings {
  readonly dataset: string;
  readonly teacherModel: string;
  readonly studentModel: string;
  readonly teacherEpochs: number;
  readonly studentEpochs: number;
  readonly temperature: number;
  readonly alpha: number;
  readonly trainSize: number;
  /**
   * How many of the training examples the two students see (the first `studentSize` of the teacher's
   * `trainSize`, balanced across classes): a small transfer set is where soft targets help most.
   */
  readonly studentSize: number;
  readonly testSize: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
}

/** The raw text of each form field (what an `<input>` holds). */
export type RawRunSettings = { readonly [K in keyof RunSettings]?: string };

/** One field that cannot start a run, and why. */
export interface SettingsProblem {
  readonly field: keyof RunSettings;
  readonly message: string;
}

export type ParseResult =
  | { readonly ok: true; readonly settings: RunSettings }
  | { readonly ok: false; readonly problems: readonly SettingsProblem[] };

/** What the page offers; the limits a field is checked against. */
export interface SettingsContext {
  readonly models: readonly string[];
  readonly datasets: readonly {
    readonly id: string;
    readonly trainCount: number;
    readonly testCount: number;
  }[];
}

/** Allowed ranges, shared by the form's min/max attributes and the checks. */
export const LIMITS = {
  epochs: { min: 1, max: 50 },
  temperature: { min: 1, max: 20 },
  alpha: { min: 0, max: 1 },
  trainSize: { min: 100 },
  studentSize: { min: 100 },
  testSize: { min: 100 },
  batchSize: { min: 1, max: 1024 },
  learningRate: { min: 1e-5, max: 1 },
} as const;

const LABELS: Record<keyof RunSettings, string> = {
  dataset: 'Dataset',
  teacherModel: 'Teacher model',
  studentModel: 'Student model',
  teacherEpochs: 'Teacher epochs',
  studentEpochs: 'Student epochs',
  temperature: 'Temperature',
  alpha: 'Alpha',
  trainSize: 'Training examples',
  studentSize: 'Student examples',
  testSize: 'Test examples',
  batchSize: 'Batch size',
  learningRate: 'Learning rate',
  seed: 'Seed',
};

/** Human label of a field, as the form shows it. */
export function fieldLabel(field: keyof RunSettings): string {
  return LABELS[field];
}

/**
 * Parses a number the way a person types it: trims, rejects empty text, text with trailing junk
 * (`"3x"`), `NaN` and infinities. Returns undefined when it is not a finite number.
 */
export function parseNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (t === '' || !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const v = Number(t);
  return Number.isFinite(v) ? v : undefined;
}

function show(text: string | undefined): string {
  if (text === undefined || text.trim() === '') return 'nothing';
  const t = text.trim();
  return JSON.stringify(t.length > 24 ? `${t.slice(0, 21)}...` : t);
}

/**
 * Checks the form. Every problem is reported (not just the first), each naming the field, what it
 * holds and what would be valid, so a run that cannot start says why.
 */
export function parseRunSettings(raw: RawRunSettings, ctx: SettingsContext): ParseResult {
  const problems: SettingsProblem[] = [];
  const bad = (field: keyof RunSettings, valid: string) =>
    problems.push({ field, message: `${LABELS[field]} must be ${valid}; got ${show(raw[field])}.` });

  const num = (field: keyof RunSettings, min: number, max: number, integer: boolean): number => {
    const v = parseNumber(raw[field]);
    const maxText = Number.isFinite(max) ? ` and ${max}` : '';
    const kind = integer ? 'a whole number' : 'a number';
    const valid = Number.isFinite(max) ? `${kind} between ${min}${maxText}` : `${kind} of at least ${min}`;
    if (v === undefined || v < min || v > max || (integer && !Number.isInteger(v))) {
      bad(field, valid);
      return Number.NaN;
    }
    return v;
  };

  const dataset = ctx.datasets.find((d) => d.id === raw.dataset?.trim());
  if (!dataset) bad('dataset', `one of ${ctx.datasets.map((d) => d.id).join(', ')}`);
  const pick = (field: 'teacherModel' | 'studentModel'): string => {
    const v = raw[field]?.trim() ?? '';
    if (!ctx.models.includes(v)) bad(field, `a model of the zoo (${ctx.models.join(', ')})`);
    return v;
  };
  const teacherModel = pick('teacherModel');
  const studentModel = pick('studentModel');
  const teacherEpochs = num('teacherEpochs', LIMITS.epochs.min, LIMITS.epochs.max, true);
  const studentEpochs = num('studentEpochs', LIMITS.epochs.min, LIMITS.epochs.max, true);
  const temperature = num('temperature', LIMITS.temperature.min, LIMITS.temperature.max, false);
  const alpha = num('alpha', LIMITS.alpha.min, LIMITS.alpha.max, false);
  // A small dataset (a folder of the user's images) lowers the minimum sizes to what it holds.
  const least = (limit: number, count: number | undefined) => Math.max(1, Math.min(limit, count ?? limit));
  const trainSize = num(
    'trainSize',
    least(LIMITS.trainSize.min, dataset?.trainCount),
    dataset?.trainCount ?? Number.POSITIVE_INFINITY,
    true,
  );
  const studentSize = num(
    'studentSize',
    least(LIMITS.studentSize.min, dataset?.trainCount),
    Number.isFinite(trainSize) ? trainSize : (dataset?.trainCount ?? Number.POSITIVE_INFINITY),
    true,
  );
  const testSize = num(
    'testSize',
    least(LIMITS.testSize.min, dataset?.testCount),
    dataset?.testCount ?? Number.POSITIVE_INFINITY,
    true,
  );
  const batchSize = num('batchSize', LIMITS.batchSize.min, LIMITS.batchSize.max, true);
  const learningRate = num('learningRate', LIMITS.learningRate.min, LIMITS.learningRate.max, false);
  const seed = num('seed', 0, 2 ** 31 - 1, true);

  if (problems.length > 0 || !dataset) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      dataset: dataset.id,
      teacherModel,
      studentModel,
      teacherEpochs,
      studentEpochs,
      temperature,
      alpha,
      trainSize,
      studentSize,
      testSize,
      batchSize,
      learningRate,
      seed,
    },
  };
}

/** Checks the dark-knowledge temperature slider / box alone (it is live, not part of a run). */
export function parseTemperature(text: string): { ok: true; value: number } | { ok: false; message: string } {
  const v = parseNumber(text);
  const { min, max } = LIMITS.temperature;
  if (v === undefined || v < min || v > max) {
    return {
      ok: false,
      message: `Temperature must be a number between ${min} and ${max}; got ${show(text)}.`,
    };
  }
  return { ok: true, value: v };
}
