import '@tensorflow/tfjs-backend-cpu';
import { type Batch, type BatchStream, DistillError } from '@distilljs/core';
import { getLoss, hintLoss } from '@distilljs/losses';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, sameBits, toyStream, weightBytes } from './__fixtures__/toy.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { distill } from './distill.js';
import { evaluate } from './evaluate.js';
import { fit } from './fit.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Counts calls of a model's apply (teacher forward passes). */
function countApplies(model: tfl.LayersModel): { calls: number } {
  const counter = { calls: 0 };
  const original = model.apply.bind(model);
  model.apply = ((...args: Parameters<typeof original>) => {
    counter.calls++;
    return original(...args);
  }) as typeof model.apply;
  return counter;
}

describe('distill', () => {
  it('a distilled student beats the same student trained on the few labels alone', async () => {
    // Overlapping Gaussian classes. The teacher sees 2000 labelled examples; the student has only 32
    // labelled ones, plus a transfer set of 600 unlabelled examples (label -1) the teacher labels softly.
    // Over five different seed sets the distilled student won by 6 to 12 points of accuracy.
    const spread = 1.6;
    const teacherData = gaussianData({ seed: 11, count: 2000, spread, dim: 8, numClasses: 4 });
    const few = gaussianData({ seed: 12, count: 32, spread, dim: 8, numClasses: 4 });
    const pool = gaussianData({ seed: 13, count: 632, spread, dim: 8, numClasses: 4 });
    // Transfer set: the same 32 labelled examples at indices 0..31, then 600 unlabelled ones.
    const transfer = {
      ...pool,
      x: Float32Array.from(pool.x, (v, i) => (i < 32 * 8 ? few.x[i]! : v)),
      y: Int32Array.from(pool.y, (v, i) => (i < 32 ? few.y[i]! : v)),
    };
    const test = toyStream(gaussianData({ seed: 14, count: 1000, spread, dim: 8, numClasses: 4 }), {
      batchSize: 250,
      shuffle: false,
    });

    const teacher = mlp(8, [64, 64], 4, 100);
    await fit(teacher, toyStream(teacherData, { batchSize: 64, seed: 1 }), {
      epochs: 6,
      optimizer: { name: 'adam', lr: 0.01 },
    });
    const teacherAcc = (await evaluate(teacher, test)).accuracy;

    const baseline = mlp(8, [64], 4, 200);
    await fit(baseline, toyStream(few, { batchSize: 16, seed: 2 }), {
      epochs: 40,
      optimizer: { name: 'adam', lr: 0.01 },
    });
    const baselineEval = await evaluate(baseline, test);

    const student = mlp(8, [64], 4, 200); // same architecture and initialisation as the baseline
    const h = await distill({
      teacher,
      student,
      data: toyStream(transfer, { batchSize: 32, seed: 3, unlabelled: (i) => i >= 32 }),
      temperature: 4,
      alpha: 0.9,
      epochs: 4,
      optimizer: { name: 'adam', lr: 0.01 },
    });
    const distilledEval = await evaluate(student, test);
    expect(h.notes.join(' ')).toMatch(/teacher-output cache: on/);
    expect(teacherAcc).toBeGreaterThan(baselineEval.accuracy);
    expect(distilledEval.accuracy).toBeGreaterThan(baselineEval.accuracy + 0.03);
    expect(distilledEval.nll).toBeLessThan(baselineEval.nll);
    tf.dispose([teacher, baseline, student] as unknown as tf.Tensor[]);
  });

  it('never changes the teacher (bitwise), with and without the cache, and trains the student', async () => {
    const data = gaussianData({ seed: 5, count: 96 });
    const teacher = mlp(8, [16], 4, 1, { dropout: 0.3 });
    const before = weightBytes(teacher);
    for (const mode of ['auto', 'off'] as const) {
      const student = mlp(8, [8], 4, 2);
      const studentBefore = weightBytes(student);
      await distill({
        teacher,
        student,
        data: toyStream(data, { batchSize: 32 }),
        epochs: 2,
        temperature: 2,
        alpha: 0.5,
        optimizer: 'sgd',
        teacherCache: { mode },
      });
      expect(sameBits(weightBytes(teacher), before)).toBe(true);
      expect(weightBytes(student).some((w, i) => w.some((v, j) => v !== studentBefore[i]![j]))).toBe(true);
    }
  });

  it('computes teacher outputs once without augmentation, per batch with it, and says so', async () => {
    const data = gaussianData({ seed: 6, count: 64 });
    const teacher = mlp(8, [16], 4, 1);
    const calls = countApplies(teacher);
    const messages: string[] = [];
    let beginNotes: readonly string[] = [];
    await distill({
      teacher,
      student: mlp(8, [8], 4, 2),
      data: toyStream(data, { batchSize: 16 }),
      epochs: 3,
      callbacks: {
        onMessage: (m) => void messages.push(m),
        onTrainBegin: (info) => {
          beginNotes = info.notes;
        },
      },
    });
    expect(calls.calls).toBe(4); // one pass of 4 batches, then 3 epochs from the cache
    expect(beginNotes.join()).toMatch(/cache: on/);
    expect(messages.join()).toMatch(/computed once in evaluation mode/);

    calls.calls = 0;
    const h = await distill({
      teacher,
      student: mlp(8, [8], 4, 2),
      data: toyStream(data, { batchSize: 16, augmented: true }),
      epochs: 3,
    });
    expect(calls.calls).toBe(12); // every batch of every epoch
    expect(h.notes.join()).toMatch(/cache: off \(the transfer set is randomly augmented/);
  });

  it('the cached targets equal the per-batch teacher targets (same losses, same student)', async () => {
    const data = gaussianData({ seed: 7, count: 64 });
    const teacher = mlp(8, [16], 4, 1);
    const run = async (mode: 'auto' | 'off') => {
      const student = mlp(8, [8], 4, 3);
      const h = await distill({
        teacher,
        student,
        data: toyStream(data, { batchSize: 16 }),
        epochs: 2,
        teacherCache: { mode },
      });
      return { loss: h.history.loss, w: weightBytes(student) };
    };
    const a = await run('auto');
    const b = await run('off');
    expect(a.loss).toEqual(b.loss);
    expect(sameBits(a.w, b.w)).toBe(true);
  });

  it('unlabelled examples get the soft term alone (hard loss 0 when nothing is labelled)', async () => {
    const data = gaussianData({ seed: 8, count: 64 });
    const logs: Record<string, number>[] = [];
    const h = await distill({
      teacher: mlp(8, [16], 4, 1),
      student: mlp(8, [8], 4, 2),
      data: toyStream(data, { batchSize: 16, unlabelled: () => true }),
      epochs: 2,
      alpha: 0.5,
      callbacks: { onBatchEnd: (_s, l) => void logs.push(l) },
    });
    for (const l of logs) {
      expect(l.hardLoss).toBe(0);
      expect(l.softLoss).toBeGreaterThan(0);
      expect(l.loss).toBeCloseTo(0.5 * l.softLoss!, 5);
      expect(l).not.toHaveProperty('acc');
    }
    expect(h.history.softLoss![1]).toBeLessThan(h.history.softLoss![0]!);
  });

  it('several teachers: averaged probabilities, optional weights; a weight of 0 ignores a teacher', async () => {
    const data = gaussianData({ seed: 9, count: 64 });
    const t1 = mlp(8, [16], 4, 1);
    const t2 = mlp(8, [16], 4, 50);
    const run = async (opts: { teachers: tfl.LayersModel[]; teacherWeights?: number[] }) => {
      const student = mlp(8, [8], 4, 3);
      const h = await distill({
        ...opts,
        student,
        data: toyStream(data, { batchSize: 16 }),
        epochs: 1,
        temperature: 3,
      });
      return h.history.softLoss![0]!;
    };
    const single = await run({ teachers: [t1] });
    const weighted = await run({ teachers: [t1, t2], teacherWeights: [1, 0] });
    const both = await run({ teachers: [t1, t2] });
    expect(weighted).toBeCloseTo(single, 4);
    expect(Math.abs(both - single)).toBeGreaterThan(1e-3);
  });

  it("dkd and logit-matching inside distill() give the losses registry's values on one batch", async () => {
    const data = gaussianData({ seed: 10, count: 16 });
    const options = { temperature: 3, alpha: 0.6 };
    const seen = new Map<string, number[]>();
    for (const loss of ['dkd', 'logit-matching', 'kd']) {
      const teacher = mlp(8, [16], 4, 1);
      const student = mlp(8, [8], 4, 2);
      const stream = toyStream(data, { batchSize: 16 });
      // the registry's loss on the first batch, with the weights before the step
      const [batch] = [...(stream.epoch(0) as Iterable<Batch>)];
      const want = tf.tidy(() => {
        const parts = getLoss(loss as 'kd').compute({
          studentLogits: student.apply(batch!.xs) as tf.Tensor2D,
          teacherLogits: teacher.apply(batch!.xs) as tf.Tensor2D,
          labels: batch!.labels,
          ...options,
        } as never) as unknown as { loss: tf.Scalar; soft?: tf.Scalar; hard?: tf.Scalar };
        return [parts.loss, parts.soft ?? tf.scalar(0), parts.hard ?? tf.scalar(0)].map(
          (t) => t.dataSync()[0]!,
        );
      });
      batch!.xs.dispose();
      let got: number[] = [];
      const h = await distill({
        teacher,
        student,
        data: stream,
        epochs: 1,
        loss,
        ...options,
        callbacks: {
          onBatchEnd: (_step, logs) => {
            got = [logs.loss!, logs.softLoss!, logs.hardLoss!];
          },
        },
      });
      expect(h.steps).toBe(1);
      for (const [i, v] of got.entries()) expect(v, `${loss} part ${i}`).toBeCloseTo(want[i]!, 5);
      seen.set(loss, got);
    }
    // the three losses really differ on this batch, so a run that ignored 'loss' would fail above
    expect(seen.get('dkd')![0]).not.toBeCloseTo(seen.get('kd')![0]!, 3);
    expect(seen.get('logit-matching')![0]).not.toBeCloseTo(seen.get('kd')![0]!, 3);
  });

  it('adds a hint (FitNets) feature loss with feature-tap models and a trained regressor', async () => {
    const data = gaussianData({ seed: 15, count: 64 });
    const tap = (m: tfl.LayersModel) =>
      tfl.model({ inputs: m.inputs, outputs: [m.outputs[0]!, m.layers[0]!.output as tfl.SymbolicTensor] });
    const teacher = tap(mlp(8, [16], 4, 1));
    const student = tap(mlp(8, [8], 4, 2));
    const regressor = tfl.sequential({ layers: [tfl.layers.dense({ units: 16, inputShape: [8] })] });
    const regBefore = weightBytes(regressor);
    const teacherBefore = weightBytes(teacher);
    const stream = toyStream(data, { batchSize: 16 });
    // the hint term on the first batch, before any update: mean((regressor(f_s) - f_t)^2), weighted 0.5
    const [batch] = [...(stream.epoch(0) as Iterable<Batch>)];
    const hint = tf.tidy(() => {
      const fs = (student.apply(batch!.xs) as tf.Tensor[])[1]!;
      const ft = (teacher.apply(batch!.xs) as tf.Tensor[])[1]!;
      return hintLoss(regressor.apply(fs) as tf.Tensor, ft).dataSync()[0]!;
    });
    batch!.xs.dispose();
    expect(hint).toBeGreaterThan(0.01);
    let first: Record<string, number> | undefined;
    const h = await distill({
      teacher,
      student,
      data: stream,
      epochs: 2,
      featureLoss: { loss: 'hint', weight: 0.5, regressors: [regressor] },
      callbacks: {
        onBatchEnd: (step, logs) => {
          if (step === 0) first = { ...logs };
        },
      },
    });
    expect(h.notes.join()).toMatch(/cache: off \(a feature loss/);
    expect(weightBytes(regressor).some((w, i) => w.some((v, j) => v !== regBefore[i]![j]))).toBe(true);
    expect(sameBits(weightBytes(teacher), teacherBefore)).toBe(true);
    // the step's loss is the logits loss (alpha 0.9 soft + 0.1 hard) plus 0.5 x the hint term
    const logitsLoss = 0.9 * first!.softLoss! + 0.1 * first!.hardLoss!;
    expect(first!.loss! - logitsLoss).toBeCloseTo(0.5 * hint, 5);
  });

  it('stops on a NaN loss with a clear error before applying the update', async () => {
    const data = gaussianData({ seed: 16, count: 64 });
    const good = toyStream(data, { batchSize: 16 });
    const poisoned: BatchStream = {
      ...good,
      *epoch(e: number): Iterable<Batch> {
        let b = 0;
        for (const batch of good.epoch(e) as Iterable<Batch>) {
          if (e === 1 && b === 2) {
            const xs = tf.fill(batch.xs.shape, Number.NaN);
            batch.xs.dispose();
            yield { ...batch, xs };
          } else yield batch;
          b++;
        }
      },
      augmented: true,
    };
    const student = mlp(8, [8], 4, 2);
    let weightsAtLastStep: Float32Array[] = [];
    const err = await distill({
      teacher: mlp(8, [16], 4, 1),
      student,
      data: poisoned,
      epochs: 3,
      callbacks: {
        onBatchEnd: () => {
          weightsAtLastStep = weightBytes(student);
        },
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DistillError);
    expect((err as DistillError).code).toBe('non-finite-loss');
    expect((err as Error).message).toMatch(
      /distill: training diverged: the loss became NaN at step 6 \(epoch 1, batch 2\)/,
    );
    expect(sameBits(weightBytes(student), weightsAtLastStep)).toBe(true);
  });

  it('a separate labelled stream gives the hard term, cycling through its epochs, and resumes exactly', async () => {
    const transfer = toyStream(gaussianData({ seed: 20, count: 64 }), {
      batchSize: 16,
      unlabelled: () => true,
    });
    const labelled = toyStream(gaussianData({ seed: 21, count: 24 }), { batchSize: 8, seed: 5 }); // 3 batches
    const teacher = mlp(8, [16], 4, 1);
    const run = async (student: ReturnType<typeof mlp>, extra: object) => {
      const logs: Record<string, number>[] = [];
      const h = await distill({
        teacher,
        student,
        data: transfer,
        labelled,
        epochs: 2,
        alpha: 0.7,
        callbacks: { onBatchEnd: (_s, l) => void logs.push(l) },
        ...extra,
      });
      return { h, logs };
    };
    labelled.epochCalls.length = 0;
    const full = await run(mlp(8, [8], 4, 2), {});
    // 8 steps over a 3-batch labelled stream: its epochs 0, 1 and 2 (batches 0-2, 3-5, 6-7).
    expect(labelled.epochCalls).toEqual([0, 1, 2]);
    for (const l of full.logs) {
      expect(l.hardLoss).toBeGreaterThan(0);
      expect(l.loss).toBeCloseTo(0.7 * l.softLoss! + 0.3 * l.hardLoss!, 5);
    }
    const store = new MemoryCheckpointStore();
    await run(mlp(8, [8], 4, 2), {
      checkpoint: { store, everySteps: 5 },
      callbacks: {
        onBatchEnd: (step: number) => {
          if (step === 6) throw new Error('crash');
        },
      },
    }).catch(() => undefined);
    const student = mlp(8, [8], 4, 2);
    const resumed = await run(student, { checkpoint: { store }, resume: true });
    expect(resumed.h.steps).toBe(8);
    expect(resumed.h.history.loss).toEqual(full.h.history.loss);
    expect(resumed.logs.map((l) => l.hardLoss)).toEqual(full.logs.slice(5).map((l) => l.hardLoss));
  });
});
