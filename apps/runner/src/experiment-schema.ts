import { BACKEND_REQUESTS, ConfigError, describeValue } from '@distilljs/core';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { z } from 'zod';
import { inapplicableOption, lossOptionFields } from './loss-options.js';

/** Dataset names the runner can load. */
export const DATASET_NAMES = ['mnist-embedded', 'mnist', 'fashion-mnist', 'cifar10', 'synthetic'] as const;
/** A dataset name. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** The datasets that read their files from a directory (`--data-dir`, `dataset.dir`). */
export const DIR_DATASETS: readonly DatasetName[] = ['mnist', 'fashion-mnist', 'cifar10'];

/** Refuses a data directory given for a dataset that never reads one (it would be ignored). */
export function checkDatasetDir(name: DatasetName, dir: string | undefined, flag: string): void {
  if (dir === undefined || DIR_DATASETS.includes(name)) return;
  throw new ConfigError(
    `${flag} ${dir}: dataset ${name} does not read a directory, so it would be ignored; the datasets that do are ${DIR_DATASETS.join(', ')} (choose one with --dataset, or dataset.name in an experiment file)`,
    { where: flag },
  );
}
/** Kinds of your own data: an image folder, a CSV/TSV table, NPY features and labels (need `path`). */
export const DATA_KINDS = ['folder', 'csv', 'npy'] as const;
/** A kind of own data. */
export type DataKind = (typeof DATA_KINDS)[number];

/** Optimiser names accepted in experiment files and `--optimizer`. */
export const OPTIMIZER_NAMES = ['adam', 'adamw', 'sgd', 'momentum', 'nesterov'] as const;

/** Loss names: `ce` trains on labels alone (a baseline); the others distil from the teacher. */
export const LOSS_NAMES = [
  'ce',
  'kd',
  'dkd',
  'dist',
  'ttm',
  'wttm',
  'nkd',
  'mlkd',
  'logit-matching',
] as const;
/** A loss name. */
export type LossName = (typeof LOSS_NAMES)[number];

const positive = z.number().gt(0);
const positiveInt = z.number().int().gt(0);
const nonNegativeInt = z.number().int().gte(0);
const unit = z.number().gte(0).lte(1);

const modelSchema = z.union([
  z.string().min(1),
  z.strictObject({
    name: z.string().min(1),
    hiddenUnits: z.array(positiveInt).min(1).optional(),
    dropout: z.number().gte(0).lt(1).optional(),
    inputDropout: z.number().gte(0).lt(1).optional(),
    maxNorm: positive.optional(),
  }),
]);

const augmentSchema = z.strictObject({
  /** Random shifts of up to this many pixels (the paper jitters MNIST by up to 2). */
  shift: nonNegativeInt.optional(),
  /** Random crop after zero-padding by this many pixels (CIFAR: 4). */
  crop: nonNegativeInt.optional(),
  /** Random horizontal flips. */
  flip: z.boolean().optional(),
});

const trainingFields = {
  epochs: positiveInt.optional(),
  batchSize: positiveInt.optional(),
  optimizer: z.enum(OPTIMIZER_NAMES).optional(),
  lr: positive.optional(),
  momentum: unit.optional(),
  weightDecay: z.number().gte(0).optional(),
  schedule: z.enum(['constant', 'step', 'cosine']).optional(),
  warmupEpochs: nonNegativeInt.optional(),
  clipNorm: positive.optional(),
  augment: augmentSchema.optional(),
  /** Stop when the validation metric has not improved for `patience` epochs (never the test split). */
  earlyStopping: z
    .strictObject({
      monitor: z.enum(['val_loss', 'val_acc']).optional(),
      patience: nonNegativeInt.optional(),
      minDelta: z.number().gte(0).optional(),
    })
    .optional(),
};

