import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidFileError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, toyStream } from './__fixtures__/toy.js';
import { distill } from './distill.js';

let dir = '';
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = mkdtempSync(join(tmpdir(), 'trainer-cache-sum-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('teacher-output cache file', () => {
  it('carries a sha256: a flipped byte is an error naming the file, not silently wrong targets', async () => {
    const teacher = mlp(8, [16], 4, 9);
    const data = toyStream(gaussianData({ seed: 3, count: 64 }), { batchSize: 16 });
    const run = () =>
      distill({ teacher, student: mlp(8, [8], 4, 1), data, epochs: 1, teacherCache: { dir } });
    await run();
    const [name] = readdirSync(dir).filter((f) => f.endsWith('.djscache'));
    const file = join(dir, name!);
    expect((await run()).notes.join()).toMatch(/outputs loaded from/);
    const bytes = readFileSync(file);
    bytes[40]! ^= 0x01;
    writeFileSync(file, bytes);
    const error = await run().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidFileError);
    expect((error as Error).message).toBe(
      `${file}: sha256 checksum mismatch: the contents changed after they were written (a corrupt or edited file)`,
    );
  });
});
