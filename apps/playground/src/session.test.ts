import '@tensorflow/tfjs-backend-cpu';
import { syntheticDataset } from '@distilljs/datasets';
import { countTrainableParams } from '@distilljs/models';
import { TrainingController } from '@distilljs/trainer';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunId } from './chart-data.js';
import type { RunResult } from './comparison.js';
import { DEFAULT_STUDENT, DEFAULT_TEACHER, MODEL_CHOICES } from './model-choices.js';
import type { RunSettings } from './run-settings.js';
import { buildChoice, runSession, type SessionHooks, sessionSplits } from './session.js';

const data = syntheticDataset({ seed: 3, trainCount: 200, testCount: 100 });
const settings: RunSettings = {
  dataset: 'synthetic',
  teacherModel: 'mlp-100x100',
  studentModel: 'mlp-10',
  teacherEpochs: 2,
  studentEpochs: 1,
  temperature: 4,
  alpha: 0.9,
  trainSize: 200,
  studentSize: 100,
  testSize: 100,
  batchSize: 50,
  learningRate: 0.003,
  seed: 5,
};

function recorder(onBatch?: (run: RunId) => void) {
  const events: string[] = [];
  const results: RunResult[] = [];
  const hooks: SessionHooks = {
    onRunStart: (run, info) => events.push(`start ${run} ${info.epochs}x${info.stepsPerEpoch}`),
    onBatch: (run, epoch, step) => {
      events.push(`batch ${run} ${epoch}.${step}`);
      onBatch?.(run);
    },
    onEpoch: (run, epoch, logs) =>
      events.push(`epoch ${run} ${epoch} ${logs.val_acc === undefined ? 'no-val' : 'val'}`),
    onRunEnd: (_run, result) => {
      results.push(result);
    },
    onMessage: () => {},
  };
  return { events, results, hooks };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('model choices', () => {
  it('every choice builds from the zoo for 28x28x1 with 10 logits', () => {
    for (const c of MODEL_CHOICES) {
      const m = buildChoice(c.id, data, 1);
      expect(m.outputs[0]!.shape, c.id).toEqual([null, 10]);
      m.dispose();
    }
  });
  it('the default teacher is far larger than the default student', () => {
    const t = buildChoice(DEFAULT_TEACHER, data, 1);
    const s = buildChoice(DEFAULT_STUDENT, data, 1);
    expect(countTrainableParams(t)).toBe(784 * 400 + 400 + 400 * 400 + 400 + 400 * 10 + 10);
    expect(countTrainableParams(s)).toBe(784 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10);
    t.dispose();
    s.dispose();
  });
});

describe('runSession', () => {
  it('trains teacher (all examples), baseline and distilled student (the student subset) in order, evaluating after each epoch', async () => {
    const before = tf.memory().numTensors;
    const r = recorder();
    const models = await runSession(settings, data, r.hooks, new TrainingController());
    expect(r.events.filter((e) => e.startsWith('start'))).toEqual([
      'start teacher 2x4',
      'start baseline 1x2',
      'start distilled 1x2',
    ]);
    expect(r.events.filter((e) => e.startsWith('epoch'))).toEqual([
      'epoch teacher 0 val',
      'epoch teacher 1 val',
      'epoch baseline 0 val',
      'epoch distilled 0 val',
    ]);
    expect(r.events.filter((e) => e.startsWith('batch teacher'))).toHaveLength(8);
    expect(r.results.map((x) => [x.run, x.epochs, x.testCount, x.stopped])).toEqual([
      ['teacher', 2, 100, false],
      ['baseline', 1, 100, false],
      ['distilled', 1, 100, false],
    ]);
    // The teacher learns this easy data well beyond chance.
    expect(r.results[0]!.accuracy).toBeGreaterThan(0.5);
    // Baseline and distilled student share architecture and initial weights; only the targets differ.
    expect(r.results[1]!.params).toBe(r.results[2]!.params);
    expect(r.results[1]!.testLoss).not.toBe(r.results[2]!.testLoss);
    for (const m of [models.teacher, models.baseline, models.distilled]) m?.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reuses a given teacher without training it', async () => {
    const teacher = buildChoice('mlp-10', data, 9);
    const weights = teacher.getWeights().map((w) => Array.from(w.dataSync()));
    const r = recorder();
    const models = await runSession(settings, data, r.hooks, new TrainingController(), {
      model: teacher,
      name: 'mine',
    });
    expect(r.results.map((x) => x.run)).toEqual(['baseline', 'distilled']);
    expect(models.teacher).toBe(teacher);
    expect(teacher.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(weights);
    for (const m of [teacher, models.baseline, models.distilled]) m?.dispose();
  });

  it('Stop ends the current run after its batch and skips the others', async () => {
    const controller = new TrainingController();
    const r = recorder(() => controller.stop('test'));
    const models = await runSession(settings, data, r.hooks, controller);
    expect(r.results.map((x) => [x.run, x.stopped])).toEqual([['teacher', true]]);
    expect(r.events.filter((e) => e.startsWith('batch'))).toHaveLength(1);
    expect(models.baseline).toBeUndefined();
    models.teacher?.dispose();
  });
});

describe('the session protocol', () => {
  it('holds out a validation split no model trains on; students train on part of the teacher set', () => {
    const splits = sessionSplits(settings, data);
    const held = new Set(splits.validation.positions);
    expect(splits.validationCount).toBe(20);
    expect(splits.teacher.positions).toHaveLength(180);
    expect(Array.from(splits.teacher.positions).some((p) => held.has(p))).toBe(false);
    expect(Array.from(splits.students.positions)).toEqual(Array.from(splits.teacher.positions).slice(0, 100));
    expect(splits.validation.name).toBe(`${data.name}/validation`);
  });

  it('refuses a reused teacher that does not fit the dataset, before training anything', async () => {
    const other = syntheticDataset({
      seed: 4,
      trainCount: 60,
      testCount: 20,
      numClasses: 5,
      imageShape: [8, 8, 1],
    });
    const teacher = buildChoice(DEFAULT_TEACHER, data, 1);
    const { hooks, events } = recorder();
    await expect(
      runSession(
        { ...settings, trainSize: 60, studentSize: 40, testSize: 20 },
        other,
        hooks,
        new TrainingController(),
        {
          model: teacher,
          name: 'an MNIST teacher',
        },
      ),
    ).rejects.toThrow(
      /the teacher an MNIST teacher takes 28x28x1 inputs and gives 10 classes, but .* has 8x8x1 images in 5 classes/,
    );
    expect(events).toEqual([]);
    teacher.dispose();
  });
});
