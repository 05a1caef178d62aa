// The runner's one place of contact with the distilljs packages: every call into backends, datasets,
// models and trainer goes through here, so commands only compose.

import * as backends from '@distilljs/backends';
import type {
  BackendRequest,
  BatchStream,
  Dataset,
  FeatureSplit,
  ImageDataset,
  Teacher,
  TrainingCallbacks,
} from '@distilljs/core';
import { ConfigError, exampleShape, InvalidArgumentError, isFeatureDataset } from '@distilljs/core';
import * as datasets from '@distilljs/datasets';
import * as losses from '@distilljs/losses';
import * as models from '@distilljs/models/node';
import * as trainer from '@distilljs/trainer';
import * as trainerNode from '@distilljs/trainer/node';
import type * as tfl from '@tensorflow/tfjs-layers';
import { runnerBackendOptions } from './backend-options.js';
import { bundledAssets } from './bundled-assets.js';
import {
  checkDatasetDir,
  type DataKind,
  type DatasetName,
  type LossName,
  type ModelSpec,
  type TrainingSpec,
} from './experiment-schema.js';
import type { LossOptions } from './loss-options.js';
import { loadOwnData, type OwnData, type OwnDataSpec } from './own-data.js';
import { DEFAULT_VALIDATION_FRACTION, DEFAULT_VALIDATION_SEED } from './validation-split.js';

/**
 * Selects and initialises the backend through @distilljs/backends: `auto` tries tfjs-node-gpu, then webgpu
 * on a hardware adapter, then tfjs-node, then wasm (with the distilljs training kernels, relaxed SIMD
 * enabled: on Node 20 that sets V8's `--experimental-wasm-relaxed-simd` for this process), then cpu.
 */
export function setupBackend(request: BackendRequest): Promise<backends.SelectedBackend> {
  return backends.selectBackend(request, runnerBackendOptions());
}

/** Every backend distilljs knows, installed or not, without loading any. */
export function listBackends(): Promise<backends.BackendStatus[]> {
  return backends.listBackends();
}

/** Dataset settings the runner understands (from flags or an experiment file). */
export interface DatasetSpec extends Partial<Omit<OwnDataSpec, 'name'>> {
  readonly name: DatasetName | DataKind;
  readonly dir?: string | undefined;
  readonly trainSize?: number | undefined;
  readonly testSize?: number | undefined;
  /**
   * Training examples (after trainSize) held out as the validation split: seeded, stratified by class,
   * never trained on by teacher or students. Default: {@link DEFAULT_VALIDATION_FRACTION} of them.
   */
  readonly validationSize?: number | undefined;
  /** Seed of the validation split (default 0; independent of the models' seeds). */
  readonly validationSeed?: number | undefined;
  readonly numClasses?: number | undefined;
  readonly imageSize?: number | undefined;
  /** Seed of a synthetic dataset. */
  readonly seed?: number | undefined;
}

type Split = ImageDataset['train'] | FeatureSplit;

/** A dataset split three ways: train (without the validation examples), validation and test. */
export type RunDataset<D extends Dataset = Dataset> = D & {
  readonly validation: D['train'];
  /** How the validation split was carved (recorded in run.json). */
  readonly validationSplit: datasets.ValidationSplitInfo;
};

function slice<S extends Split>(split: S, from: number, to: number): S {
  if ('features' in split) {
    const d = split.features.length / Math.max(1, split.count);
    return {
      features: split.features.subarray(from * d, to * d),
      labels: split.labels.subarray(from, to),
      count: to - from,
    } as FeatureSplit as S;
  }
  const px = split.images.length / split.count;
  return {
    images: split.images.subarray(from * px, to * px),
    labels: split.labels.subarray(from, to),
    count: to - from,
  } as S;
}

function take<D extends Dataset>(dataset: D, spec: DatasetSpec): RunDataset<D> {
  const cut = <S extends Split>(split: S, n: number | undefined): S =>
    n === undefined || n >= split.count ? split : slice(split, 0, n);
  const train = cut(dataset.train, spec.trainSize);
  const size = spec.validationSize ?? Math.max(1, Math.round(train.count * DEFAULT_VALIDATION_FRACTION));
  const carved = datasets.carveValidation(
    train.labels,
    dataset.numClasses,
    size,
    spec.validationSeed ?? DEFAULT_VALIDATION_SEED,
  );
  const all = datasets.datasetView({ ...dataset, train } as Dataset, 'train');
  const pick = (positions: Int32Array) => datasets.materializeView({ ...all, positions });
  return {
    ...dataset,
    train: pick(carved.train),
    validation: pick(carved.validation),
    validationSplit: carved.info,
    test: cut(dataset.test, spec.testSize),
  } as unknown as RunDataset<D>;
}

