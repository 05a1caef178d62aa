import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Batch } from '@distilljs/core';
import { createBatchStream, loadMnist } from '@distilljs/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxTeacher } from './load-onnx-teacher.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'onnx');
const cnn = join(fixtures, 'mnist-bn-cnn.onnx');
const torchOut = JSON.parse(readFileSync(join(fixtures, 'mnist-bn-cnn-outputs.json'), 'utf8'));
const tiny = JSON.parse(readFileSync(join(fixtures, 'tiny-outputs.json'), 'utf8'));
const mnist = { inputShape: [28, 28, 1], numClasses: 10 };
let work = '';
let first64: Batch;

beforeAll(async () => {
  await tf.setBackend('cpu');
  work = mkdtempSync(join(tmpdir(), 'distill-onnx-'));
  const ds = await loadMnist({ source: 'embedded' });
  first64 = createBatchStream(ds, { split: 'test', batchSize: 64 }).epoch(0)[Symbol.iterator]().next().value!;
});
afterAll(() => {
  first64.xs.dispose();
  rmSync(work, { recursive: true, force: true });
});

const maxDiff = (a: tf.Tensor, b: number[][]) => tf.max(tf.abs(tf.sub(a, tf.tensor2d(b)))).dataSync()[0]!;

describe('ONNX teachers (onnxruntime-node)', () => {
  it("a PyTorch export (NCHW, normalised inputs, softmax head) matches PyTorch's own outputs to 1e-4", async () => {
    const teacher = await loadOnnxTeacher(cnn, { ...mnist, normalize: { mean: [0.1307], std: [0.3081] } });
    expect(teacher).toMatchObject({ kind: 'onnx', numClasses: 10, inputLayout: 'NCHW' });
    expect(teacher.notes.join(' ')).toMatch(
      /Softmax node \('\/Softmax'\); using its log-probabilities as logits/,
    );
    expect(Array.from(first64.labels)).toEqual(torchOut.labels);
    const logits = await teacher.logits(first64);
    expect(logits.shape).toEqual([64, 10]);
    expect(maxDiff(logits, torchOut.log_probs)).toBeLessThan(1e-4);
    expect(maxDiff(tf.softmax(logits), torchOut.probs)).toBeLessThan(1e-4);
    const plain = await loadOnnxTeacher(cnn, mnist); // without the normalisation the outputs differ
    expect(maxDiff(await plain.logits(first64), torchOut.log_probs)).toBeGreaterThan(0.01);
    await teacher.dispose();
  });

  it('several outputs: refused listing them, or the one chosen; a fixed batch of 4 runs 6 examples', async () => {
    const two = join(fixtures, 'tiny-two-outputs.onnx');
    await expect(loadOnnxTeacher(two, mnist)).rejects.toThrow(
      /tiny-two-outputs\.onnx: the model has 2 outputs \(logits, features\); choose the logits with --teacher-output NAME/,
    );
    const six: Batch = {
      xs: tf.slice(first64.xs, 0, 6),
      labels: first64.labels.slice(0, 6),
      indices: first64.indices.slice(0, 6),
    };
    const chosen = await loadOnnxTeacher(two, { ...mnist, output: 'logits' });
    expect(maxDiff(await chosen.logits(six), tiny.logits)).toBeLessThan(1e-4);
    const fixed = await loadOnnxTeacher(join(fixtures, 'tiny-fixed-batch.onnx'), mnist);
    expect(fixed.notes.join(' ')).toMatch(/LogSoftmax node/);
    expect(maxDiff(await fixed.logits(six), tiny.log_probs)).toBeLessThan(1e-4);
    six.xs.dispose();
  });

  it('bad input: not ONNX, truncated, input shape and class count that do not fit, unsupported operator', async () => {
    const text = join(work, 'notes.onnx');
    writeFileSync(text, 'these are my notes, not a model\n');
    await expect(loadOnnxTeacher(text, mnist)).rejects.toThrow(/notes\.onnx: not an ONNX model/);
    const cut = join(work, 'cut.onnx');
    writeFileSync(cut, readFileSync(cnn).subarray(0, 200_000));
    await expect(loadOnnxTeacher(cut, mnist)).rejects.toThrow(
      /cut\.onnx: truncated: it ends inside a record after 200000 bytes/,
    );
    await expect(loadOnnxTeacher(cnn, { inputShape: [32, 32, 3], numClasses: 10 })).rejects.toThrow(
      /mnist-bn-cnn\.onnx: the model takes input \[\?, 1, 28, 28\] but the data gives examples of \[32, 32, 3\] \(NHWC, i\.e\. \[3, 32, 32\] as NCHW\)/,
    );
    await expect(loadOnnxTeacher(cnn, { inputShape: [28, 28, 1], numClasses: 100 })).rejects.toThrow(
      /mnist-bn-cnn\.onnx: the model outputs 10 classes \('probs' \[\?, 10\]\) but the data has 100/,
    );
    const bytes = readFileSync(join(fixtures, 'tiny-fixed-batch.onnx'));
    const at = bytes.indexOf('"\x04Relu', 0, 'latin1') + 2; // field 4 (op_type) of the Relu node
    const edited = Buffer.from(bytes);
    edited.write('Rulu', at, 'latin1'); // an operator no ONNX Runtime knows, in place of the node's Relu
    const unsupported = join(work, 'unsupported.onnx');
    writeFileSync(unsupported, edited);
    const err = (await loadOnnxTeacher(unsupported, mnist).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(
      /unsupported\.onnx: ONNX Runtime cannot load the model \(node '\/Relu', op Rulu\): .*Rulu/,
    );
    expect(err.message.split('\n')).toHaveLength(1);
  });
});
