import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from './progress.js';

function sink() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  return { lines, stream };
}

describe('createProgress (plain lines)', () => {
  it('prints the plan, one line per epoch with loss parts and held-out figures, and each note once', async () => {
    const { lines, stream } = sink();
    const p = createProgress({ label: 'distilled (seed 1)', stream, plain: true });
    await p.onTrainBegin?.({
      epochs: 2,
      stepsPerEpoch: 3,
      initialEpoch: 0,
      initialStep: 3,
      notes: ['cache on'],
    });
    await p.onMessage?.('cache on');
    await p.onMessage?.('checkpoint ckpt-1 written');
    await p.onEpochBegin?.(1);
    for (let s = 3; s < 6; s++) await p.onBatchEnd?.(s, { loss: 1, softLoss: 0.5, hardLoss: 1.5, size: 8 });
    await p.onEpochEnd?.(1, {
      loss: 0.9,
      softLoss: 0.4,
      hardLoss: 1.4,
      acc: 0.5,
      val_acc: 0.75,
      samplesPerSec: 100,
    });
    await p.onTrainEnd?.({});
    expect(lines[0]).toBe('distilled (seed 1): 2 epochs x 3 steps, resuming at step 3');
    expect(lines.filter((l) => l.includes('cache on'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('checkpoint'))).toBe(false);
    expect(lines.at(-1)).toMatch(
      /^ {2}epoch 2\/2: loss 0\.9000 soft 0\.4000 hard 1\.4000 acc 0\.5000 \| val acc 0\.7500 \| 100 samples\/s/,
    );
  });

  it('prints nothing when silent', async () => {
    const { lines, stream } = sink();
    const p = createProgress({ label: 'x', stream, plain: true, silent: true });
    await p.onTrainBegin?.({ epochs: 1, stepsPerEpoch: 1, initialEpoch: 0, initialStep: 0, notes: ['n'] });
    await p.onEpochEnd?.(0, { loss: 1 });
    expect(lines).toEqual([]);
  });
});