let bundledDigits: ImageDataset | undefined;

/** The embedded digits a single-file build carries (built once), or undefined in the npm package. */
function bundledMnist(): ImageDataset | undefined {
  const digits = bundledAssets().mnistDigits;
  if (digits === undefined) return undefined;
  bundledDigits ??= datasets.embeddedMnistFromDigits(digits(), 'distill.mjs (embedded digits)');
  return bundledDigits;
}

/**
 * Loads a dataset with what own data bring along (files skipped, the unlabelled transfer set, the
 * preprocessing to save with models).
 */
export async function loadDatasetWithExtras(spec: DatasetSpec): Promise<{
  dataset: RunDataset;
  own?: OwnData;
}> {
  if (spec.name === 'folder' || spec.name === 'csv' || spec.name === 'npy') {
    const own = await loadOwnData(spec as OwnDataSpec);
    return { dataset: take(own.dataset, spec), own };
  }
  return { dataset: await loadDataset(spec) };
}

/** Loads a dataset by name (embedded, from a directory, its default location, or a download), or own data. */
export async function loadDataset(
  spec: DatasetSpec & { name: DatasetName },
): Promise<RunDataset<ImageDataset>>;
export async function loadDataset(spec: DatasetSpec): Promise<RunDataset>;
export async function loadDataset(spec: DatasetSpec): Promise<RunDataset> {
  checkDatasetDir(spec.name as DatasetName, spec.dir, 'dataset.dir (--data-dir)');
  let dataset: ImageDataset;
  switch (spec.name) {
    case 'folder':
    case 'csv':
    case 'npy':
      return (await loadDatasetWithExtras(spec)).dataset;
    case 'mnist-embedded':
      dataset = bundledMnist() ?? (await datasets.loadMnist({ source: 'embedded' }));
      break;
    case 'mnist':
      dataset = await datasets.loadMnist(spec.dir ? { source: 'dir', dir: spec.dir } : { source: 'url' });
      break;
    case 'fashion-mnist':
      dataset = await datasets.loadFashionMnist(spec.dir ? { source: 'dir', dir: spec.dir } : {});
      break;
    case 'cifar10':
      dataset = await datasets.loadCifar10(spec.dir ? { dir: spec.dir } : { download: true });
      break;
    case 'synthetic': {
      const side = spec.imageSize ?? 28;
      dataset = datasets.syntheticDataset({
        seed: spec.seed ?? 0,
        numClasses: spec.numClasses ?? 10,
        imageShape: [side, side, 1],
        trainCount: spec.trainSize ?? 1000,
        testCount: spec.testSize ?? 200,
      });
      break;
    }
    default:
      throw new InvalidArgumentError(`unknown dataset ${JSON.stringify(spec.name)}`);
  }
  return take(dataset, spec);
}

/** Options of {@link makeStream}. */
export interface StreamOptions {
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly augment?: TrainingSpec['augment'];
  readonly excludeClasses?: readonly number[] | undefined;
  /** Which split (default train). */
  readonly split?: 'train' | 'validation' | 'test';
  /** Positions of the split to keep (e.g. the train part when a validation split is held out). */
  readonly positions?: Int32Array;
}

/** Per-channel normalisation of CIFAR-10 (as labml's recipe); MNIST-like data stays in [0, 1] as in the paper. */
export const CIFAR_NORMALIZATION = { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] };

function validationAsTrain(dataset: Dataset): Dataset {
  const validation = (dataset as Partial<RunDataset>).validation;
  if (!validation) throw new InvalidArgumentError(`${dataset.name} has no validation split`);
  return { ...dataset, train: validation } as Dataset;
}

