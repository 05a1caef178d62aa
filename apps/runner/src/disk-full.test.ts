import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EXIT, exitCodeFor, formatError } from './exit-code.js';
import { writeFileAtomic } from './run-dir.js';
import { saveModelDir } from './toolkit.js';

// A full disk, for real: when armed, every temporary file is written to /dev/full, whose writes fail
// with ENOSPC from the kernel; everything else (rename, cleanup, messages) runs unchanged.
const full = vi.hoisted(() => ({ armed: false }));
const redirect = (path: unknown) => (full.armed && String(path).endsWith('.tmp') ? '/dev/full' : path);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeFileSync = (path: unknown, ...rest: unknown[]) =>
    (fs.writeFileSync as (...a: unknown[]) => void)(redirect(path), ...rest);
  return { ...fs, default: { ...fs, writeFileSync }, writeFileSync };
});
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const writeFile = (path: unknown, ...rest: unknown[]) =>
    (fs.writeFile as (...a: unknown[]) => Promise<void>)(redirect(path), ...rest);
  return { ...fs, default: { ...fs, writeFile }, writeFile };
});

let root = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  root = mkdtempSync(join(tmpdir(), 'runner-full-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function failure(write: () => unknown): Promise<unknown> {
  full.armed = true;
  try {
    await write();
  } catch (error) {
    return error;
  } finally {
    full.armed = false;
  }
  throw new Error('the write did not fail');
}

describe('a full disk', () => {
  it('while writing run.json: one line naming the file, exit 1, the previous run.json intact', async () => {
    const path = join(root, 'run.json');
    writeFileAtomic(path, '{"status":"running"}');
    const error = await failure(() => writeFileAtomic(path, '{"status":"complete"}'));
    expect(formatError(error)).toBe(`distill: cannot write ${path}: no space left on the device`);
    expect(exitCodeFor(error)).toBe(EXIT.failure);
    expect(readFileSync(path, 'utf8')).toBe('{"status":"running"}');
    expect(readdirSync(root)).toEqual(['run.json']);
  });

  it('while saving a trained model: the message names the weights file', async () => {
    const model = createModel('mlp', { inputShape: [4, 4, 1], numClasses: 3, hiddenUnits: [4], seed: 1 });
    const dir = join(root, 'models', 'm');
    const error = await failure(() => saveModelDir(model, dir));
    expect(formatError(error)).toBe(
      `distill: cannot write ${join(dir, 'weights.bin')}: no space left on the device`,
    );
    expect(exitCodeFor(error)).toBe(EXIT.failure);
    model.dispose();
  });
});
