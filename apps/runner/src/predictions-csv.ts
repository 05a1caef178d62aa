import type { BatchStream } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { writeFileAtomic } from './run-dir.js';

/** One example's prediction in `distill eval --predictions`: its position in the split, label and class. */
export interface PredictionRow {
  readonly model: string;
  readonly index: number;
  readonly label: number;
  readonly predicted: number;
}

/** The predicted class (argmax of the logits) of every example of a stream, in stream order. */
export async function predictStream(
  model: tfl.LayersModel,
  data: BatchStream,
  name: string,
): Promise<PredictionRow[]> {
  const rows: PredictionRow[] = [];
  for await (const batch of data.epoch(0)) {
    const predicted = tf.tidy(() => tf.argMax(model.predict(batch.xs) as tf.Tensor, 1));
    const ids = (await predicted.data()) as Int32Array;
    predicted.dispose();
    batch.xs.dispose();
    ids.forEach((p, i) => {
      rows.push({
        model: name,
        index: batch.indices[i] as number,
        label: batch.labels[i] as number,
        predicted: p,
      });
    });
  }
  return rows;
}

/** Writes the rows as CSV (`model,index,label,predicted`), atomically. */
export function writePredictionsCsv(file: string, rows: readonly PredictionRow[]): void {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = rows.map((r) => `${quote(r.model)},${r.index},${r.label},${r.predicted}`);
  writeFileAtomic(file, `model,index,label,predicted\n${lines.join('\n')}\n`);
}
