import { assertInRange, assertInteger, InvalidArgumentError, invalidArgument } from '@distilljs/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { buildCifarResNet } from './cifar-resnet.js';
import { buildCifarVgg, VGG_LARGE_BLOCKS, VGG_SMALL_BLOCKS } from './cifar-vgg.js';
import { withFeatureTaps } from './feature-taps.js';
import { LayerSeeds } from './layer-seeds.js';
import { buildLenet5 } from './lenet5.js';
import { buildMlp } from './mlp.js';
import { buildMnistCnn } from './mnist-cnn.js';
import { type DistillModelMetadata, setModelMetadata } from './model-metadata.js';
import { registerCustomLayers } from './pad-shortcut.js';
import type { BuildContext, BuiltModel } from './zoo-types.js';

/** The names of the zoo models. */
export const MODEL_NAMES = [
  'hinton-teacher',
  'hinton-student',
  'mlp',
  'mnist-cnn',
  'lenet5',
  'cifar-vgg-large',
  'cifar-vgg-small',
  'resnet20',
  'resnet56',
  'resnet8x4',
  'resnet32x4',
] as const;

/** A zoo model name. */
export type ModelName = (typeof MODEL_NAMES)[number];

/** Options of {@link createModel}. Model-specific options are rejected by models that do not use them. */
export interface CreateModelOptions {
  /** Input shape without the batch dimension; defaults to the model's `defaultInputShape`. */
  inputShape?: readonly number[];
  /** Number of classes (logits); default 10. */
  numClasses?: number;
  /** Seed for the initial weights: the same seed gives identical weights (dropout masks stay unseeded). */
  seed?: number;
  /** Also return the default feature maps: outputs `[logits, ...features]` (see {@link withFeatureTaps}). */
  features?: boolean;
  /** `mlp`: units of each hidden ReLU layer (default `[30, 30]`). */
  hiddenUnits?: readonly number[];
  /** `mlp`, `hinton-teacher`: dropout after each hidden layer (defaults 0 and 0.5). */
  dropout?: number;
  /** `mlp`, `hinton-teacher`: dropout on the flattened input (defaults 0 and 0.2). */
  inputDropout?: number;
  /** `mlp`, `hinton-teacher`: max-norm bound on each unit's incoming weights (defaults none and 15). */
  maxNorm?: number;
}

/** One row of {@link listModels}. */
export interface ModelInfo {
  readonly name: ModelName;
  /** One line: what the model is. */
  readonly description: string;
  /** Where it comes from (paper or implementation). */
  readonly source: string;
  /** Input shape without the batch dimension. */
  readonly defaultInputShape: readonly number[];
  /** Trainable parameters with the default options and 10 classes. */
  readonly parameterCount: number;
  /** Layer names tapped by `features: true` / {@link withFeatureTaps} with the default options. */
  readonly featureTaps: readonly string[];
}

const MNIST: readonly number[] = [28, 28, 1];
const CIFAR: readonly number[] = [32, 32, 3];

type OptionName = 'hiddenUnits' | 'dropout' | 'inputDropout' | 'maxNorm';

interface ZooEntry {
  readonly description: string;
  readonly source: string;
  readonly defaultInputShape: readonly number[];
  /** Required rank of the input shape, or undefined for any rank. */
  readonly inputRank?: number;
  readonly defaults: Partial<Record<OptionName, unknown>>;
  readonly build: (ctx: BuildContext) => BuiltModel;
}

const HINTON =
  'Hinton, Vinyals and Dean 2015, "Distilling the Knowledge in a Neural Network" (arXiv 1503.02531), section 3';

function mlpFromContext(ctx: BuildContext): BuiltModel {
  const o = ctx.options;
  return buildMlp(ctx, {
    hiddenUnits: o.hiddenUnits as number[],
    dropout: o.dropout as number,
    inputDropout: o.inputDropout as number,
    maxNorm: o.maxNorm as number | undefined,
  });
}