/** A batch stream over one split of a dataset. */
export function makeStream(dataset: Dataset, options: StreamOptions): BatchStream {
  if (
    isFeatureDataset(dataset) &&
    (options.augment?.shift || options.augment?.crop || options.augment?.flip)
  ) {
    throw new ConfigError(
      `augment: image augmentation (shift, crop, flip) does not apply to ${dataset.name}, a table of features; leave --augment out`,
      { where: 'augment' },
    );
  }
  const augment: datasets.Augmentation[] = [];
  if (options.augment?.shift) augment.push(datasets.randomShift(options.augment.shift));
  if (options.augment?.crop) augment.push(datasets.randomCropWithPadding(options.augment.crop));
  if (options.augment?.flip) augment.push(datasets.horizontalFlip());
  let view =
    options.split === 'validation'
      ? { ...datasets.datasetView(validationAsTrain(dataset), 'train'), name: `${dataset.name}/validation` }
      : datasets.datasetView(dataset, options.split ?? 'train');
  if (options.positions)
    view = {
      ...view,
      positions: options.positions,
      steps: [...view.steps, `positions=${options.positions.length}`],
    };
  return datasets.createBatchStream(view, {
    batchSize: options.batchSize,
    seed: options.seed,
    shuffle: options.shuffle,
    ...(augment.length ? { augment } : {}),
    ...(options.excludeClasses?.length ? { excludeClasses: options.excludeClasses } : {}),
    ...(dataset.name.startsWith('cifar') && !isFeatureDataset(dataset)
      ? { normalize: CIFAR_NORMALIZATION }
      : {}),
  });
}

/** Builds a zoo model from a name or `{ name, ...options }`. */
export function buildModel(spec: ModelSpec, dataset: Dataset, seed: number): tfl.LayersModel {
  const { name, ...opts } = typeof spec === 'string' ? { name: spec } : spec;
  return models.createModel(name as models.ModelName, {
    ...opts,
    inputShape: exampleShape(dataset),
    numClasses: dataset.numClasses,
    seed,
  });
}

/** Trainable parameters of a model. */
export function countParams(model: tfl.LayersModel): number {
  return models.countTrainableParams(model);
}

/** The model zoo. */
export function listZoo(): models.ModelInfo[] {
  return models.listModels();
}

/** Every registered loss with its paper and options (`distill losses`). */
export function listLossInfo(): losses.LossInfo[] {
  return losses.listLosses();
}

/** Names of the zoo models. */
export const MODEL_NAMES: readonly string[] = models.MODEL_NAMES;

/** Rejects an unknown zoo name up front (exit 2), listing the valid ones. */
export function checkModelName(spec: ModelSpec, where: string): void {
  const name = typeof spec === 'string' ? spec : spec.name;
  if (name.startsWith('mlp:')) {
    try {
      models.parseModelSpec(name);
      return;
    } catch (error) {
      throw new ConfigError(`${where}: ${(error as Error).message.replace(/^parseModelSpec: /, '')}`, {
        where,
      });
    }
  }
  if (!MODEL_NAMES.includes(name)) {
    throw new ConfigError(
      `${where}: unknown model ${JSON.stringify(name)}; valid names are ${MODEL_NAMES.join(', ')}, or mlp:UNITS,... (e.g. mlp:512,256)`,
      {
        where,
      },
    );
  }
}

// ---- training ------------------------------------------------------------------------------------

/** Options for one call of the trainer, in the runner's terms. */
export interface TrainCall {
  readonly model: tfl.LayersModel;
  readonly data: BatchStream;
  readonly validation?: BatchStream | undefined;
  readonly training: TrainingSpec & { epochs: number };
  readonly seed: number;
  readonly checkpointDir: string;
  readonly callbacks: readonly TrainingCallbacks[];
  readonly controller: trainer.TrainingController;
  /** For distillation: the teacher and the loss. */
  readonly distill?: {
    readonly teacher: tfl.LayersModel | Teacher;
    readonly loss: Exclude<LossName, 'ce'>;
    readonly temperature: number;
    readonly alpha: number;
    readonly options?: LossOptions;
    /** MLKD's strong view of the transfer set (same order, strong augmentation). */
    readonly strongView?: BatchStream;
    /** With an unlabelled transfer set: the labelled stream of the hard term (`data` is then the transfer set). */
    readonly labelled?: BatchStream | undefined;
  };
}

function optimizerSpec(t: TrainingSpec): trainer.OptimizerSpec {
  const lr = t.lr;
  const wd = t.weightDecay;
  switch (t.optimizer ?? 'adam') {
    case 'adam':
      return { name: 'adam', ...(lr ? { lr } : {}), ...(wd ? { weightDecay: wd } : {}) };
    case 'adamw':
      return { name: 'adamw', ...(lr ? { lr } : {}), ...(wd !== undefined ? { weightDecay: wd } : {}) };
    case 'sgd':
      return {
        name: 'sgd',
        ...(lr ? { lr } : {}),
        momentum: t.momentum ?? 0,
        ...(wd ? { weightDecay: wd } : {}),
      };
    case 'momentum':
      return {
        name: 'sgd',
        ...(lr ? { lr } : {}),
        momentum: t.momentum ?? 0.9,
        ...(wd ? { weightDecay: wd } : {}),
      };
    case 'nesterov':
      return {
        name: 'sgd',
        ...(lr ? { lr } : {}),
        momentum: t.momentum ?? 0.9,
        nesterov: true,
        ...(wd ? { weightDecay: wd } : {}),
      };
  }
}

