import '@tensorflow/tfjs-backend-cpu';
import { layersTeacher } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gaussianData, mlp, toyStream } from './__fixtures__/toy.js';
import { MemoryCheckpointStore } from './checkpoint-store.js';
import { distill } from './distill.js';
import { fit } from './fit.js';

// On webgpu in Node.js a synchronous read (dataSync) throws (tfjs reads through an OffscreenCanvas, which
// Node lacks), and in a browser it stalls the GPU. The training loop must read asynchronously, once a step.
// Here the engine is made to behave like that on cpu: a tensor's dataSync throws, and data() is counted.
let syncReads = 0;
let asyncReads = 0;
let restore: (() => void) | undefined;

function gpuLikeReads(): void {
  const engine = tf.engine() as unknown as {
    readSync(id: object): unknown;
    read(id: object): Promise<unknown>;
  };
  const { readSync, read } = engine;
  engine.readSync = () => {
    syncReads++;
    throw new Error('dataSync called: a GPU backend cannot read synchronously here');
  };
  engine.read = (id) => {
    asyncReads++;
    return read.call(engine, id);
  };
  restore = () => {
    engine.readSync = readSync;
    engine.read = read;
  };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterEach(() => {
  restore?.();
  restore = undefined;
  syncReads = 0;
  asyncReads = 0;
});

describe('the training loop reads the backend asynchronously, once a step', () => {
  const data = gaussianData({ seed: 4, count: 64 });

  it('fit: exactly one asynchronous read per step, none synchronous', async () => {
    const model = mlp(8, [16], 4, 1, { dropout: 0.2 });
    gpuLikeReads();
    const history = await fit(model, toyStream(data, { batchSize: 16 }), { epochs: 2 });
    expect(syncReads).toBe(0);
    expect(history.steps).toBe(8);
    expect(asyncReads).toBe(8);
    model.dispose();
  });

  it('fit with checkpoints and resume, distill with the teacher-output cache in a store and online', async () => {
    const store = new MemoryCheckpointStore();
    const model = mlp(8, [16], 4, 1);
    gpuLikeReads();
    await fit(model, toyStream(data, { batchSize: 16 }), {
      epochs: 2,
      checkpoint: { store, everySteps: 3 },
      validation: toyStream(gaussianData({ seed: 5, count: 16 }), { batchSize: 16 }),
    });
    await fit(model, toyStream(data, { batchSize: 16 }), { epochs: 3, checkpoint: { store }, resume: true });
    const teacher = mlp(8, [16], 4, 2);
    const cache = new MemoryCheckpointStore();
    // A Layers model, the same as a Teacher (its fingerprint keys the cache), and online (augmented data).
    for (const [augmented, asTeacher] of [
      [false, false],
      [false, true],
      [true, false],
    ]) {
      await distill({
        teacher: asTeacher ? layersTeacher(teacher) : teacher,
        student: model,
        data: toyStream(data, { batchSize: 16, augmented }),
        epochs: 1,
        temperature: 4,
        alpha: 0.5,
        teacherCache: { store: cache },
        checkpoint: { store: new MemoryCheckpointStore() },
      });
    }
    expect(syncReads).toBe(0);
    model.dispose();
    teacher.dispose();
  });
});
