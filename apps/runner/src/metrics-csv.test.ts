import { describe, expect, it } from 'vitest';
import { metricsToCsv } from './metrics-csv.js';

describe('metricsToCsv', () => {
  it('writes the union of keys, leaves gaps empty and quotes stage names that need it', () => {
    const csv = metricsToCsv([
      { stage: 'teacher', seed: 1, epoch: 0, values: { loss: 0.5, acc: 0.9 } },
      { stage: 'distilled, T=20', seed: 1, epoch: 0, values: { loss: 0.4, softLoss: 0.3 } },
    ]);
    expect(csv).toBe(
      'stage,seed,epoch,loss,acc,softLoss\nteacher,1,0,0.5,0.9,\n"distilled, T=20",1,0,0.4,,0.3\n',
    );
  });
});