const ZOO: Record<ModelName, ZooEntry> = {
  'hinton-teacher': {
    description:
      'MNIST teacher MLP 784-1200-1200-10, ReLU, dropout 0.2 on the input and 0.5 on hidden layers, max-norm 15 on incoming weights',
    source: `${HINTON}; regularisation from Hinton et al. 2012 (arXiv 1207.0580)`,
    defaultInputShape: MNIST,
    defaults: { hiddenUnits: [1200, 1200], dropout: 0.5, inputDropout: 0.2, maxNorm: 15 },
    build: mlpFromContext,
  },
  'hinton-student': {
    description: 'MNIST student MLP 784-800-800-10, ReLU, no regularisation',
    source: HINTON,
    defaultInputShape: MNIST,
    defaults: {},
    build: (ctx) =>
      buildMlp(ctx, { hiddenUnits: [800, 800], dropout: 0, inputDropout: 0, maxNorm: undefined }),
  },
  mlp: {
    description:
      'configurable ReLU MLP on flattened images (hiddenUnits, dropout, inputDropout, maxNorm); default 784-30-30-10',
    source: `${HINTON} (the 30-unit students)`,
    defaultInputShape: MNIST,
    defaults: { hiddenUnits: [30, 30], dropout: 0, inputDropout: 0, maxNorm: undefined },
    build: mlpFromContext,
  },
  'mnist-cnn': {
    description:
      "conv3x3(32)-ReLU-maxpool2, conv3x3(64)-ReLU-maxpool2 ('same' padding), dense 128-ReLU, dense 10",
    source: 'the Keras MNIST convnet example, with same-padded convolutions',
    defaultInputShape: MNIST,
    inputRank: 3,
    defaults: {},
    build: buildMnistCnn,
  },
  lenet5: {
    description:
      'LeNet-5: conv5x5(6)-avgpool-conv5x5(16)-avgpool-120-84-10, tanh (first conv same-padded for 28x28)',
    source:
      'LeCun, Bottou, Bengio and Haffner 1998, "Gradient-Based Learning Applied to Document Recognition"',
    defaultInputShape: MNIST,
    inputRank: 3,
    defaults: {},
    build: buildLenet5,
  },
  'cifar-vgg-large': {
    description:
      'VGG-style CIFAR-10 teacher: 13 conv3x3-BN-ReLU with dropout 0.1 before each conv, 5 max-pools, dense',
    source: 'labml.ai annotated PyTorch implementations, labml_nn.distillation (large.py LargeModel)',
    defaultInputShape: CIFAR,
    inputRank: 3,
    defaults: {},
    build: (ctx) => buildCifarVgg(ctx, VGG_LARGE_BLOCKS, 0.1),
  },
  'cifar-vgg-small': {
    description:
      'VGG-style CIFAR-10 student: 7 conv3x3-BN-ReLU [[32,32],[64,64],[128],[128],[128]], 5 max-pools, dense',
    source: 'labml.ai annotated PyTorch implementations, labml_nn.distillation (small.py SmallModel)',
    defaultInputShape: CIFAR,
    inputRank: 3,
    defaults: {},
    build: (ctx) => buildCifarVgg(ctx, VGG_SMALL_BLOCKS, 0),
  },
  resnet20: {
    description:
      'CIFAR ResNet-20 (3 stages x 3 basic blocks, widths 16-32-64), option-A (zero-padding) shortcuts',
    source:
      'He, Zhang, Ren and Sun 2016, "Deep Residual Learning for Image Recognition" (arXiv 1512.03385), section 4.2',
    defaultInputShape: CIFAR,
    inputRank: 3,
    defaults: {},
    build: (ctx) =>
      buildCifarResNet(ctx, { depth: 20, stemWidth: 16, stageWidths: [16, 32, 64], shortcut: 'pad' }),
  },
  resnet56: {
    description:
      'CIFAR ResNet-56 (3 stages x 9 basic blocks, widths 16-32-64), option-A (zero-padding) shortcuts',
    source:
      'He, Zhang, Ren and Sun 2016, "Deep Residual Learning for Image Recognition" (arXiv 1512.03385), section 4.2',
    defaultInputShape: CIFAR,
    inputRank: 3,
    defaults: {},
    build: (ctx) =>
      buildCifarResNet(ctx, { depth: 56, stemWidth: 16, stageWidths: [16, 32, 64], shortcut: 'pad' }),
  },
  resnet8x4: {
    description:
      '4x-wide CIFAR ResNet-8 (stem 32, stages 64-128-256, 1 block each), conv1x1-BN projection shortcuts',
    source:
      'Tian, Krishnan and Isola 2020, "Contrastive Representation Distillation" (RepDistiller models/resnet.py resnet8x4)',
    defaultInputShape: CIFAR,
    inputRank: 3,
    defaults: {},
    build: (ctx) =>
      buildCifarResNet(ctx, { depth: 8, stemWidth: 32, stageWidths: [64, 128, 256], shortcut: 'projection' }),
  },
  resnet32x4: {
    description:
      '4x-wide CIFAR ResNet-32 (stem 32, stages 64-128-256, 5 blocks each), conv1x1-BN projection shortcuts',
    source:
      'Tian, Krishnan and Isola 2020, "Contrastive Representation Distillation" (RepDistiller models/resnet.py resnet32x4)',
    defaultInputShape: CIFAR,
    inputRank: 3,
    defaults: {},
    build: (ctx) =>
      buildCifarResNet(ctx, {
        depth: 32,
        stemWidth: 32,
        stageWidths: [64, 128, 256],
        shortcut: 'projection',
      }),
  },
};