const teacherSchema = z.union([
  z.strictObject({ name: z.string().min(1).optional(), model: modelSchema, ...trainingFields }),
  z.strictObject({
    /**
     * A run directory of ours, a tfjs Layers or graph model.json (path or http(s) URL), an .onnx file, or a
     * teacher-logits directory (docs/teacher-logits.md).
     */
    path: z.string().min(1),
    /** Per-channel normalisation the teacher expects on [0, 1] pixels (ONNX and graph models). */
    normalize: z.strictObject({ mean: z.array(z.number()).min(1), std: z.array(positive).min(1) }).optional(),
    /** Which output holds the logits, when the model has several. */
    output: z.string().min(1).optional(),
  }),
]);

const studentSchema = z.strictObject({
  /** Label in the results table; unique. */
  name: z.string().min(1),
  model: modelSchema,
  /** `ce` trains on labels alone (the baseline); `kd` (default) distils from the teacher. */
  loss: z.enum(LOSS_NAMES).optional(),
  temperature: positive.optional(),
  alpha: unit.optional(),
  /** Class ids left out of the transfer set (the paper's omitted-digit experiment). */
  excludeClasses: z.array(nonNegativeInt).optional(),
  ...lossOptionFields,
  ...trainingFields,
});

/** Settings of your own data (`name: folder | csv | npy`). */
const ownDataFields = {
  /** The image folder, the table file, or the NPY features file. */
  path: z.string().min(1).optional(),
  /** NPY: the labels file. */
  labelsPath: z.string().min(1).optional(),
  /** Table: the label column (header name, or 1-based number without a header, or `last`). */
  labelColumn: z.string().min(1).optional(),
  /** Table: the first line names the columns (default true). */
  header: z.boolean().optional(),
  /** Table: lines to skip first (sklearn's files: 1). */
  skipLines: nonNegativeInt.optional(),
  /** Tables and NPY: standardise features with the training part's statistics (default true). */
  standardize: z.boolean().optional(),
  /** Image folder: 1 (grey) or 3 (RGB) channels (default 3). */
  channels: z.union([z.literal(1), z.literal(3)]).optional(),
  /** Image folder: stretch, centre-crop or pad (default stretch). */
  resize: z.enum(['stretch', 'centre-crop', 'pad']).optional(),
  /** Own data: share held out (stratified, seeded) as the test split (default 0.2); validation is carved from the rest. */
  testFraction: z.number().gt(0).lt(1).optional(),
  /** Seed of that split (default 0). */
  splitSeed: z.number().int().optional(),
  /** Image folder: skip unreadable images (reporting how many) instead of failing. */
  skipBadFiles: z.boolean().optional(),
  /** An image folder of unlabelled images added to the transfer set of distilled students (soft term only). */
  unlabelled: z.string().min(1).optional(),
};

const datasetSchema = z
  .strictObject({
    name: z.enum([...DATASET_NAMES, ...DATA_KINDS]),
    ...ownDataFields,
    /** Directory with the dataset's files (IDX or CIFAR binary). */
    dir: z.string().min(1).optional(),
    /** Use only the first N training examples. */
    trainSize: positiveInt.optional(),
    /** Use only the first N test examples. */
    testSize: positiveInt.optional(),
    /**
     * Training examples (after `trainSize`) held out as the validation split: seeded, stratified by class,
     * never trained on by the teacher or the students; per-epoch metrics, early stopping and every choice use
     * it. Default: 10% of the training examples.
     */
    validationSize: positiveInt.optional(),
    /** Seed of the validation split (default 0), independent of the models' seeds. */
    validationSeed: z.number().int().optional(),
    /** For `synthetic`: number of classes and image side (square, one channel); for `folder`: the image side. */
    numClasses: z.number().int().gte(2).optional(),
    imageSize: positiveInt.optional(),
  })
  .superRefine((d, ctx) => {
    const own = (DATA_KINDS as readonly string[]).includes(d.name);
    if (own && !d.path)
      ctx.addIssue({ code: 'custom', path: ['path'], message: `dataset ${d.name} needs a path` });
    if (d.name === 'npy' && !d.labelsPath)
      ctx.addIssue({
        code: 'custom',
        path: ['labelsPath'],
        message: 'dataset npy needs labelsPath (the labels .npy file)',
      });
    if (!own) {
      for (const key of Object.keys(ownDataFields)) {
        if ((d as Record<string, unknown>)[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `only for your own data (folder, csv, npy), not ${d.name}`,
          });
      }
    }
  });

