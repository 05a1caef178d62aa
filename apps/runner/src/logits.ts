import { type BatchStream, isTeacher, type Teacher } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** A model's logits for every example of a stream (evaluation mode), with the labels, in stream order. */
export interface CollectedLogits {
  readonly logits: Float32Array;
  readonly labels: Int32Array;
  readonly indices: Int32Array;
  readonly numClasses: number;
  readonly count: number;
}

/** Runs `model` over `data.epoch(0)` in evaluation mode and gathers the logits (no tensor is left behind). */
export async function collectLogits(
  model: tfl.LayersModel | Teacher,
  data: BatchStream,
): Promise<CollectedLogits> {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  const indices: number[] = [];
  let numClasses = 0;
  for await (const batch of data.epoch(0)) {
    try {
      const out = isTeacher(model)
        ? await model.logits(batch)
        : tf.tidy(() => {
            const y = model.apply(batch.xs, { training: false });
            return (Array.isArray(y) ? y[0] : y) as tf.Tensor;
          });
      numClasses = out.shape[1] ?? 0;
      chunks.push((await out.data()) as Float32Array);
      out.dispose();
      labels.push(...batch.labels);
      indices.push(...batch.indices);
    } finally {
      batch.xs.dispose();
    }
  }
  const logits = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    logits.set(c, off);
    off += c.length;
  }
  return {
    logits,
    labels: Int32Array.from(labels),
    indices: Int32Array.from(indices),
    numClasses,
    count: labels.length,
  };
}

/** Softmax of `logits / temperature` for one row, in float64 (for display; tiny probabilities kept). */
export function softmaxRow(logits: ArrayLike<number>, temperature: number): number[] {
  const z = Array.from(logits, (v) => v / temperature);
  const max = Math.max(...z);
  const e = z.map((v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}
