import { InvalidFileError, type Logs, type RngState } from '@distilljs/core';
import type { OptimizerConfig } from './optimizer.js';

/** File magic of a distilljs checkpoint: the ASCII bytes `DJSCKPT1`. */
export const CHECKPOINT_MAGIC = 'DJSCKPT1';
/** Checkpoint format version this package writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** Shape (and, for messages, name) of one stored weight. */
export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

/** One finished epoch in a history. */
export interface EpochRecord {
  readonly epoch: number;
  readonly logs: Logs;
}

/** Everything a resumed run needs, apart from the tensors (which follow in the file's binary part). */
export interface CheckpointMeta {
  readonly format: 'distilljs-checkpoint';
  readonly version: number;
  readonly kind: 'fit' | 'distill';
  /** Global steps done. */
  readonly step: number;
  /** Epoch in progress (0-based) and batches of it already done. */
  readonly epoch: number;
  readonly batchInEpoch: number;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly seed: number;
  readonly rng: RngState;
  readonly dataFingerprint: string;
  /** Every model weight (trainable and not), in `model.weights` order. */
  readonly weights: readonly WeightSpec[];
  readonly optimizer: {
    readonly config: Required<OptimizerConfig>;
    readonly iterations: number;
    readonly slots: readonly { variable: number; slot: string; shape: readonly number[] }[];
  };
  readonly history: readonly EpochRecord[];
  /** Running sums of the epoch in progress, so its logs come out as if never interrupted. */
  readonly epochSums: Record<string, number>;
  /** Internal state of early stopping and best-epoch tracking. */
  readonly tracker: { best: number | null; bestEpoch: number; wait: number };
  /** Wall-clock seconds spent before this checkpoint. */
  readonly elapsedSeconds: number;
  /** Loss of the run's first step (the divergence bound is a multiple of it). */
  readonly firstLoss?: number;
}

/** A checkpoint in memory: metadata plus weight and optimiser-slot values in `meta` order. */
export interface Checkpoint {
  readonly meta: CheckpointMeta;
  readonly weights: readonly Float32Array[];
  readonly slots: readonly Float32Array[];
}

/** The store name of the checkpoint after `step` steps (sorts by step). */
export function checkpointName(step: number): string {
  return `ckpt-${String(step).padStart(10, '0')}.djsckpt`;
}

/** True for a name written by {@link checkpointName}. */
export function isCheckpointName(name: string): boolean {
  return /^ckpt-\d{10}\.djsckpt$/.test(name);
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Serialises a checkpoint into one byte buffer: 8-byte magic, uint32 JSON length (little-endian), the
 * JSON metadata, zero padding to a multiple of 4, then every float32 tensor value in metadata order.
 */
export function encodeCheckpoint(ckpt: Checkpoint): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(ckpt.meta));
  const head = 12 + json.length;
  const pad = (4 - (head % 4)) % 4;
  const arrays = [...ckpt.weights, ...ckpt.slots];
  const floats = arrays.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(head + pad + floats * 4);
  out.set(new TextEncoder().encode(CHECKPOINT_MAGIC), 0);
  new DataView(out.buffer).setUint32(8, json.length, true);
  out.set(json, 12);
  let off = head + pad;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), off);
    off += a.byteLength;
  }
  return out;
}

/** Parses {@link encodeCheckpoint} output; errors name the source and byte offset of the problem. */
export function decodeCheckpoint(bytes: Uint8Array, source: string): Checkpoint {
  const fail = (what: string, offset: number): never => {
    throw new InvalidFileError(`decodeCheckpoint: ${source}@${offset}: ${what}`, {
      where: `${source}@${offset}`,
    });
  };
  if (bytes.length < 12) fail(`file is ${bytes.length} bytes, shorter than the 12-byte header`, 0);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== CHECKPOINT_MAGIC)
    fail(`bad magic ${JSON.stringify(magic)}, expected "${CHECKPOINT_MAGIC}"`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const jsonLength = dv.getUint32(8, true);
  if (12 + jsonLength > bytes.length) fail(`metadata length ${jsonLength} runs past the end of the file`, 8);
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + jsonLength)));
  } catch (err) {
    return fail(`metadata is not valid JSON (${(err as Error).message})`, 12);
  }
  if (meta?.format !== 'distilljs-checkpoint') fail("metadata 'format' is not 'distilljs-checkpoint'", 12);
  if (meta.version !== CHECKPOINT_VERSION) {
    fail(
      `format version ${meta.version} is not supported; this package reads version ${CHECKPOINT_VERSION}`,
      12,
    );
  }
  const head = 12 + jsonLength;
  let off = head + ((4 - (head % 4)) % 4);
  const expected = [...meta.weights, ...meta.optimizer.slots].reduce((a, s) => a + size(s.shape) * 4, 0);
  if (bytes.length - off !== expected) {
    fail(
      `tensor data is ${bytes.length - off} bytes, metadata describes ${expected} (truncated or corrupt)`,
      off,
    );
  }
  const take = (shape: readonly number[]) => {
    const n = size(shape);
    const a = new Float32Array(n);
    new Uint8Array(a.buffer).set(bytes.subarray(off, off + n * 4));
    off += n * 4;
    return a;
  };
  const weights = meta.weights.map((w) => take(w.shape));
  const slots = meta.optimizer.slots.map((s) => take(s.shape));
  return { meta, weights, slots };
}
