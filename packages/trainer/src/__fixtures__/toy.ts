// Test support: a tiny in-memory BatchStream and seeded tfjs-layers models, so trainer tests need
// neither the datasets nor the models package.
import { type Batch, type BatchStream, Rng } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface ToyData {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly dim: number;
  readonly numClasses: number;
  readonly count: number;
}

/**
 * Gaussian classes in `dim` dimensions: class k has a random mean on a sphere of radius `spread`;
 * examples are mean + N(0, 1) noise. With a small spread classes overlap, so more data helps.
 */
export function gaussianData(opts: {
  seed: number;
  count: number;
  dim?: number;
  numClasses?: number;
  spread?: number;
  meansSeed?: number;
}): ToyData {
  const dim = opts.dim ?? 8;
  const numClasses = opts.numClasses ?? 4;
  const spread = opts.spread ?? 2.5;
  const meanRng = new Rng(opts.meansSeed ?? 1234);
  const means: number[][] = [];
  for (let k = 0; k < numClasses; k++) {
    const v = Array.from({ length: dim }, () => meanRng.normal());
    const norm = Math.hypot(...v);
    means.push(v.map((a) => (a / norm) * spread));
  }
  const rng = new Rng(opts.seed);
  const x = new Float32Array(opts.count * dim);
  const y = new Int32Array(opts.count);
  for (let i = 0; i < opts.count; i++) {
    const k = i % numClasses;
    y[i] = k;
    for (let j = 0; j < dim; j++) x[i * dim + j] = means[k]![j]! + rng.normal();
  }
  return { x, y, dim, numClasses, count: opts.count };
}

/** A deterministic BatchStream over in-memory vectors; `epoch(e)` shuffles with seed + e. */
export function toyStream(
  data: ToyData,
  opts: {
    batchSize: number;
    seed?: number;
    shuffle?: boolean;
    augmented?: boolean;
    /** Replace these labels with -1. */
    unlabelled?: (i: number) => boolean;
    name?: string;
  },
): BatchStream & { readonly epochCalls: number[] } {
  const { dim, count } = data;
  const bs = opts.batchSize;
  const seed = opts.seed ?? 0;
  const epochCalls: number[] = [];
  return {
    size: count,
    batchSize: bs,
    inputShape: [dim],
    numClasses: data.numClasses,
    augmented: opts.augmented ?? false,
    fingerprint: `${opts.name ?? 'toy'}:${count}:${dim}:${seed}:${opts.shuffle ?? true}`,
    batchesPerEpoch: Math.ceil(count / bs),
    epochCalls,
    *epoch(e: number): Iterable<Batch> {
      epochCalls.push(e);
      const order =
        opts.shuffle === false
          ? Int32Array.from({ length: count }, (_, i) => i)
          : new Rng(seed * 1000 + e).permutation(count);
      const aug = opts.augmented ? new Rng(seed * 7777 + e) : undefined;
      for (let start = 0; start < count; start += bs) {
        const idx = order.slice(start, Math.min(count, start + bs));
        const xs = new Float32Array(idx.length * dim);
        const labels = new Int32Array(idx.length);
        idx.forEach((src, i) => {
          for (let j = 0; j < dim; j++)
            xs[i * dim + j] = data.x[src * dim + j]! + (aug ? 0.3 * aug.normal() : 0);
          labels[i] = opts.unlabelled?.(src) ? -1 : data.y[src]!;
        });
        yield { xs: tf.tensor2d(xs, [idx.length, dim]), labels, indices: idx };
      }
    },
  };
}

/** A seeded MLP producing logits. */
export function mlp(
  dim: number,
  hidden: readonly number[],
  numClasses: number,
  seed: number,
  opts: { dropout?: number; namePrefix?: string } = {},
): tfl.LayersModel {
  const model = tfl.sequential();
  let s = seed;
  hidden.forEach((h, i) => {
    model.add(
      tfl.layers.dense({
        units: h,
        activation: 'relu',
        ...(i === 0 ? { inputShape: [dim] } : {}),
        kernelInitializer: tfl.initializers.glorotUniform({ seed: s++ }),
      }),
    );
    if (opts.dropout) model.add(tfl.layers.dropout({ rate: opts.dropout }));
  });
  model.add(
    tfl.layers.dense({
      units: numClasses,
      ...(hidden.length === 0 ? { inputShape: [dim] } : {}),
      kernelInitializer: tfl.initializers.glorotUniform({ seed: s++ }),
    }),
  );
  return model;
}

/** Copies of every weight value, for bitwise comparisons. */
export function weightBytes(model: tfl.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => (w.dataSync() as Float32Array).slice());
}

/** True when two weight lists are bitwise equal. */
export function sameBits(a: readonly Float32Array[], b: readonly Float32Array[]): boolean {
  return (
    a.length === b.length &&
    a.every((w, i) => {
      const v = b[i]!;
      return (
        w.length === v.length &&
        Buffer.from(w.buffer, w.byteOffset, w.byteLength).equals(
          Buffer.from(v.buffer, v.byteOffset, v.byteLength),
        )
      );
    })
  );
}
