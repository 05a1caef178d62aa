import '@tensorflow/tfjs-backend-cpu';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, InvalidFileError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sgdStep } from './__fixtures__/zoo-step.js';
import { loadModel as loadModelBrowser, MODEL_FORMAT_VERSION } from './model-files.js';
import { getModelMetadata } from './model-metadata.js';
import { createModel, loadModel, saveModel } from './node.js';

let root = '';
let server: Server | undefined;
let baseUrl = '';

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'distilljs-models-'));
  server = createServer((req, res) => {
    const file = join(root, decodeURIComponent((req.url ?? '/').slice(1)));
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200).end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  rmSync(root, { recursive: true, force: true });
});

const input = (shape: number[]) => tf.randomUniform(shape, 0, 1, 'float32', 99);

function outputsOf(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

async function savedCopy(name: string): Promise<string> {
  const dir = join(root, name);
  const model = createModel('mlp', { hiddenUnits: [7], inputShape: [4, 4, 1], numClasses: 3, seed: 2 });
  await saveModel(model, dir);
  model.dispose();
  return dir;
}

describe('saveModel / loadModel on the file system', () => {
  it('round-trips a trained ResNet (custom shortcut layer, batch-norm statistics) with identical outputs', async () => {
    const model = createModel('resnet20', { inputShape: [8, 8, 3], seed: 4 });
    sgdStep(model, [8, 8, 3], 2); // moves the weights and the batch-norm moving statistics off their initial values
    const dir = join(root, 'resnet20');
    const result = await saveModel(model, dir);
    expect(result.modelArtifactsInfo.weightDataBytes).toBeGreaterThan(0);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);

    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const meta = json.userDefinedMetadata.distilljs;
    expect(meta.zooName).toBe('resnet20');
    expect(meta.config).toMatchObject({ inputShape: [8, 8, 3], numClasses: 10, seed: 4 });
    expect(meta.formatVersion).toBe(MODEL_FORMAT_VERSION);
    expect(meta.weightsSha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(dir, 'weights.bin')))
        .digest('hex'),
    );
    expect(meta.featureTaps).toEqual(['stage1_block3_out', 'stage2_block3_out', 'stage3_block3_out']);

    const loaded = await loadModel(dir);
    const x = input([3, 8, 8, 3]);
    expect(Array.from(outputsOf(loaded, x))).toEqual(Array.from(outputsOf(model, x)));
    expect(getModelMetadata(loaded).zooName).toBe('resnet20');
    expect(loaded.countParams()).toBe(model.countParams());
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
  });

  it('round-trips the max-norm, dropout teacher through a model.json path and a file:// URL', async () => {
    const model = createModel('hinton-teacher', { seed: 9 });
    const path = join(root, 'teacher', 'model.json');
    await saveModel(model, path, { config: { note: 'given config wins' } });
    const a = await loadModel(path);
    const b = await loadModel(pathToFileURL(join(root, 'teacher')).href);
    const x = input([2, 28, 28, 1]);
    const want = Array.from(outputsOf(model, x));
    expect(Array.from(outputsOf(a, x))).toEqual(want);
    expect(Array.from(outputsOf(b, x))).toEqual(want);
    expect(getModelMetadata(a)).toMatchObject({
      zooName: 'hinton-teacher',
      config: { note: 'given config wins' },
    });
    tf.dispose(x);
    for (const m of [model, a, b]) m.dispose();
  });

  it('replaces an earlier save atomically and leaves no temporary files', async () => {
    const dir = join(root, 'overwrite');
    const first = createModel('hinton-student', { seed: 1 });
    const second = createModel('hinton-student', { seed: 2 });
    await saveModel(first, dir);
    await saveModel(second, dir);
    expect(readdirSync(dir).sort()).toEqual(['model.json', 'weights.bin']);
    const loaded = await loadModel(dir);
    const x = input([1, 28, 28, 1]);
    expect(Array.from(outputsOf(loaded, x))).toEqual(Array.from(outputsOf(second, x)));
    tf.dispose(x);
    for (const m of [first, second, loaded]) m.dispose();
  });

  it('rejects tampered weights, naming the weights file', async () => {
    const dir = await savedCopy('tampered');
    const file = join(dir, 'weights.bin');
    const bytes = readFileSync(file);
    bytes[10] = (bytes[10] as number) ^ 0xff;
    writeFileSync(file, bytes);
    const before = tf.memory().numTensors;
    const error = await loadModel(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFileError);
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toMatch(/do not match the sha256 recorded in .*model\.json/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects truncated weights, naming the file and the byte offset', async () => {
    const dir = await savedCopy('truncated');
    const file = join(dir, 'weights.bin');
    const size = readFileSync(file).byteLength;
    truncateSync(file, size - 5);
    const error = (await loadModel(dir).catch((e: unknown) => e)) as InvalidFileError;
    expect(error).toBeInstanceOf(InvalidFileError);
    expect(error.message).toContain(
      `weights file ${file} is truncated: ${size - 5} bytes, but the manifest in ${join(dir, 'model.json')} needs ${size}`,
    );
    expect(error.where).toBe(`${file}@${size - 5}`);
  });

  it('rejects a model.json that is not JSON, naming the file', async () => {
    const dir = await savedCopy('not-json');
    const file = join(dir, 'model.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40));
    const error = (await loadModel(dir).catch((e: unknown) => e)) as InvalidFileError;
    expect(error).toBeInstanceOf(InvalidFileError);
    expect(error.message).toContain(`${file} is not JSON`);
    expect(error.where?.startsWith(file)).toBe(true);
  });

  it('rejects JSON that is not a Layers model.json', async () => {
    const dir = join(root, 'other-json');
    await saveModel(createModel('mlp', { inputShape: [2], seed: 1 }), dir);
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ hello: 'world' }));
    await expect(loadModel(dir)).rejects.toThrow(
      /model\.json is JSON but not a tfjs model\.json \(Layers or graph model\): it needs 'modelTopology'/,
    );
  });

  it('rejects a file from a newer format version, naming the file and the versions', async () => {
    const dir = await savedCopy('newer');
    const file = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    json.userDefinedMetadata.distilljs.formatVersion = MODEL_FORMAT_VERSION + 1;
    writeFileSync(file, JSON.stringify(json));
    const error = (await loadModel(dir).catch((e: unknown) => e)) as InvalidFileError;
    expect(error).toBeInstanceOf(InvalidFileError);
    expect(error.message).toContain(
      `${file} was written in distilljs model format version ${MODEL_FORMAT_VERSION + 1}`,
    );
    expect(error.message).toContain('upgrade @distilljs/models');
  });

  it('says when the model.json does not exist', async () => {
    const missing = join(root, 'nowhere');
    await expect(loadModel(missing)).rejects.toThrow(`${join(missing, 'model.json')} does not exist`);
  });

  it('loads a foreign tfjs model without a hash, unless requireHash is set', async () => {
    const dir = await savedCopy('foreign');
    const file = join(dir, 'model.json');
    const json = JSON.parse(readFileSync(file, 'utf8'));
    delete json.userDefinedMetadata;
    writeFileSync(file, JSON.stringify(json));
    const model = await loadModel(dir);
    expect(model.outputs[0]?.shape).toEqual([null, 3]);
    model.dispose();
    await expect(loadModel(dir, { requireHash: true })).rejects.toThrow(
      /records no distilljs weightsSha256, and requireHash is set/,
    );
  });
});

