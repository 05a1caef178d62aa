import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidFileError, openChecksum } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, sameBits, toyStream, weightBytes } from './__fixtures__/toy.js';
import { decodeCheckpoint, encodeCheckpoint, isCheckpointName } from './checkpoint.js';
import { type CheckpointStore, MemoryCheckpointStore } from './checkpoint-store.js';
import { distill } from './distill.js';
import { FileCheckpointStore } from './file-checkpoint-store.js';
import { fit } from './fit.js';
import { TrainingController } from './training-controller.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'trainer-ckpt-'));
  dirs.push(d);
  return d;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

class Killed extends Error {}

describe('checkpoints and resume', () => {
  const data = gaussianData({ seed: 3, count: 80 });
  const validation = toyStream(gaussianData({ seed: 4, count: 40 }), { batchSize: 40, shuffle: false });

  for (const kind of ['fit', 'distill'] as const) {
    it(`${kind}: a run killed after a checkpoint resumes to the same steps, history and weights`, async () => {
      const teacher = mlp(8, [16], 4, 9, { dropout: 0.2 });
      const run = (model: ReturnType<typeof mlp>, store: CheckpointStore, extra: object) => {
        const options = {
          epochs: 3,
          seed: 5,
          optimizer: { name: 'adamw', lr: 0.01 } as const,
          schedule: { name: 'cosine', warmupSteps: 2 } as const,
          clipGradNorm: 1,
          validation,
          checkpoint: { store, everySteps: 3 },
          ...extra,
        };
        return kind === 'fit'
          ? fit(model, toyStream(data, { batchSize: 16, seed: 2 }), options)
          : distill({
              teacher,
              student: model,
              data: toyStream(data, { batchSize: 16, seed: 2 }),
              ...options,
            });
      };
      // Uninterrupted reference run.
      const ref = mlp(8, [12], 4, 1, { dropout: 0.25 });
      const full = await run(ref, new MemoryCheckpointStore(), {});

      // Killed mid-epoch 1 (step 8, after the checkpoint at step 6), then resumed in a fresh model.
      const store = new MemoryCheckpointStore();
      const victim = mlp(8, [12], 4, 1, { dropout: 0.25 });
      const killed = await run(victim, store, {
        callbacks: {
          onBatchEnd: (step: number) => {
            if (step === 7) throw new Killed('simulated crash');
          },
        },
      }).catch((e: unknown) => e);
      expect(killed).toBeInstanceOf(Killed);
      expect((await store.list()).filter(isCheckpointName)).toContain('ckpt-0000000006.djsckpt');

      const resumed = mlp(8, [12], 4, 1, { dropout: 0.25 });
      let initialStep = -1;
      const h = await run(resumed, store, {
        resume: true,
        callbacks: {
          onTrainBegin: (info: { initialStep: number }) => {
            initialStep = info.initialStep;
          },
        },
      });
      expect(initialStep).toBe(6);
      expect(h.steps).toBe(full.steps);
      expect(h.steps).toBe(15);
      expect(h.epochs.length).toBe(full.epochs.length);
      expect(h.notes.join()).toMatch(
        /resumed from memory\/ckpt-0000000006.djsckpt at step 6 \(epoch 1, batch 1\)/,
      );
      // Same batches, same dropout masks, same optimiser state: the same numbers.
      for (const key of ['loss', 'val_loss', 'val_acc', 'lr'])
        expect(h.history[key]).toEqual(full.history[key]);
      expect(sameBits(weightBytes(resumed), weightBytes(ref))).toBe(true);
    });
  }

  it('resuming a finished run does nothing more; resuming another model fails before training', async () => {
    const store = new MemoryCheckpointStore();
    const model = mlp(8, [12], 4, 1);
    await fit(model, toyStream(data, { batchSize: 16 }), { epochs: 2, checkpoint: { store } });
    const again = await fit(model, toyStream(data, { batchSize: 16 }), {
      epochs: 2,
      checkpoint: { store },
      resume: true,
    });
    expect(again.steps).toBe(10);
    expect(again.epochs).toHaveLength(2);

    const other = mlp(8, [7], 4, 1);
    const before = weightBytes(other);
    let began = false;
    await expect(
      fit(other, toyStream(data, { batchSize: 16 }), {
        epochs: 2,
        checkpoint: { store },
        resume: true,
        callbacks: {
          onTrainBegin: () => {
            began = true;
          },
        },
      }),
    ).rejects.toThrow(
      /fit: cannot resume from memory\/ckpt-0000000010.djsckpt: it holds 4 weights of shapes \[8x12,12,12x4,4\] but this model has 4 of shapes \[8x7,7,7x4,4\]/,
    );
    expect(began).toBe(false);
    expect(sameBits(weightBytes(other), before)).toBe(true);
  });

  it('keeps only the newest checkpoints and a failed write leaves the previous one intact', async () => {
    const dir = tempDir();
    const files = new FileCheckpointStore(dir);
    let writes = 0;
    const flaky: CheckpointStore = {
      location: files.location,
      list: () => files.list(),
      read: (n) => files.read(n),
      remove: (n) => files.remove(n),
      write: async (n, bytes) => {
        writes++;
        if (writes === 3) throw new Error('disk full');
        return files.write(n, bytes);
      },
    };
    const model = mlp(8, [12], 4, 1);
    await expect(
      fit(model, toyStream(data, { batchSize: 16 }), {
        epochs: 3,
        checkpoint: { store: flaky, everySteps: 2, keep: 2 },
      }),
    ).rejects.toThrow('disk full');
    const names = readdirSync(dir).sort();
    expect(names).toEqual(['ckpt-0000000002.djsckpt', 'ckpt-0000000004.djsckpt']); // no temporary files left
    for (const n of names) {
      const ckpt = decodeCheckpoint(await openChecksum(new Uint8Array(readFileSync(join(dir, n))), n), n);
      expect(ckpt.meta.step).toBe(Number(n.slice(5, 15)));
    }
    const resumed = await fit(mlp(8, [12], 4, 1), toyStream(data, { batchSize: 16 }), {
      epochs: 3,
      checkpoint: { store: new FileCheckpointStore(dir), everySteps: 2, keep: 2 },
      resume: true,
    });
    expect(resumed.steps).toBe(15);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a truncated or foreign checkpoint file is rejected with its name and offset', async () => {
    const store = new MemoryCheckpointStore();
    await fit(mlp(8, [4], 4, 1), toyStream(data, { batchSize: 40 }), { epochs: 1, checkpoint: { store } });
    const sealed = (await store.read('ckpt-0000000002.djsckpt'))!;
    const bytes = await openChecksum(sealed, 'x');
    const ckpt = decodeCheckpoint(bytes, 'x');
    expect(encodeCheckpoint(ckpt)).toEqual(bytes);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'run/ckpt')).toThrow(
      /run\/ckpt@\d+: tensor data is \d+ bytes, metadata describes \d+ \(truncated or corrupt\)/,
    );
    const bad = bytes.slice();
    bad[0] = 0x58;
    expect(() => decodeCheckpoint(bad, 'f')).toThrow(InvalidFileError);
    const dir = tempDir();
    writeFileSync(join(dir, 'ckpt-0000000002.djsckpt'), sealed.subarray(0, 100));
    await expect(
      fit(mlp(8, [4], 4, 1), toyStream(data, { batchSize: 40 }), {
        epochs: 1,
        checkpoint: { dir },
        resume: true,
      }),
    ).rejects.toThrow(InvalidFileError);
  });

  it('a flipped byte in the newest checkpoint: resume says so, sets it aside and continues from the previous one to the same weights', async () => {
    const stream = () => toyStream(data, { batchSize: 16, seed: 2 });
    const options = { epochs: 3, seed: 5, optimizer: { name: 'adam', lr: 0.01 } as const };
    const ref = mlp(8, [12], 4, 1, { dropout: 0.25 });
    await fit(ref, stream(), options);

    const dir = tempDir();
    const controller = new TrainingController();
    const victim = mlp(8, [12], 4, 1, { dropout: 0.25 });
    await fit(victim, stream(), {
      ...options,
      checkpoint: { dir, keep: 2 },
      controller,
      callbacks: { onEpochEnd: (epoch: number) => (epoch === 1 ? controller.stop() : undefined) },
    });
    expect(readdirSync(dir).sort()).toEqual(['ckpt-0000000005.djsckpt', 'ckpt-0000000010.djsckpt']);
    const newest = join(dir, 'ckpt-0000000010.djsckpt');
    const bytes = readFileSync(newest);
    bytes[bytes.length >> 1]! ^= 0x10; // one bit of one weight: the format still parses
    writeFileSync(newest, bytes);

    const messages: string[] = [];
    const resumed = mlp(8, [12], 4, 1, { dropout: 0.25 });
    const h = await fit(resumed, stream(), {
      ...options,
      checkpoint: { dir, keep: 2 },
      resume: true,
      callbacks: { onMessage: (m: string) => void messages.push(m) },
    });
    expect(messages.join('\n')).toMatch(
      /not resuming from .*ckpt-0000000010\.djsckpt: it is not intact \(sha256 checksum mismatch.*\); renamed to ckpt-0000000010\.djsckpt\.corrupt/,
    );
    expect(messages.join('\n')).toMatch(/resumed from .*ckpt-0000000005\.djsckpt at step 5/);
    expect(h.steps).toBe(15);
    expect(sameBits(weightBytes(resumed), weightBytes(ref))).toBe(true);
    expect(readFileSync(join(dir, 'ckpt-0000000010.djsckpt.corrupt'))).toEqual(bytes); // kept, not deleted

    // Every checkpoint corrupt: an error naming them, nothing trained.
    const only = tempDir();
    await fit(mlp(8, [4], 4, 1), stream(), { epochs: 1, checkpoint: { dir: only } });
    const file = join(only, 'ckpt-0000000005.djsckpt');
    writeFileSync(file, readFileSync(file).subarray(0, 200));
    await expect(
      fit(mlp(8, [4], 4, 1), stream(), { epochs: 2, checkpoint: { dir: only }, resume: true }),
    ).rejects.toThrow(/no intact checkpoint to resume from: .*ckpt-0000000005\.djsckpt is corrupt/);
  });
});