const OPTION_CHECKS: Record<OptionName, (value: unknown) => void> = {
  hiddenUnits: (v) => {
    if (!Array.isArray(v) || v.some((u) => !Number.isInteger(u) || u < 1)) {
      invalidArgument('createModel', 'options.hiddenUnits', 'an array of integers >= 1', v);
    }
  },
  dropout: (v) => assertInRange('createModel', 'options.dropout', v, 0, 0.99),
  inputDropout: (v) => assertInRange('createModel', 'options.inputDropout', v, 0, 0.99),
  maxNorm: (v) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      invalidArgument('createModel', 'options.maxNorm', 'a finite number > 0 (or undefined for none)', v);
    }
  },
};

const COMMON_OPTIONS = ['inputShape', 'numClasses', 'seed', 'features'];

/** Zoo names whose input rank fits `rank` ('mlp:UNITS' stands for any configured MLP). */
function modelsForRank(rank: number): string[] {
  const names = MODEL_NAMES.filter((n) => ZOO[n].inputRank === undefined || ZOO[n].inputRank === rank);
  return [...names.map((n) => `'${n}'`), "'mlp:UNITS,...' (e.g. 'mlp:512,256')"];
}

/**
 * Splits a model spec such as `'mlp:512,256'` (an MLP with those hidden layers, for any input shape) into
 * its zoo name and options; a plain zoo name passes through.
 */
export function parseModelSpec(spec: string): { name: ModelName; hiddenUnits?: number[] } {
  const m = /^mlp:(.*)$/.exec(spec);
  if (!m) return { name: entryName('parseModelSpec', spec) };
  const units = (m[1] as string).split(',').map((u) => Number(u.trim()));
  if (units.length === 0 || !units.every((u) => Number.isInteger(u) && u >= 1)) {
    invalidArgument(
      'parseModelSpec',
      'spec',
      "'mlp:' then comma-separated hidden-layer sizes, e.g. 'mlp:512,256'",
      spec,
    );
  }
  return { name: 'mlp', hiddenUnits: units };
}

function entryName(fn: string, name: string): ModelName {
  entryFor(fn, name);
  return name as ModelName;
}

function isModelName(name: unknown): name is ModelName {
  return typeof name === 'string' && (MODEL_NAMES as readonly string[]).includes(name);
}

function entryFor(fn: string, name: unknown): ZooEntry {
  if (!isModelName(name)) {
    throw new InvalidArgumentError(
      `${fn}: unknown model ${JSON.stringify(name)}; valid names are ${MODEL_NAMES.map((n) => `'${n}'`).join(', ')}`,
      { where: `${fn}(name)` },
    );
  }
  return ZOO[name];
}

class ShapeError extends Error {}

