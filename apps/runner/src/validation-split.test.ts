import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@distilljs/core';
import { carveValidation } from '@distilljs/datasets';
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hintonExperiment } from './commands/reproduce-hinton.js';
import { checkTeacherSplit, runExperiment } from './experiment-runner.js';
import { validateExperiment } from './experiment-schema.js';
import { InterruptHandler } from './interrupt.js';
import { writeRunOutputs } from './run-outputs.js';
import { newRunRecord } from './run-record.js';
import * as toolkit from './toolkit.js';

describe('the validation split', () => {
  it('is carved from the training split: seeded, stratified by class, disjoint from what trains', async () => {
    const full = await toolkit.loadDataset({ name: 'mnist-embedded', trainSize: 2000, validationSize: 1 });
    const a = carveValidation(full.train.labels, 10, 400, 7);
    const b = carveValidation(full.train.labels, 10, 400, 7);
    const c = carveValidation(full.train.labels, 10, 400, 8);
    expect(Array.from(a.validation)).toEqual(Array.from(b.validation));
    expect(Array.from(a.validation)).not.toEqual(Array.from(c.validation));
    expect(a.validation.length + a.train.length).toBe(full.train.count);
    const held = new Set(a.validation);
    expect(Array.from(a.train).some((p) => held.has(p))).toBe(false);
    // each class gives its share (20%) of its examples, to within one
    for (let k = 0; k < 10; k++) {
      const inTrain = full.train.labels.filter((l) => l === k).length;
      const inVal = Array.from(a.validation).filter((p) => full.train.labels[p] === k).length;
      expect(Math.abs(inVal - 0.2 * inTrain)).toBeLessThanOrEqual(1);
      expect(a.info.perClass[k]).toBe(inVal);
    }
  });

  it('loadDataset keeps train, validation and test apart; the test split is untouched', async () => {
    const plain = await toolkit.loadDataset({
      name: 'synthetic',
      trainSize: 100,
      testSize: 40,
      validationSize: 1,
    });
    const d = await toolkit.loadDataset({
      name: 'synthetic',
      trainSize: 100,
      testSize: 40,
      validationSize: 30,
    });
    expect([d.train.count, d.validation.count, d.test.count]).toEqual([70, 30, 40]);
    expect(Array.from(d.test.labels)).toEqual(Array.from(plain.test.labels));
    expect(d.validationSplit).toMatchObject({ from: 100, count: 30, seed: 0 });
    const defaulted = await toolkit.loadDataset({ name: 'mnist-embedded', trainSize: 1000 });
    expect([defaulted.train.count, defaulted.validation.count]).toEqual([900, 100]);
    const attempt = toolkit.loadDataset({ name: 'synthetic', trainSize: 50, validationSize: 50 });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      /dataset.validationSize: 50 .* 50 training examples; give a count from 1 to 49/,
    );
  });
});

describe('reproduce hinton settings', () => {
  const base = { dataset: 'fashion-mnist', seeds: 1, quick: false, sweeps: false } as const;
  it('passes the validation split, student seeds, alpha and the teacher jitter into the experiment', () => {
    const exp = hintonExperiment({ ...base, validationSize: 10_000, alpha: 0.9, jitter: 0, studentSeeds: 3 });
    expect(exp.dataset.validationSize).toBe(10_000);
    expect(exp.studentSeeds).toEqual([1, 2, 3]);
    expect(exp.teacher && 'model' in exp.teacher ? exp.teacher.augment : 'none').toBeUndefined();
    expect(exp.students.filter((s) => s.loss === 'kd').map((s) => s.alpha)).toEqual([0.9]);
  });
  it("defaults to the paper's recipe: 2-px teacher jitter, alpha 0.5, test read once at the end", () => {
    const exp = hintonExperiment(base);
    expect(exp.evaluateTest).toBeUndefined();
    expect(exp.teacher && 'model' in exp.teacher ? exp.teacher.augment : undefined).toEqual({ shift: 2 });
    expect(exp.students.find((s) => s.loss === 'kd')?.alpha).toBe(0.5);
  });
});

