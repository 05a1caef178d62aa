import '@tensorflow/tfjs-backend-cpu';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NotInstalledError } from '@distilljs/core';
import { createBatchStream, loadMnist } from '@distilljs/datasets';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadOnnxRuntimeWeb, ONNXRUNTIME_WEB_INSTALL } from './load-onnx-runtime-web.js';
import { onnxTeacherFromBytes } from './onnx-teacher.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '__fixtures__', 'onnx');
const torchOut = JSON.parse(readFileSync(join(fixtures, 'mnist-bn-cnn-outputs.json'), 'utf8'));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('onnxruntime-web', () => {
  it("runs the PyTorch export (onnxruntime-web's wasm engine, here in Node) to PyTorch's outputs within 1e-4", async () => {
    const ort = await loadOnnxRuntimeWeb(() => import('onnxruntime-web'));
    const bytes = new Uint8Array(readFileSync(join(fixtures, 'mnist-bn-cnn.onnx')));
    const teacher = await onnxTeacherFromBytes(ort, bytes, 'mnist-bn-cnn.onnx', {
      inputShape: [28, 28, 1],
      numClasses: 10,
      normalize: { mean: [0.1307], std: [0.3081] },
    });
    const ds = await loadMnist({ source: 'embedded' });
    const batch = createBatchStream(ds, { split: 'test', batchSize: 64 }).epoch(0)[Symbol.iterator]().next()
      .value!;
    expect(Array.from(batch.labels)).toEqual(torchOut.labels);
    const logits = await teacher.logits(batch);
    const diff = tf.max(tf.abs(tf.sub(logits, tf.tensor2d(torchOut.log_probs)))).dataSync()[0]!;
    expect(diff).toBeLessThan(1e-4);
    expect(teacher.notes.join(' ')).toMatch(/Softmax node/);
    logits.dispose();
    batch.xs.dispose();
    await teacher.dispose();
  });

  it('says how to install it when the import fails', async () => {
    const missing = () => import('onnxruntime-web-is-not-here' as string);
    const err = await loadOnnxRuntimeWeb(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotInstalledError);
    expect((err as NotInstalledError).installCommand).toBe(ONNXRUNTIME_WEB_INSTALL);
    expect((err as Error).message).toMatch(
      /^An ONNX teacher in the browser needs onnxruntime-web, which could not be loaded \(.*\)\. Install it with: npm install onnxruntime-web$/,
    );
  });
});
