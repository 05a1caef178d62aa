import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { type BenchResult, makeStep, runBench } from './bench.js';

/** The keys ../shared/bench/torch_reference.py prints, in its order. */
const TORCH_FIELDS = ['model', 'task', 'batchSize', 'samplesPerSec', 'msPerStep', 'engine'];

async function collect(it: AsyncIterable<BenchResult>): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for await (const row of it) rows.push(row);
  return rows;
}

describe('runBench', () => {
  it('yields torch_reference.py rows for train, distill and distill-online without leaking tensors', async () => {
    await tf.setBackend('cpu');
    const before = tf.memory().numTensors;
    const rows = await collect(
      runBench({ backend: 'cpu', models: ['hinton-student'], batchSize: 4, steps: 1, warmup: 1 }),
    );
    expect(rows.map((r) => r.task)).toEqual(['train', 'distill', 'distill-online']);
    for (const row of rows) {
      expect(Object.keys(row)).toEqual([...TORCH_FIELDS, 'cpu', 'cores', 'cpuFlags']);
      expect(row.cpu.length).toBeGreaterThan(0);
      expect(row.model).toBe('hinton-student');
      expect(row.batchSize).toBe(4);
      expect(row.samplesPerSec).toBeGreaterThan(0);
      expect(row.msPerStep).toBeGreaterThan(0);
      expect(row.engine).toBe(`tfjs ${tf.version_core} cpu`);
      // One JSON line per row, as the CLI prints them.
      expect(JSON.parse(JSON.stringify(row))).toEqual(row);
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a train step changes every trainable weight; distill-online runs the teacher in each step, distill once', async () => {
    await tf.setBackend('cpu');
    const train = makeStep('train', 'hinton-student', 4, 0);
    const before = train.student.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    train.run().dispose();
    const after = train.student.trainableWeights.map((w) => w.read().dataSync());
    for (const [i, w] of before.entries()) {
      const moved = w.reduce((m, v, j) => Math.max(m, Math.abs(v - after[i]![j]!)), 0);
      expect(moved, train.student.trainableWeights[i]!.name).toBeGreaterThan(1e-6);
    }
    expect(train.teacherPasses).toBe(0);
    train.dispose();

    const online = makeStep('distill-online', 'hinton-student', 4, 1);
    const cached = makeStep('distill', 'hinton-student', 4, 1);
    expect([online.teacherPasses, cached.teacherPasses]).toEqual([0, 1]);
    // the same teacher logits and student weights: the first steps' losses agree
    const [a, b] = [online.run(), cached.run()];
    expect(a.dataSync()[0]).toBeCloseTo(b.dataSync()[0]!, 5);
    tf.dispose([a, b]);
    online.run().dispose();
    cached.run().dispose();
    expect([online.teacherPasses, cached.teacherPasses]).toEqual([2, 1]);
    online.dispose();
    cached.dispose();
  });

  it('rejects unknown models and bad sizes before running anything', async () => {
    await expect(collect(runBench({ backend: 'cpu', models: ['no-such-model'] }))).rejects.toThrow(
      /runBench: argument 'models' contains unknown model 'no-such-model'; valid names: .*hinton-teacher/,
    );
    await expect(collect(runBench({ backend: 'cpu', batchSize: 0 }))).rejects.toThrow(
      /runBench: argument 'batchSize' must be an integer >= 1, got 0/,
    );
  });
});