describe('a run under the protocol (cpu, synthetic data)', () => {
  let dir = '';
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'protocol-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs validation per epoch, scores test once per model at the end, and never names a test figure val_', async () => {
    const exp = validateExperiment({
      dataset: {
        name: 'synthetic',
        trainSize: 300,
        testSize: 160,
        validationSize: 60,
        imageSize: 6,
        numClasses: 4,
      },
      seeds: [1, 2],
      studentSeeds: [5, 6],
      defaults: { batchSize: 32, lr: 0.01, epochs: 2 },
      teacher: { name: 'teacher', model: { name: 'mlp', hiddenUnits: [24] } },
      students: [
        { name: 'baseline', model: { name: 'mlp', hiddenUnits: [8] }, loss: 'ce' },
        { name: 'distilled', model: { name: 'mlp', hiddenUnits: [8] }, temperature: 4, alpha: 0.5 },
      ],
    });
    const record = newRunRecord('run', exp, []);
    const result = await runExperiment(exp, {
      runDir: dir,
      io: { stdout: process.stdout, stderr: process.stderr },
      quiet: true,
      interrupts: new InterruptHandler(),
      record,
    });
    // 2 teachers + 2 baselines (shared by both teachers) + 2 x 2 distilled, each scored on test once
    expect(result.stages.map((s) => s.id)).toEqual([
      'teacher-s1',
      'baseline-s5',
      'distilled-t1-s5',
      'baseline-s6',
      'distilled-t1-s6',
      'teacher-s2',
      'distilled-t2-s5',
      'distilled-t2-s6',
    ]);
    expect(record.testEvaluations?.map((l) => l.stage)).toEqual(result.stages.map((s) => s.id));
    expect(record.validationSplit).toMatchObject({ count: 60, from: 300 });
    const paired = result.paired.find((p) => p.split === 'test')!;
    expect(paired.pairs.map((p) => [p.teacherSeed, p.seed])).toEqual([
      [1, 5],
      [1, 6],
      [2, 5],
      [2, 6],
    ]);
    const { csv, report } = writeRunOutputs(dir, {
      title: 't',
      subtitle: [],
      table: { head: [], rows: [] },
      stages: result.stages,
    });
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    const head = lines[0]!.split(',');
    const html = readFileSync(report, 'utf8');
    const stream = (split: 'validation' | 'test') =>
      toolkit.makeStream(result.dataset, { split, batchSize: 256, seed: 0, shuffle: false });
    // the run.json written to the run directory (not only the in-memory record)
    const saved = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as {
      stages: { id: string; history: { logs: Record<string, number> }[] }[];
    };
    const valErrors = new Map<string, number>();
    let discriminates = false;
    for (const stage of result.stages) {
      const model = await toolkit.loadModelFrom(join(dir, stage.modelDir!));
      const onVal = await toolkit.evaluate(model, stream('validation'));
      const onTest = await toolkit.evaluate(model, stream('test'));
      model.dispose();
      expect(stage.validation).toMatchObject({ count: 60, errors: onVal.errors });
      expect(stage.test).toMatchObject({ count: 160, errors: onTest.errors });
      // the last epoch's val_* in run.json and metrics.csv are the validation split's figures
      const last = stage.history[stage.history.length - 1]!.logs;
      expect(last.val_errors).toBe(onVal.errors);
      expect(last.val_acc).toBeCloseTo(onVal.accuracy, 6);
      expect(last.val_loss).toBeCloseTo(onVal.nll, 4);
      const savedStage = saved.stages.find((x) => x.id === stage.id)!;
      const savedLast = savedStage.history[savedStage.history.length - 1]!.logs;
      expect(savedLast.val_errors).toBe(onVal.errors);
      expect(savedLast.val_acc).toBeCloseTo(onVal.accuracy, 6);
      expect(Object.keys(savedLast).some((k) => /test/i.test(k))).toBe(false);
      valErrors.set(stage.id, onVal.errors);
      const row = lines
        .map((l) => l.split(','))
        .find(
          (c) =>
            c[0] === stage.name &&
            c[1] === String(stage.seed) &&
            c[2] === String(stage.teacherSeed ?? '') &&
            c[3] === String(stage.history.length - 1),
        )!;
      expect(Number(row[head.indexOf('val_errors')])).toBe(onVal.errors);
      expect(Number(row[head.indexOf('val_acc')])).toBeCloseTo(onVal.accuracy, 6);
      if (Math.abs(onVal.accuracy - onTest.accuracy) > 1e-6) discriminates = true;
    }
    // the check above can tell the splits apart: some model scores differently on them
    expect(discriminates).toBe(true);
    // the rows of the results table and of `--json`: their validation figures are the validation split's
    for (const row of result.rows) {
      const group = result.stages.filter((x) => x.name === row.name);
      const mean = group.reduce((a, x) => a + valErrors.get(x.id)!, 0) / group.length;
      expect(row.validation.count).toBe(60);
      expect(row.validation.errors.mean).toBeCloseTo(mean, 9);
      expect(row.test?.count).toBe(160);
    }
    // the report's validation curve carries the validation accuracy, and no column says test per epoch
    expect(head.slice(0, 4)).toEqual(['stage', 'seed', 'teacher_seed', 'epoch']);
    expect(head.slice(4).every((h) => /^(train_|val_)|^(lr|seconds|samplesPerSec)$/.test(h))).toBe(true);
    expect(html).toContain('Validation accuracy');
    const first = result.stages[0]!;
    expect(html).toContain(`"valAcc":${first.history[first.history.length - 1]!.logs.val_acc}`);
    // a teacher taken from this run directory must come with the same validation split
    const spec = { ...exp.dataset };
    expect(checkTeacherSplit(dir, await toolkit.loadDataset(spec))).toBeUndefined();
    const other = await toolkit.loadDataset({ ...spec, validationSeed: 1 });
    expect(() => checkTeacherSplit(dir, other)).toThrow(ConfigError);
    expect(() => checkTeacherSplit(dir, other)).toThrow(/another validation split .*"seed":0.*"seed":1/);
    expect(checkTeacherSplit(join(dir, first.modelDir!), other)).toMatch(/cannot be checked/);
    // a teacher trained on another dataset cannot have seen this one's splits as far as distill can tell: a note
    const elsewhere = await toolkit.loadDataset({ name: 'mnist-embedded', trainSize: 200, testSize: 50 });
    expect(elsewhere.name).not.toBe(other.name);
    expect(checkTeacherSplit(dir, elsewhere)).toMatch(
      /was trained on another dataset \(.+\), so it cannot be checked/,
    );
  });
});
