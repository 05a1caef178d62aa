import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type BatchStream,
  ConfigError,
  type ImageDataset,
  type Teacher,
  type TrainingCallbacks,
} from '@distilljs/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { DivergedRunError, InterruptedError } from './exit-code.js';
import type { LossName, ModelSpec, TrainingSpec } from './experiment-schema.js';
import type { InterruptHandler } from './interrupt.js';
import type { Io } from './io.js';
import type { LossOptions } from './loss-options.js';
import { type OwnData, savePreprocessing, transferWithUnlabelled } from './own-data.js';
import { createProgress } from './progress.js';
import { type RunRecord, recordTestLook, type StageResult, saveRunRecord } from './run-record.js';
import * as toolkit from './toolkit.js';

/** What every stage of a run shares. */
export interface RunContext {
  readonly runDir: string;
  readonly io: Io;
  readonly quiet: boolean;
  readonly interrupts: InterruptHandler;
  readonly record: RunRecord;
  readonly dataset: toolkit.RunDataset;
  /** The validation split (carved from training): per-epoch metrics, early stopping, every choice. */
  readonly validation: BatchStream;
  /** The test split, evaluated once per model at the end; absent when the run must not read it. */
  readonly test?: BatchStream | undefined;
  /** Own data's extras: the unlabelled transfer set, the preprocessing saved with each model. */
  readonly own?: OwnData | undefined;
  /** Extra callbacks for every stage (tests). */
  readonly callbacks?: readonly TrainingCallbacks[];
}

/** One model to train (or to load, when a finished stage is resumed). */
export interface StageSpec {
  readonly id: string;
  readonly name: string;
  readonly role: StageResult['role'];
  readonly seed: number;
  readonly model: ModelSpec;
  readonly training: TrainingSpec & { epochs: number; batchSize: number };
  readonly distill?: {
    readonly teacher: tfl.LayersModel | Teacher;
    readonly loss: Exclude<LossName, 'ce'>;
    readonly temperature: number;
    readonly alpha: number;
    /** Loss-specific settings (DKD, DIST, NKD, MLKD weights, logit standardisation, CTKD, MLKD's strong view). */
    readonly options?: LossOptions;
  };
  readonly excludeClasses?: readonly number[] | undefined;
  /** The teacher's seed, for a distilled student of a teacher trained in the same run. */
  readonly teacherSeed?: number | undefined;
  /** Where a loaded teacher came from (`teacher.path`). */
  readonly teacherPath?: string | undefined;
}

function figures(e: Awaited<ReturnType<typeof toolkit.evaluate>>): NonNullable<StageResult['test']> {
  return {
    count: e.count,
    errors: e.errors,
    accuracy: e.accuracy,
    nll: e.nll,
    ece: e.ece,
    perClassAccuracy: e.perClassAccuracy,
  };
}

/** Refuses an empty training set; says so when one batch is larger than the whole training set. */
function checkTrainingSet(ctx: RunContext, spec: StageSpec, size: number): void {
  const excluded = spec.excludeClasses?.length
    ? ` after --exclude-class ${spec.excludeClasses.join(',')}`
    : '';
  if (size === 0) {
    throw new ConfigError(
      `the training set of ${spec.name} is empty: ${ctx.dataset.name} has ${ctx.dataset.train.count} training examples, 0 left${excluded}; give a dataset (--dataset, --data-dir, --train-size) with training examples`,
      { where: 'dataset' },
    );
  }
  if (spec.training.batchSize > size) {
    const note = `--batch-size ${spec.training.batchSize} is larger than the ${size} training examples${excluded}: each epoch is one batch of ${size}`;
    ctx.record.notes = [...(ctx.record.notes ?? []), note];
    if (!ctx.quiet) ctx.io.stderr.write(`note: ${note}\n`);
  }
}

/** @internal The one-line CLI message of a diverged stage: what happened, what was kept, which flags to change. */
export function divergedRun(
  spec: StageSpec,
  d: NonNullable<ReturnType<typeof toolkit.asDivergence>>,
): DivergedRunError {
  const what =
    d.reason === 'non-finite'
      ? `the loss became ${d.loss} at step ${d.step}`
      : d.reason === 'loss-bound'
        ? `the loss reached ${d.loss.toPrecision(3)} at step ${d.step}, past its bound (1000 x the first step's loss)`
        : `after epoch ${d.epoch + 1} the training accuracy is at chance and the loss (${d.loss.toPrecision(3)}) has not fallen`;
  const kept = d.checkpoint
    ? `the last good checkpoint ${d.checkpoint} is kept`
    : 'no checkpoint had been written yet';
  const lr = spec.training.lr === undefined ? '' : ` (this run: ${spec.training.lr})`;
  return new DivergedRunError(
    `${spec.name} (seed ${spec.seed}) diverged: ${what}; ${kept}. Lower --lr${lr} or add --clip-grad-norm 1 (in an experiment file: lr, clipNorm), then start a new run`,
    { cause: d },
  );
}

function modelLabel(spec: ModelSpec): string {
  if (typeof spec === 'string') return spec;
  const h = spec.hiddenUnits ? `[${spec.hiddenUnits.join('-')}]` : '';
  return `${spec.name}${h}`;
}