function build(name: ModelName, entry: ZooEntry, options: CreateModelOptions, counting = false): BuiltModel {
  const given = options as Record<string, unknown>;
  const accepted = [...COMMON_OPTIONS, ...Object.keys(entry.defaults)];
  for (const key of Object.keys(given)) {
    if (given[key] !== undefined && !accepted.includes(key)) {
      throw new InvalidArgumentError(
        `createModel: option '${key}' is not used by '${name}'; it accepts ${accepted.map((k) => `'${k}'`).join(', ')}`,
        { where: `createModel(options.${key})` },
      );
    }
  }
  const inputShape = options.inputShape ?? entry.defaultInputShape;
  if (
    !Array.isArray(inputShape) ||
    inputShape.length === 0 ||
    inputShape.some((d) => !Number.isInteger(d) || d < 1) ||
    (entry.inputRank !== undefined && inputShape.length !== entry.inputRank)
  ) {
    const rank =
      entry.inputRank === undefined ? '' : ` of length ${entry.inputRank} ([height, width, channels])`;
    const fit = Array.isArray(inputShape) ? modelsForRank(inputShape.length) : [];
    invalidArgument(
      'createModel',
      'options.inputShape',
      `an array${rank} of integers >= 1 for '${name}'${fit.length ? ` (models that take [${inputShape.join(', ')}]: ${fit.join(', ')})` : ''}`,
      inputShape,
    );
  }
  const numClasses = options.numClasses ?? 10;
  assertInteger('createModel', 'options.numClasses', numClasses, 1);
  if (options.seed !== undefined && (typeof options.seed !== 'number' || !Number.isFinite(options.seed))) {
    invalidArgument('createModel', 'options.seed', 'a finite number', options.seed);
  }
  const modelOptions: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(entry.defaults)) {
    const value = given[key] ?? fallback;
    OPTION_CHECKS[key as OptionName](value);
    modelOptions[key] = value;
  }
  registerCustomLayers();
  const ctx: BuildContext = {
    name,
    inputShape,
    numClasses,
    seeds: new LayerSeeds(options.seed, { zeros: counting }),
    options: modelOptions,
  };
  let built: BuiltModel;
  try {
    built = entry.build(ctx);
    for (const layer of built.model.layers) {
      const shape = layer.outputShape as (number | null)[];
      if (shape.some((d) => d === 0 || (typeof d === 'number' && d < 0))) {
        built.model.dispose();
        throw new ShapeError(
          `layer '${layer.name}' would output shape [${shape.map((d) => d ?? '?').join(', ')}] (the input is too small)`,
        );
      }
    }
  } catch (cause) {
    // tfjs-layers reports shape problems as ValueError; anything else (no backend, out of memory) passes through.
    if (!(cause instanceof ShapeError) && (cause as Error)?.constructor?.name !== 'ValueError') throw cause;
    throw new InvalidArgumentError(
      `createModel: cannot build '${name}' for input shape [${inputShape.join(', ')}]: ${(cause as Error).message}`,
      { where: 'createModel(options.inputShape)', cause },
    );
  }
  const config: Record<string, unknown> = { inputShape: [...inputShape], numClasses, ...modelOptions };
  if (options.seed !== undefined) config.seed = options.seed;
  const metadata: DistillModelMetadata = { zooName: name, config, featureTaps: [...built.featureTaps] };
  setModelMetadata(built.model, metadata);
  return built;
}

/**
 * Builds a zoo model by name. The output is logits (the last layer is linear). With a `seed`, the initial
 * weights are reproducible: the same seed gives identical weights on every backend. Dropout masks come
 * from tfjs's global generator (a seeded tfjs Dropout layer would repeat one mask at every step).
 *
 * The model records its zoo name, config and default feature taps in its user-defined metadata, so
 * {@link saveModel} and {@link withFeatureTaps} find them, also after a save/load round trip.
 *
 * @example
 * ```ts
 * const student = createModel('hinton-student', { seed: 1 });
 * const tiny = createModel('mlp', { hiddenUnits: [30, 30] });
 * const table = createModel('mlp:512,256', { inputShape: [30], numClasses: 2 }); // any input shape
 * const [logits, stage1, stage2, stage3] = createModel('resnet20', { features: true }).predict(x) as tf.Tensor[];
 * ```
 * @throws InvalidArgumentError for an unknown name (listing the valid ones) or an invalid option.
 */
export function createModel(
  name: ModelName | `mlp:${string}`,
  options: CreateModelOptions = {},
): tfl.LayersModel {
  if (typeof name === 'string' && name.startsWith('mlp:')) {
    const spec = parseModelSpec(name);
    return createModel(spec.name, { ...options, hiddenUnits: spec.hiddenUnits });
  }
  const entry = entryFor('createModel', name);
  const { model } = build(name as ModelName, entry, options);
  return options.features ? withFeatureTaps(model) : model;
}

function trainableCount(model: tfl.LayersModel): number {
  let n = 0;
  for (const w of model.trainableWeights) n += w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
  return n;
}

/** Counts a model's trainable parameters (batch-norm moving statistics are not trainable). */
export function countTrainableParams(model: tfl.LayersModel): number {
  return trainableCount(model);
}

let cachedInfo: ModelInfo[] | undefined;

/**
 * Lists the zoo: name, description, source, default input shape, trainable parameter count (default
 * options, 10 classes) and default feature taps. Counting builds each model once with zero-initialised
 * weights (cached after the first call), so a tfjs backend must be set.
 */
export function listModels(): ModelInfo[] {
  if (!cachedInfo) {
    cachedInfo = MODEL_NAMES.map((name) => {
      const entry = ZOO[name];
      const { model, featureTaps } = build(name, entry, {}, true);
      const info: ModelInfo = {
        name,
        description: entry.description,
        source: entry.source,
        defaultInputShape: entry.defaultInputShape,
        parameterCount: trainableCount(model),
        featureTaps,
      };
      model.dispose();
      return info;
    });
  }
  return cachedInfo.map((i) => ({ ...i }));
}