/** The zod schema of an experiment file (YAML or JSON). */
export const experimentSchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    dataset: datasetSchema,
    backend: z.enum(BACKEND_REQUESTS).optional(),
    /** Seeds of the teacher (and of the students, unless `studentSeeds` is given). */
    seeds: z.array(z.number().int()).min(1).optional(),
    /**
     * Student seeds trained for every teacher seed: baselines once per student seed, distilled students
     * once per (teacher seed, student seed), so distilled and baseline pair up by student seed.
     */
    studentSeeds: z.array(z.number().int()).min(1).optional(),
    /**
     * Whether to score the final models on the test split (once each, at the end). `false` for runs that
     * choose settings: they read the validation split only.
     */
    evaluateTest: z.boolean().optional(),
    /** Defaults for every stage. */
    defaults: z.strictObject(trainingFields).optional(),
    teacher: teacherSchema.optional(),
    students: z.array(studentSchema).default([]),
    sweep: z
      .strictObject({
        temperature: z.array(positive).min(1).optional(),
        alpha: z.array(unit).min(1).optional(),
      })
      .optional(),
    /**
     * Run as units of work (`distill run --job`): the teacher's logits on the training split are written
     * in `shards` shard units (docs/teacher-logits.md) and the students distil from those files. A
     * one-process run distils from the teacher directly (the same figures with float32 and no top-k).
     */
    teacherLogits: z
      .strictObject({
        shards: positiveInt,
        dtype: z.enum(['float32', 'float16']).optional(),
        topK: positiveInt.optional(),
      })
      .optional(),
  })
  .superRefine((exp, ctx) => {
    if (exp.teacherLogits && !exp.teacher) {
      ctx.addIssue({
        code: 'custom',
        path: ['teacherLogits'],
        message: 'teacher logits need a teacher; add one',
      });
    }
    if (exp.students.length === 0 && !(exp.teacher && 'model' in exp.teacher)) {
      ctx.addIssue({
        code: 'custom',
        path: ['students'],
        message: 'nothing to train: give students, or a teacher with a model',
      });
    }
    const seen = new Map<string, number>();
    exp.students.forEach((s, i) => {
      const first = seen.get(s.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['students', i, 'name'],
          message: `duplicate student name ${JSON.stringify(s.name)} (also students[${first}].name)`,
        });
      }
      seen.set(s.name, i);
      const stray = inapplicableOption(s.loss ?? 'kd', s);
      if (stray) {
        ctx.addIssue({
          code: 'custom',
          path: ['students', i, stray.option],
          message: `'${stray.option}' applies to loss ${stray.users.join(' or ')}, not ${s.loss ?? 'kd'}`,
        });
      }
      if ((s.loss ?? 'kd') !== 'ce' && exp.teacher === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['students', i, 'loss'],
          message: `student ${JSON.stringify(s.name)} distils (loss ${s.loss ?? 'kd'}) but the experiment has no teacher; add a teacher or set loss: ce`,
        });
      }
    });
  });

/** A validated experiment. */
export type Experiment = z.infer<typeof experimentSchema>;
/** An experiment as written (optional fields may be left out). */
export type ExperimentInput = z.input<typeof experimentSchema>;
/** One student of an experiment. */
export type StudentSpec = Experiment['students'][number];
/** A model reference: a zoo name, or a zoo name with options. */
export type ModelSpec = z.infer<typeof modelSchema>;
/** Shared training settings. */
export type TrainingSpec = z.infer<z.ZodObject<typeof trainingFields>>;
/** The teacher of an experiment. */
export type TeacherSpec = z.infer<typeof teacherSchema>;

/** `students[1].temperature` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeBound(issue: z.core.$ZodIssue): string {
  const i = issue as unknown as { origin?: string; minimum?: number; maximum?: number; inclusive?: boolean };
  const bound = issue.code === 'too_small' ? i.minimum : i.maximum;
  const op = issue.code === 'too_small' ? (i.inclusive ? '>=' : '>') : i.inclusive ? '<=' : '<';
  if (i.origin === 'array') return `expected a list with ${op} ${bound} items`;
  if (i.origin === 'string') return `expected a string with ${op} ${bound} characters`;
  return `expected a number ${op} ${bound}`;
}

/**
 * For a value that matches no form of a union: the first problem of the form it came closest to (the one
 * whose problems lie deepest, then the one with fewest), so `teacher.epochs: expected a number` is
 * reported instead of "does not match any allowed form".
 */
function closestBranchIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue | undefined {
  const branches = (issue as unknown as { errors?: z.core.$ZodIssue[][] }).errors ?? [];
  let best: z.core.$ZodIssue[] | undefined;
  const depth = (b: z.core.$ZodIssue[]) =>
    Math.max(...b.map((i) => i.path.length + (i.code === 'unrecognized_keys' ? 0 : 0.5)));
  for (const b of branches) {
    if (b.length === 0) continue;
    if (!best || depth(b) > depth(best) || (depth(b) === depth(best) && b.length < best.length)) best = b;
  }
  return best?.[0];
}

/** One line per zod issue, in the house form `students[1].temperature: expected a number > 0, got -1`. */
export function formatIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = formatPath(issue.path);
  const got = valueAt(input, issue.path);
  let what: string;
  switch (issue.code) {
    case 'too_small':
    case 'too_big':
      what = describeBound(issue);
      break;
    case 'invalid_type': {
      const expected = (issue as unknown as { expected: string }).expected;
      const article = /^[aeiou]/.test(expected) ? 'an' : 'a';
      what = got === undefined ? `required ${expected} is missing` : `expected ${article} ${expected}`;
      if (expected === 'int') what = 'expected an integer';
      break;
    }
    case 'invalid_value': {
      const values = (issue as unknown as { values: unknown[] }).values;
      what = `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    }
    case 'unrecognized_keys': {
      const keys = (issue as unknown as { keys: string[] }).keys;
      return `${where}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}`;
    }
    case 'invalid_union': {
      const inner = closestBranchIssue(issue);
      if (inner) return formatIssue({ ...inner, path: [...issue.path, ...inner.path] }, input);
      what =
        'does not match any allowed form (a zoo model name, or { name, hiddenUnits, dropout, inputDropout, maxNorm }; a teacher is { model, ... } or { path })';
      break;
    }
    case 'custom':
      return `${where}: ${issue.message}`;
    default:
      what = issue.message;
  }
  if (issue.code === 'invalid_type' && got === undefined) return `${where}: ${what}`;
  return `${where}: ${what}, got ${describeValue(got)}`;
}

/**
 * Validates an already-parsed experiment object. Throws a {@link ConfigError} whose message lists every
 * problem with its path in the file (the first one leads, so a one-line print stays useful).
 */
export function validateExperiment(input: unknown, file = 'experiment'): Experiment {
  const result = experimentSchema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => formatIssue(issue, input));
  const more = lines.length > 1 ? ` (and ${lines.length - 1} more: ${lines.slice(1).join('; ')})` : '';
  throw new ConfigError(`${file}: ${lines[0]}${more}`, {
    where: `${file}:${formatPath(result.error.issues[0]!.path)}`,
  });
}

/**
 * Parses and validates the text of an experiment file. JSON when the name ends in `.json`, YAML
 * otherwise (YAML is a superset of JSON). Syntax errors name the file, line and column.
 */
export function parseExperiment(text: string, file = 'experiment.yaml'): Experiment {
  let data: unknown;
  if (file.endsWith('.json')) {
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${file}: not valid JSON: ${(error as Error).message}`, {
        where: file,
        cause: error,
      });
    }
  } else {
    try {
      data = parseYaml(text);
    } catch (error) {
      if (error instanceof YAMLParseError) {
        const pos = error.linePos?.[0];
        const at = pos ? `:${pos.line}:${pos.col}` : '';
        const msg = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
        throw new ConfigError(`${file}${at}: not valid YAML: ${msg}`, {
          where: `${file}${at}`,
          cause: error,
        });
      }
      throw error;
    }
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${file}: expected a mapping of experiment settings, got ${describeValue(data)}`, {
      where: file,
    });
  }
  return validateExperiment(data, file);
}
