import type { ImageDataset, Logs } from '@distilljs/core';
import { createBatchStream } from '@distilljs/datasets';
import { countTrainableParams, createModel } from '@distilljs/models';
import { distill, evaluate, fit, type History, type TrainingController } from '@distilljs/trainer';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { RunId } from './chart-data.js';
import type { RunResult } from './comparison.js';
import { findChoice } from './model-choices.js';
import type { RunSettings } from './run-settings.js';

/** What the page hears while a session trains. */
export interface SessionHooks {
  /** A run starts (its model is built) or ends. */
  onRunStart(
    run: RunId,
    info: { model: string; params: number; epochs: number; stepsPerEpoch: number; layersModel: LayersModel },
  ): void;
  onBatch(run: RunId, epoch: number, stepInEpoch: number, stepsPerEpoch: number, logs: Logs): void;
  onEpoch(run: RunId, epoch: number, logs: Logs): void;
  onRunEnd(run: RunId, result: RunResult, model: LayersModel): void | Promise<void>;
  onMessage(text: string): void;
}

/** The models a session leaves behind. */
export interface SessionModels {
  teacher: LayersModel | undefined;
  baseline: LayersModel | undefined;
  distilled: LayersModel | undefined;
}

/** Builds a zoo model for a page choice, sized for the dataset. */
export function buildChoice(choiceId: string, data: ImageDataset, seed: number): LayersModel {
  const choice = findChoice(choiceId);
  if (!choice) throw new Error(`No model choice '${choiceId}'.`);
  return createModel(choice.zoo as Parameters<typeof createModel>[0], {
    ...choice.options,
    inputShape: [...data.imageShape],
    numClasses: data.numClasses,
    seed,
  });
}

/**
 * One playground session: train the teacher (unless one is given) on the first `trainSize` training
 * examples, then, on the first `studentSize` of them, the baseline student on labels and the distilled student (same architecture and initial weights as the baseline) on the teacher's
 * soft targets at `temperature` mixed with the labels by `alpha`. Each run is evaluated on the test
 * examples after every epoch. `controller.stop()` ends the current run after its batch and skips the rest.
 */
export async function runSession(
  settings: RunSettings,
  data: ImageDataset,
  hooks: SessionHooks,
  controller: TrainingController,
  existingTeacher?: { model: LayersModel; name: string },
): Promise<SessionModels> {
  const train = (take: number) =>
    createBatchStream(data, {
      split: 'train',
      batchSize: settings.batchSize,
      shuffle: true,
      seed: settings.seed,
      take,
    });
  const test = createBatchStream(data, { split: 'test', batchSize: 500, take: settings.testSize });
  const out: SessionModels = { teacher: existingTeacher?.model, baseline: undefined, distilled: undefined };
  const yieldEvery = 1;

  const track = (run: RunId, stepsPerEpoch: number) => ({
    onBatchEnd: (_step: number, logs: Logs) => {
      const epoch = Math.floor(_step / stepsPerEpoch);
      hooks.onBatch(run, epoch, logs.batch ?? _step % stepsPerEpoch, stepsPerEpoch, logs);
    },
    onEpochEnd: (epoch: number, logs: Logs) => hooks.onEpoch(run, epoch, logs),
    onMessage: (m: string) => hooks.onMessage(`${run}: ${m}`),
  });

  const finish = async (run: RunId, model: LayersModel, name: string, history: History) => {
    const evaluation = history.final?.evaluation ?? (await evaluate(model, test));
    const result: RunResult = {
      run,
      model: name,
      params: countTrainableParams(model),
      accuracy: evaluation.accuracy,
      testLoss: evaluation.nll,
      testCount: evaluation.count,
      epochs: history.epochs.length,
      seconds: history.seconds,
      stopped: history.stopReason === 'stopped',
    };
    await hooks.onRunEnd(run, result, model);
  };

  const trainStream = train(settings.trainSize);
  if (!existingTeacher) {
    const teacher = buildChoice(settings.teacherModel, data, settings.seed);
    out.teacher = teacher;
    hooks.onRunStart('teacher', {
      model: settings.teacherModel,
      params: countTrainableParams(teacher),
      epochs: settings.teacherEpochs,
      stepsPerEpoch: trainStream.batchesPerEpoch,
      layersModel: teacher,
    });
    const history = await fit(teacher, trainStream, {
      epochs: settings.teacherEpochs,
      optimizer: { name: 'adam', lr: settings.learningRate },
      seed: settings.seed,
      validation: test,
      yieldEvery,
      controller,
      callbacks: track('teacher', trainStream.batchesPerEpoch),
    });
    await finish('teacher', teacher, settings.teacherModel, history);
    if (controller.stopRequested) return out;
  }
  const teacher = out.teacher!;
  // Both students see the same first `studentSize` training examples (balanced across classes, since
  // the split interleaves the digits): the transfer set on which soft targets are compared with labels.
  const studentStream = train(Math.min(settings.studentSize, settings.trainSize));

  // Baseline and distilled students start from the same weights (same seed), so the only difference
  // between them is what they learn from.
  const studentSeed = settings.seed + 1;
  const baseline = buildChoice(settings.studentModel, data, studentSeed);
  out.baseline = baseline;
  hooks.onRunStart('baseline', {
    model: settings.studentModel,
    params: countTrainableParams(baseline),
    epochs: settings.studentEpochs,
    stepsPerEpoch: studentStream.batchesPerEpoch,
    layersModel: baseline,
  });
  const baseHistory = await fit(baseline, studentStream, {
    epochs: settings.studentEpochs,
    optimizer: { name: 'adam', lr: settings.learningRate },
    seed: studentSeed,
    validation: test,
    yieldEvery,
    controller,
    callbacks: track('baseline', studentStream.batchesPerEpoch),
  });
  await finish('baseline', baseline, settings.studentModel, baseHistory);
  if (controller.stopRequested) return out;

  const student = buildChoice(settings.studentModel, data, studentSeed);
  out.distilled = student;
  hooks.onRunStart('distilled', {
    model: settings.studentModel,
    params: countTrainableParams(student),
    epochs: settings.studentEpochs,
    stepsPerEpoch: studentStream.batchesPerEpoch,
    layersModel: student,
  });
  const kdHistory = await distill({
    teacher,
    student,
    data: studentStream,
    temperature: settings.temperature,
    alpha: settings.alpha,
    epochs: settings.studentEpochs,
    optimizer: { name: 'adam', lr: settings.learningRate },
    seed: studentSeed,
    validation: test,
    yieldEvery,
    controller,
    callbacks: track('distilled', studentStream.batchesPerEpoch),
  });
  await finish('distilled', student, settings.studentModel, kdHistory);
  return out;
}
