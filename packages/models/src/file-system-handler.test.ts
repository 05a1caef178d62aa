import '@tensorflow/tfjs-backend-cpu';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fileSystemHandler } from './file-system-handler.js';
import { createModel, saveModel } from './node.js';

// Every file the handler reads, as the file system sees it.
const reads = vi.hoisted(() => [] as string[]);
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fs,
    readFile: (path: string, ...rest: unknown[]) => {
      reads.push(String(path));
      return (fs.readFile as (...a: unknown[]) => unknown)(path, ...rest);
    },
  };
});

let root = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'distilljs-fsh-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('fileSystemHandler: weights paths stay inside the model directory', () => {
  it('refuses ../, absolute and symlinked paths out of the directory, and never opens the outside file', async () => {
    const model = createModel('mlp', { inputShape: [4, 4, 1], numClasses: 3, hiddenUnits: [5], seed: 1 });
    const dir = join(root, 'models', 'm');
    await saveModel(model, dir);
    // The outside file has exactly the bytes the manifest needs, so only the path check can refuse it.
    const secret = join(root, 'secret.bin');
    writeFileSync(secret, readFileSync(join(dir, 'weights.bin')));
    symlinkSync(secret, join(dir, 'link.bin'));
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    for (const path of ['../../secret.bin', secret, 'link.bin']) {
      json.weightsManifest[0].paths = [path];
      writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
      reads.length = 0;
      const error = await fileSystemHandler(dir).load!().catch((e: unknown) => e);
      expect(error, path).toBeInstanceOf(InvalidFileError);
      expect((error as Error).message).toContain(
        `${join(dir, 'model.json')}: weights path ${JSON.stringify(path)} leaves the model's directory`,
      );
      expect(reads).toEqual([join(dir, 'model.json')]);
    }
    // Inside the directory (a subfolder included) is fine.
    mkdirSync(join(dir, 'w'));
    writeFileSync(join(dir, 'w', 'weights.bin'), readFileSync(secret));
    json.weightsManifest[0].paths = ['w/../w/weights.bin'];
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const ok = await fileSystemHandler(dir).load!();
    expect(ok.weightData).toBeDefined();
    model.dispose();
  });
});
