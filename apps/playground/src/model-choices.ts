/** A model the page offers: a zoo model name plus the options that size it. */
export interface ModelChoice {
  /** Value of the `<option>`; also the name stored with saved models. */
  readonly id: string;
  /** Zoo name passed to `createModel`. */
  readonly zoo: string;
  /** Options passed to `createModel` (besides input shape, classes and seed). */
  readonly options: Readonly<Record<string, unknown>>;
  readonly label: string;
  /** Trains on every backend (dense layers only); CNNs need conv gradients, missing on plain wasm. */
  readonly denseOnly: boolean;
}

/**
 * The choices, small first. The defaults are sized so a whole run (teacher, baseline, distilled) takes
 * well under a minute on wasm: a 784-400-400-10 teacher with dropout and a 784-100-100-10 student
 * (measured in the README: on a small student subset it shows the distillation gain most clearly).
 */
export const MODEL_CHOICES: readonly ModelChoice[] = [
  {
    id: 'mlp-400x400-dropout',
    zoo: 'mlp',
    options: { hiddenUnits: [400, 400], dropout: 0.3, inputDropout: 0.1 },
    label: 'MLP 784-400-400-10, dropout 0.3 (teacher)',
    denseOnly: true,
  },
  {
    id: 'mlp-30x30',
    zoo: 'mlp',
    options: { hiddenUnits: [30, 30] },
    label: 'MLP 784-30-30-10 (small student)',
    denseOnly: true,
  },
  {
    id: 'mlp-10',
    zoo: 'mlp',
    options: { hiddenUnits: [10] },
    label: 'MLP 784-10-10 (tiny student)',
    denseOnly: true,
  },
  {
    id: 'mlp-100x100',
    zoo: 'mlp',
    options: { hiddenUnits: [100, 100] },
    label: 'MLP 784-100-100-10 (student)',
    denseOnly: true,
  },
  {
    id: 'hinton-student',
    zoo: 'hinton-student',
    options: {},
    label: 'hinton-student: MLP 784-800-800-10 (paper)',
    denseOnly: true,
  },
  {
    id: 'hinton-teacher',
    zoo: 'hinton-teacher',
    options: {},
    label: 'hinton-teacher: 784-1200-1200-10, dropout',
    denseOnly: true,
  },
  { id: 'lenet5', zoo: 'lenet5', options: {}, label: 'LeNet-5 (CNN)', denseOnly: false },
  {
    id: 'mnist-cnn',
    zoo: 'mnist-cnn',
    options: {},
    label: 'Keras MNIST CNN (slow on cpu/wasm)',
    denseOnly: false,
  },
];

export const DEFAULT_TEACHER = 'mlp-400x400-dropout';
export const DEFAULT_STUDENT = 'mlp-100x100';

/** The choice with this id, or undefined. */
export function findChoice(id: string): ModelChoice | undefined {
  return MODEL_CHOICES.find((c) => c.id === id);
}

/**
 * Keeps only the choices whose zoo model exists (the zoo may be a different version than this page
 * was written against).
 */
export function availableChoices(zooNames: readonly string[]): ModelChoice[] {
  return MODEL_CHOICES.filter((c) => zooNames.includes(c.zoo));
}
