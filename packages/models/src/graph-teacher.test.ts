import '@tensorflow/tfjs-backend-cpu';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch } from '@distilljs/core';
import { createBatchStream, loadMnist } from '@distilljs/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layersTeacher } from './layers-teacher.js';
import { loadGraphTeacher, loadModel } from './node.js';

// The fixture: scripts/make-graph-teacher-fixture.mjs wrote one small CNN twice, with the same weights, as
// a tfjs Layers model (layers/) and as a tfjs graph model (graph/: a GraphDef with _FusedConv2D,
// _FusedMatMul, MaxPool, Reshape and a Softmax head behind an Identity node, as tensorflowjs_converter writes).
const fixtures = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'graph');
const mnist = { inputShape: [28, 28, 1], numClasses: 10 };
let work = '';
let batch: Batch;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = mkdtempSync(join(tmpdir(), 'distill-graph-'));
  const ds = await loadMnist({ source: 'embedded' });
  batch = createBatchStream(ds, { split: 'test', batchSize: 64 }).epoch(0)[Symbol.iterator]().next().value!;
});
afterAll(() => {
  batch.xs.dispose();
  rmSync(work, { recursive: true, force: true });
});

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);

describe('graph-model teachers (tfjs-converter)', () => {
  it('a graph model matches the Layers model with the same weights to 1e-5 (softmax head as log-probabilities)', async () => {
    const graph = await loadGraphTeacher(join(fixtures, 'graph'), mnist);
    expect(graph).toMatchObject({ kind: 'graph', numClasses: 10, inputLayout: 'NHWC' });
    expect(graph.notes.join(' ')).toMatch(
      /output 'Identity' comes from a Softmax node \('StatefulPartitionedCall\/sequential\/dense_1\/Softmax'\); using its log-probabilities/,
    );
    const layers = layersTeacher(await loadModel(join(fixtures, 'layers')));
    const before = tf.memory().numTensors;
    const g = await graph.logits(batch);
    const l = await layers.logits(batch);
    expect(g.shape).toEqual([64, 10]);
    expect(maxDiff(g, l)).toBeLessThan(1e-5);
    // not trivially equal: the logits vary across examples and classes
    expect(tf.tidy(() => tf.moments(g).variance.dataSync()[0])).toBeGreaterThan(0.01);
    expect(tf.memory().numTensors).toBe(before + 2);
    // the same model through a file:// URL; normalisation changes the outputs
    const byUrl = await loadGraphTeacher(`file://${join(fixtures, 'graph', 'model.json')}`, mnist);
    expect(await byUrl.fingerprint()).toBe(await graph.fingerprint());
    // a converter module passed in (as a bundled browser app does) loads the same model
    let used = 0;
    const real = await import('@tensorflow/tfjs-converter');
    const given = await loadGraphTeacher(join(fixtures, 'graph'), {
      ...mnist,
      converter: {
        loadGraphModel: (h) => {
          used++;
          return real.loadGraphModel(h);
        },
      },
    });
    expect(used).toBe(1);
    expect(await given.fingerprint()).toBe(await graph.fingerprint());
    given.dispose();
    const normed = await loadGraphTeacher(join(fixtures, 'graph'), {
      ...mnist,
      normalize: { mean: [0.5], std: [0.25] },
    });
    expect(await normed.fingerprint()).not.toBe(await graph.fingerprint());
    const scaled = tf.div(tf.sub(batch.xs, 0.5), 0.25);
    const expected = await layers.logits({ ...batch, xs: scaled });
    const n = await normed.logits(batch);
    expect(maxDiff(n, expected)).toBeLessThan(1e-5);
    expect(maxDiff(n, l)).toBeGreaterThan(0.1);
    tf.dispose([n, expected, scaled]);
    tf.dispose([g, l]);
    await Promise.all([graph, byUrl, normed, layers].map((t) => t.dispose()));
  });

  it('bad input: a Layers model.json, input shape and class count that do not fit, an unsupported operator, several outputs', async () => {
    await expect(loadGraphTeacher(join(fixtures, 'layers'), mnist)).rejects.toThrow(
      /layers\/model\.json: this model\.json is a tfjs Layers model \(format "layers-model"\); a graph model has format 'graph-model'/,
    );
    await expect(
      loadGraphTeacher(join(fixtures, 'graph'), { inputShape: [32, 32, 3], numClasses: 10 }),
    ).rejects.toThrow(
      /graph\/model\.json: the model takes input \[\?, 28, 28, 1\] but the data gives examples of \[32, 32, 3\]/,
    );
    await expect(
      loadGraphTeacher(join(fixtures, 'graph'), { inputShape: [28, 28, 1], numClasses: 100 }),
    ).rejects.toThrow(
      /graph\/model\.json: the model outputs 10 classes \('Identity' \[\?, 10\]\) but the data has 100/,
    );
    const json = JSON.parse(readFileSync(join(fixtures, 'graph', 'model.json'), 'utf8'));
    const edited = join(work, 'edited');
    cpSync(join(fixtures, 'graph'), edited, { recursive: true });
    const relu = json.modelTopology.node.find((n: { op: string }) => n.op === 'Relu');
    relu.op = 'Rulu';
    writeFileSync(join(edited, 'model.json'), JSON.stringify(json));
    const err = (await loadGraphTeacher(edited, mnist).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(
      /edited\/model\.json: TensorFlow\.js cannot run the graph model \(node 'StatefulPartitionedCall\/sequential\/conv2d_1\/Relu', op Rulu\): Unknown op 'Rulu'/,
    );
    expect(err.message.split('\n')).toHaveLength(1);
    relu.op = 'Relu';
    json.signature.outputs.hidden = {
      name: 'StatefulPartitionedCall/sequential/dense/Relu:0',
      dtype: 'DT_FLOAT',
    };
    writeFileSync(join(edited, 'model.json'), JSON.stringify(json));
    await expect(loadGraphTeacher(edited, mnist)).rejects.toThrow(
      /edited\/model\.json: the model has 2 outputs \(Identity, StatefulPartitionedCall\/sequential\/dense\/Relu\); choose the logits with --teacher-output NAME/,
    );
    const chosen = await loadGraphTeacher(edited, {
      ...mnist,
      output: 'StatefulPartitionedCall/sequential/dense/Relu',
      numClasses: 16,
    });
    expect(chosen.numClasses).toBe(16);
    expect(chosen.notes).toEqual([]);
    await chosen.dispose();
  });
});
