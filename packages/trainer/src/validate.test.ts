import '@tensorflow/tfjs-backend-cpu';
import { ConfigError, InvalidArgumentError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, sameBits, toyStream, weightBytes } from './__fixtures__/toy.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { type DistillOptions, distill } from './distill.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Runs distill with one option changed and checks the error came before any training (and leaked nothing). */
async function rejectsBeforeTraining(overrides: Partial<DistillOptions>): Promise<Error> {
  const teacher = mlp(8, [16], 4, 1);
  const student = mlp(8, [8], 4, 2);
  const data = toyStream(gaussianData({ seed: 1, count: 32 }), { batchSize: 16 });
  const before = weightBytes(student);
  const start = tf.memory().numTensors;
  let trained = false;
  const err = await distill({
    teacher,
    student,
    data,
    epochs: 1,
    callbacks: {
      onTrainBegin: () => {
        trained = true;
      },
    },
    ...overrides,
  } as DistillOptions).then(
    () => new Error('distill did not throw'),
    (e: unknown) => e as Error,
  );
  expect(err).toBeInstanceOf(Error);
  expect(trained).toBe(false);
  expect(data.epochCalls).toEqual([]); // not even the teacher cache pass started
  expect(sameBits(weightBytes(student), before)).toBe(true);
  expect(tf.memory().numTensors).toBe(start);
  return err;
}

describe('bad input is a clear error before any training', () => {
  it('teacher and student with different class counts', async () => {
    const err = await rejectsBeforeTraining({ teacher: mlp(8, [16], 10, 1) });
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err.message).toBe(
      "distill: 'teacher' outputs 10 classes but 'student' outputs 4; teacher and student must have the same class count",
    );
  });

  it('data whose example shape does not fit the model', async () => {
    const err = await rejectsBeforeTraining({ student: mlp(6, [8], 4, 2) });
    expect(err.message).toBe(
      "distill: the data's examples have shape [8] but 'student' takes inputs of shape [6]; reshape the data or build the model for [8]",
    );
    const err2 = await rejectsBeforeTraining({ teacher: mlp(5, [8], 4, 2) });
    expect(err2.message).toMatch(/'teacher' takes inputs of shape \[5\]/);
    await expect(
      fit(mlp(6, [8], 4, 2), toyStream(gaussianData({ seed: 1, count: 8 }), { batchSize: 8 }), { epochs: 1 }),
    ).rejects.toThrow(/fit: the data's examples have shape \[8\] but 'model' takes inputs of shape \[6\]/);
    await expect(
      evaluate(mlp(8, [8], 3, 2), toyStream(gaussianData({ seed: 1, count: 8 }), { batchSize: 8 })),
    ).rejects.toThrow("evaluate: the data has 4 classes but 'model' outputs 3 logits; they must agree");
  });

  it('temperature <= 0 and alpha outside [0, 1]', async () => {
    for (const temperature of [0, -1, Number.NaN]) {
      const err = await rejectsBeforeTraining({ temperature });
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toMatch(/^distill: argument 'temperature' must be a finite number > 0, got /);
    }
    const err = await rejectsBeforeTraining({ alpha: 1.5 });
    expect(err.message).toBe("distill: argument 'alpha' must be a number in [0, 1], got 1.5");
  });

  it('unknown optimiser, schedule and loss names', async () => {
    const opt = await rejectsBeforeTraining({ optimizer: 'adamax' as never });
    expect(opt).toBeInstanceOf(ConfigError);
    expect(opt.message).toBe(
      `createOptimizer: unknown optimizer "adamax"; valid names are 'adam', 'adamw', 'sgd'`,
    );
    const sched = await rejectsBeforeTraining({ schedule: 'linear' as never });
    expect(sched.message).toMatch(
      /createSchedule: 'name' must be one of 'constant', 'step', 'cosine', got "linear"/,
    );
    const loss = await rejectsBeforeTraining({ loss: 'kld' });
    expect(loss).toBeInstanceOf(ConfigError);
    expect(loss.message).toMatch(
      /distill: option 'loss' is not a known loss: getLoss: argument 'name' must be one of 'kd', 'dkd'/,
    );
    const feat = await rejectsBeforeTraining({ loss: 'hint' });
    expect(feat.message).toMatch(/'hint' is a feature loss; pass it as featureLoss/);
    const needTaps = await rejectsBeforeTraining({ featureLoss: { loss: 'attention-transfer' } });
    expect(needTaps.message).toMatch(/a feature loss needs one tfjs Layers teacher and feature-tap models/);
  });

  it('a resume from a checkpoint of another model', async () => {
    const store = new MemoryCheckpointStore();
    const data = gaussianData({ seed: 1, count: 32 });
    await distill({
      teacher: mlp(8, [16], 4, 1),
      student: mlp(8, [12, 12], 4, 2),
      data: toyStream(data, { batchSize: 16 }),
      epochs: 1,
      checkpoint: { store },
    });
    const err = await rejectsBeforeTraining({ checkpoint: { store }, resume: true });
    expect(err.message).toMatch(
      /^distill: cannot resume from memory\/ckpt-0000000002\.djsckpt: it holds 6 weights .* \(a checkpoint of another model\?\)$/,
    );
    const fromFit = new MemoryCheckpointStore();
    await fit(mlp(8, [8], 4, 2), toyStream(data, { batchSize: 16 }), {
      epochs: 1,
      checkpoint: { store: fromFit },
    });
    const err2 = await rejectsBeforeTraining({ checkpoint: { store: fromFit }, resume: true });
    expect(err2.message).toMatch(/it was written by fit\(\), not distill\(\)/);
  });

  it('other options: epochs, clipGradNorm, teacher = student, no teacher, resume without a store', async () => {
    expect((await rejectsBeforeTraining({ epochs: 0 })).message).toBe(
      "distill: option 'epochs' must be an integer >= 1, got 0",
    );
    expect((await rejectsBeforeTraining({ clipGradNorm: -1 })).message).toMatch(
      /'clipGradNorm' must be a finite number > 0/,
    );
    const student = mlp(8, [8], 4, 2);
    expect((await rejectsBeforeTraining({ student, teacher: student })).message).toMatch(
      /'teacher' and 'student' are the same model/,
    );
    expect((await rejectsBeforeTraining({ teacher: undefined })).message).toMatch(
      /argument 'teacher' must be a tf.LayersModel/,
    );
    expect((await rejectsBeforeTraining({ resume: true })).message).toMatch(
      /'resume' needs the 'checkpoint' option/,
    );
    expect((await rejectsBeforeTraining({ earlyStopping: { monitor: 'val_acc' } })).message).toMatch(
      /needs the 'validation' option/,
    );
    expect(
      (
        await rejectsBeforeTraining({
          teacherCache: { mode: 'on' },
          data: toyStream(gaussianData({ seed: 1, count: 32 }), { batchSize: 16, augmented: true }),
        })
      ).message,
    ).toMatch(/teacherCache.mode 'on' is impossible: the transfer set is randomly augmented/);
  });
});