function scheduleSpec(t: TrainingSpec, stepsPerEpoch: number): trainer.ScheduleSpec {
  const warmupSteps = (t.warmupEpochs ?? 0) * stepsPerEpoch;
  return { name: t.schedule ?? 'constant', ...(warmupSteps > 0 ? { warmupSteps } : {}) };
}

/** Runs `fit` or `distill` of the trainer with checkpoints in `checkpointDir` (resuming when any exist). */
export async function train(call: TrainCall): Promise<trainer.History> {
  const common = {
    epochs: call.training.epochs,
    optimizer: optimizerSpec(call.training),
    schedule: scheduleSpec(call.training, call.data.batchesPerEpoch),
    ...(call.training.clipNorm ? { clipGradNorm: call.training.clipNorm } : {}),
    seed: call.seed,
    callbacks: call.callbacks,
    ...(call.validation ? { validation: call.validation } : {}),
    ...(call.training.earlyStopping ? { earlyStopping: call.training.earlyStopping } : {}),
    // The store itself rather than `dir`, which the trainer would load by a variable import() that a
    // single-file build cannot follow.
    checkpoint: { store: new trainerNode.FileCheckpointStore(call.checkpointDir), keep: 2 },
    resume: true,
    // a loss past 1000 x the first step's, NaN, or an epoch at chance accuracy without any fall in loss
    divergence: { chance: true },
    controller: call.controller,
    // let the event loop run every few steps, so Ctrl-C (a signal callback) is seen promptly
    yieldEvery: 4,
  };
  if (!call.distill) return trainer.fit(call.model, call.data, common);
  return trainer.distill({
    ...common,
    teacher: call.distill.teacher,
    student: call.model,
    data: call.data,
    loss: call.distill.loss,
    temperature: call.distill.temperature,
    alpha: call.distill.alpha,
    ...trainerLossOptions(call.distill.options),
    ...(call.distill.strongView ? { strongView: call.distill.strongView } : {}),
    ...(call.distill.labelled ? { labelled: call.distill.labelled } : {}),
  });
}

/** The runner's loss settings as the trainer's distill options (strongAugment becomes a stream in the stage). */
function trainerLossOptions(options: LossOptions | undefined): Partial<trainer.DistillOptions> {
  if (!options) return {};
  const { strongAugment: _strong, ...rest } = options;
  return rest;
}

/** The trainer's divergence error (loss past its bound, NaN, chance accuracy), or undefined. */
export function asDivergence(error: unknown): trainer.TrainingDivergedError | undefined {
  return error instanceof trainer.TrainingDivergedError ? error : undefined;
}

/** A controller to stop training from outside (Ctrl-C). */
export function newController(): trainer.TrainingController {
  return new trainer.TrainingController();
}

/** Evaluates a model on a stream: accuracy, errors, NLL, ECE, per-class accuracy. */
export function evaluate(model: tfl.LayersModel, data: BatchStream): Promise<trainer.EvaluationResult> {
  return trainer.evaluate(model, data);
}

/** Saves a model (tfjs Layers format) into a directory. */
export async function saveModelDir(model: tfl.LayersModel, dir: string): Promise<void> {
  await models.saveModel(model, dir);
}

/** Loads a model saved by {@link saveModelDir} (or any tfjs Layers model.json path / URL). */
export function loadModelFrom(location: string): Promise<tfl.LayersModel> {
  return models.loadModel(location);
}

/**
 * Loads a teacher from a model.json path, directory or URL: any tfjs Layers model; a softmax head is
 * removed so it yields logits; its input shape and class count are checked against the dataset.
 */
export async function loadTeacherFrom(
  location: string,
  dataset: Dataset,
): Promise<{ model: tfl.LayersModel; notes: string[] }> {
  const result = await models.loadTeacher(location, {
    inputShape: exampleShape(dataset),
    numClasses: dataset.numClasses,
  });
  return { model: result.model, notes: [...result.messages] };
}