describe('loadModel from the main (browser-safe) entry', () => {
  it('loads over http(s) with tfjs-core handlers and verifies the hash', async () => {
    const model = createModel('mnist-cnn', { seed: 3 });
    await saveModel(model, join(root, 'served'));
    const loaded = await loadModelBrowser(`${baseUrl}/served/model.json`);
    const x = input([2, 28, 28, 1]);
    expect(Array.from(outputsOf(loaded, x))).toEqual(Array.from(outputsOf(model, x)));
    tf.dispose(x);
    model.dispose();
    loaded.dispose();

    const weights = join(root, 'served', 'weights.bin');
    const bytes = readFileSync(weights);
    bytes[0] = (bytes[0] as number) ^ 1;
    writeFileSync(weights, bytes);
    await expect(loadModelBrowser(`${baseUrl}/served/model.json`)).rejects.toThrow(
      `${baseUrl}/served/weights.bin do not match the sha256`,
    );
  });

  it('explains that file paths need the node entry', async () => {
    await expect(loadModelBrowser(join(root, 'resnet20'))).rejects.toThrow(InvalidArgumentError);
    await expect(loadModelBrowser(join(root, 'resnet20'))).rejects.toThrow(
      /import loadModel from '@distilljs\/models\/node' for file paths/,
    );
  });

  it('accepts an IOHandler (here tfjs-core fromMemory)', async () => {
    const model = createModel('lenet5', { seed: 8 });
    let saved: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        saved = a;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(a) };
      }),
    );
    const loaded = await loadModelBrowser(tf.io.fromMemory(saved as tf.io.ModelArtifacts));
    const x = input([1, 28, 28, 1]);
    expect(Array.from(outputsOf(loaded, x))).toEqual(Array.from(outputsOf(model, x)));
    tf.dispose(x);
    model.dispose();
    loaded.dispose();
  });
});