/**
 * Trains one model with the trainer (fit, or distill when `spec.distill` is set), checkpointing into
 * `<run>/checkpoints/<id>` with per-epoch metrics on the validation split, saves it to `<run>/models/<id>`,
 * then scores the final model on the validation split and, once, on the test split (recorded in run.json).
 * A stage already finished in the run record is loaded instead of retrained; an unfinished one resumes
 * from its newest checkpoint. Ctrl-C stops after the current step (a checkpoint is written) and throws
 * {@link InterruptedError}.
 */
export async function runStage(
  ctx: RunContext,
  spec: StageSpec,
): Promise<{ result: StageResult; model: tfl.LayersModel }> {
  const modelDir = join('models', spec.id);
  const done = ctx.record.stages.find((s) => s.id === spec.id);
  if (done && existsSync(join(ctx.runDir, modelDir, 'model.json'))) {
    const model = await toolkit.loadModelFrom(join(ctx.runDir, modelDir));
    if (!ctx.quiet)
      ctx.io.stderr.write(`${spec.name} (seed ${spec.seed}): done earlier, loaded from ${modelDir}\n`);
    return { result: done, model };
  }
  const model = toolkit.buildModel(spec.model, ctx.dataset, spec.seed);
  const streamOptions = {
    batchSize: spec.training.batchSize,
    seed: spec.seed,
    shuffle: true,
    augment: spec.training.augment,
    excludeClasses: spec.excludeClasses,
  };
  let data = toolkit.makeStream(ctx.dataset, streamOptions);
  checkTrainingSet(ctx, spec, data.size);
  const strongAugment = spec.distill?.options?.strongAugment;
  // MLKD's strong view: the same stream (same seed, order and examples), only the augmentation changed.
  const strongView = strongAugment
    ? toolkit.makeStream(ctx.dataset, { ...streamOptions, augment: strongAugment })
    : undefined;
  let labelled: BatchStream | undefined;
  const unlabelled = spec.distill ? ctx.own?.unlabelled : undefined;
  if (unlabelled) {
    // soft term on labelled + unlabelled images, hard term on the labelled ones
    labelled = data;
    const transfer = transferWithUnlabelled(ctx.dataset as ImageDataset, undefined, unlabelled);
    data = toolkit.makeStream(transfer, streamOptions);
  }
  const controller = toolkit.newController();
  const release = ctx.interrupts.add(controller);
  const progress = createProgress({
    label: `${spec.name} (seed ${spec.seed})`,
    silent: ctx.quiet,
    stream: ctx.io.stderr,
  });
  let history: Awaited<ReturnType<typeof toolkit.train>>;
  try {
    history = await toolkit.train({
      model,
      data,
      validation: ctx.validation,
      training: spec.training,
      seed: spec.seed,
      checkpointDir: join(ctx.runDir, 'checkpoints', spec.id),
      callbacks: [progress, ...(ctx.callbacks ?? [])],
      controller,
      ...(spec.distill
        ? { distill: { ...spec.distill, ...(strongView ? { strongView } : {}), labelled } }
        : {}),
    });
  } catch (error) {
    const diverged = toolkit.asDivergence(error);
    if (diverged) throw divergedRun(spec, diverged);
    throw error;
  } finally {
    release();
  }
  if (history.stopReason === 'stopped') {
    model.dispose();
    ctx.record.status = 'interrupted';
    saveRunRecord(ctx.runDir, ctx.record);
    throw new InterruptedError(
      `interrupted during ${spec.name} (seed ${spec.seed}) at step ${history.steps}; checkpoint written. Continue with: --resume ${ctx.runDir}`,
      ctx.runDir,
      ctx.interrupts.signal,
    );
  }
  await toolkit.saveModelDir(model, join(ctx.runDir, modelDir));
  savePreprocessing(join(ctx.runDir, modelDir), ctx.own?.preprocessing);
  const validation = figures(await toolkit.evaluate(model, ctx.validation));
  let test: StageResult['test'];
  if (ctx.test) {
    test = figures(await toolkit.evaluate(model, ctx.test));
    recordTestLook(ctx.record, { stage: spec.id, model: 'final' });
  }
  const best = history.best;
  const result: StageResult = {
    id: spec.id,
    name: spec.name,
    role: spec.role,
    seed: spec.seed,
    model: modelLabel(spec.model),
    params: toolkit.countParams(model),
    epochs: spec.training.epochs,
    steps: history.steps,
    seconds: history.seconds,
    settings: {
      ...spec.training,
      ...(spec.distill
        ? {
            loss: spec.distill.loss,
            temperature: spec.distill.temperature,
            alpha: spec.distill.alpha,
            ...spec.distill.options,
          }
        : { loss: 'ce' }),
      ...(spec.excludeClasses?.length ? { excludeClasses: spec.excludeClasses } : {}),
      ...(spec.teacherPath ? { teacher: spec.teacherPath } : {}),
    },
    ...(spec.teacherSeed !== undefined ? { teacherSeed: spec.teacherSeed } : {}),
    validation,
    ...(best && best.logs[best.monitor] !== undefined
      ? { bestOnValidation: { epoch: best.epoch, monitor: best.monitor, value: best.logs[best.monitor]! } }
      : {}),
    ...(test ? { test } : {}),
    history: history.epochs.map((e) => ({ epoch: e.epoch, logs: { ...e.logs } })),
    notes: [...history.notes],
    modelDir,
  };
  ctx.record.stages = [...ctx.record.stages.filter((s) => s.id !== spec.id), result];
  saveRunRecord(ctx.runDir, ctx.record);
  return { result, model };
}
