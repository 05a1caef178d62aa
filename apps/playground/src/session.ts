import { type ImageDataset, isTeacher, type Logs, type Teacher } from '@distilljs/core';
import { carveValidation, createBatchStream, datasetView } from '@distilljs/datasets';
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
  /** The trained teacher, or the one given (a Layers model or any Teacher: ONNX, graph model, ...). */
  teacher: LayersModel | Teacher | undefined;
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

/** Share of the first `trainSize` training examples held out as the validation split. */
export const VALIDATION_FRACTION = 0.1;

/**
 * The session's splits: 10% of the first `trainSize` training examples (seeded with 0, stratified by
 * class) are the validation split, on which no model trains; the teacher trains on the rest, the students
 * on the first `studentSize` of the rest; the first `testSize` test examples are the test split.
 */
export function sessionSplits(settings: RunSettings, data: ImageDataset) {
  const n = Math.min(settings.trainSize, data.train.count);
  const carved = carveValidation(
    data.train.labels.subarray(0, n),
    data.numClasses,
    Math.max(1, Math.round(n * VALIDATION_FRACTION)),
    0,
    'Training examples',
  );
  const all = datasetView(data, 'train');
  const view = (positions: Int32Array, step: string) => ({ ...all, positions, steps: [...all.steps, step] });
  const studentPositions = carved.train.slice(0, Math.min(settings.studentSize, carved.train.length));
  return {
    teacher: view(carved.train, `train=${carved.train.length}`),
    students: view(studentPositions, `students=${studentPositions.length}`),
    validation: {
      ...view(carved.validation, `validation=${carved.validation.length}`),
      name: `${data.name}/validation`,
    },
    validationCount: carved.validation.length,
  };
}

/** A reused teacher must take this dataset's images and give one logit per class. */
function checkTeacherFits(teacher: LayersModel | Teacher, name: string, data: ImageDataset): void {
  const want = data.imageShape.join('x');
  const input = isTeacher(teacher)
    ? (teacher.inputShape?.join('x') ?? want)
    : teacher.inputs[0]?.shape.slice(1).join('x');
  const classes = isTeacher(teacher)
    ? teacher.numClasses
    : teacher.outputs[0]?.shape[teacher.outputs[0]!.shape.length - 1];
  if (input !== want || classes !== data.numClasses) {
    throw new Error(
      `the teacher ${name} takes ${input} inputs and gives ${classes} classes, but ${data.name} has ${want} images in ${data.numClasses} classes; train or load a teacher for this dataset`,
    );
  }
}

/**
 * One playground session: train the teacher (unless one is given) on the training examples, then the
 * baseline student on labels and the distilled student (same architecture and initial weights as the
 * baseline) on the teacher's soft targets at `temperature` mixed with the labels by `alpha`, on the first
 * `studentSize` of them (see {@link sessionSplits}). The per-epoch curves (`val_*`) are on the validation
 * split; each run's final model is scored once on the test examples at its end. `controller.stop()` ends
 * the current run after its batch and skips the rest.
 */
export async function runSession(
  settings: RunSettings,
  data: ImageDataset,
  hooks: SessionHooks,
  controller: TrainingController,
  existingTeacher?: { model: LayersModel | Teacher; name: string; file?: string | undefined },
): Promise<SessionModels> {
  if (existingTeacher) checkTeacherFits(existingTeacher.model, existingTeacher.name, data);
  const splits = sessionSplits(settings, data);
  const train = (view: typeof splits.teacher) =>
    createBatchStream(view, { batchSize: settings.batchSize, shuffle: true, seed: settings.seed });
  const validation = createBatchStream(splits.validation, { batchSize: 500 });
  const test = createBatchStream(data, { split: 'test', batchSize: 500, take: settings.testSize });
  const teacherId =
    existingTeacher?.name ?? `${settings.teacherModel} on ${data.name} (seed ${settings.seed})`;
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
    // the test split, once, on the final model
    const evaluation = await evaluate(model, test);
    const result: RunResult = {
      run,
      dataset: settings.dataset,
      ...(run === 'baseline' ? {} : { teacher: teacherId }),
      ...(run !== 'baseline' && existingTeacher?.file ? { teacherFile: existingTeacher.file } : {}),
      validationAccuracy: history.final?.evaluation?.accuracy,
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

  const trainStream = train(splits.teacher);
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
      validation,
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
  const studentStream = train(splits.students);

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
    validation,
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
    validation,
    yieldEvery,
    controller,
    callbacks: track('distilled', studentStream.batchesPerEpoch),
  });
  await finish('distilled', student, settings.studentModel, kdHistory);
  return out;
}
