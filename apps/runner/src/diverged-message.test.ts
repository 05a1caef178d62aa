import { TrainingDivergedError } from '@distilljs/trainer';
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor, formatError } from './exit-code.js';
import { divergedRun, type StageSpec } from './stage.js';

const spec = {
  id: 'teacher-s1',
  name: 'teacher',
  role: 'teacher',
  seed: 1,
  model: 'mlp',
  training: { epochs: 3, batchSize: 32, lr: 0.5 },
} as StageSpec;

describe('a diverged stage, in CLI terms', () => {
  it('NaN: names the step, the checkpoint kept and real flags (--lr, --clip-grad-norm), not library options', () => {
    const nan = new TrainingDivergedError(
      'fit: training diverged: the loss became NaN ... Lower the learning rate, set clipGradNorm, or check the data',
      {
        reason: 'non-finite',
        step: 12,
        epoch: 1,
        loss: Number.NaN,
        checkpoint: '/run/checkpoints/teacher-s1/ckpt-0000000010.djsckpt',
      },
      'fit(step 12)',
    );
    const error = divergedRun(spec, nan);
    expect(formatError(error)).toBe(
      'distill: teacher (seed 1) diverged: the loss became NaN at step 12; the last good checkpoint /run/checkpoints/teacher-s1/ckpt-0000000010.djsckpt is kept. Lower --lr (this run: 0.5) or add --clip-grad-norm 1 (in an experiment file: lr, clipNorm), then start a new run',
    );
    expect(formatError(error)).not.toMatch(/clipGradNorm|learning rate/);
    expect(exitCodeFor(error)).toBe(EXIT.failure);
  });

  it('chance accuracy after the first epoch', () => {
    const chance = new TrainingDivergedError(
      'x',
      { reason: 'chance', step: 16, epoch: 0, loss: 2.31 },
      'fit',
    );
    expect(formatError(divergedRun(spec, chance))).toMatch(
      /^distill: teacher \(seed 1\) diverged: after epoch 1 the training accuracy is at chance and the loss \(2\.31\) has not fallen; no checkpoint had been written yet\. Lower --lr/,
    );
  });
});
