import { type Batch, type BatchStream, InvalidFileError } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointStore } from './checkpoint-store.js';

/** File magic of a stored teacher-output cache: the ASCII bytes `DJSTCH01`. */
const CACHE_MAGIC = 'DJSTCH01';

/**
 * Teacher outputs (logits, or an ensemble's targets as logits) for every example of a transfer set,
 * computed once in evaluation mode and kept as one Float32Array, one row per example, found by the
 * example's stable index (`Batch.indices`).
 */
export class TeacherOutputCache {
  readonly numClasses: number;
  private rows: Float32Array;
  private readonly rowOf = new Map<number, number>();

  constructor(numClasses: number, capacity: number) {
    this.numClasses = numClasses;
    this.rows = new Float32Array(Math.max(1, capacity) * numClasses);
  }

  /** Number of examples held. */
  get size(): number {
    return this.rowOf.size;
  }

  /** Bytes of teacher outputs held. */
  get bytes(): number {
    return this.rowOf.size * this.numClasses * 4;
  }

  /** Stores the `[b, classes]` outputs of the examples `indices`. */
  put(indices: Int32Array, values: Float32Array): void {
    const c = this.numClasses;
    for (let i = 0; i < indices.length; i++) {
      let row = this.rowOf.get(indices[i]!);
      if (row === undefined) {
        row = this.rowOf.size;
        if ((row + 1) * c > this.rows.length) {
          const grown = new Float32Array(Math.max(this.rows.length * 2, (row + 1) * c));
          grown.set(this.rows);
          this.rows = grown;
        }
        this.rowOf.set(indices[i]!, row);
      }
      this.rows.set(values.subarray(i * c, (i + 1) * c), row * c);
    }
  }

  /** The `[b, classes]` outputs of `indices` as a new tensor, or `undefined` if any example is missing. */
  get(indices: Int32Array): tf.Tensor2D | undefined {
    const c = this.numClasses;
    const out = new Float32Array(indices.length * c);
    for (let i = 0; i < indices.length; i++) {
      const row = this.rowOf.get(indices[i]!);
      if (row === undefined) return undefined;
      out.set(this.rows.subarray(row * c, (row + 1) * c), i * c);
    }
    return tf.tensor2d(out, [indices.length, c]);
  }

  /** Serialises: magic, uint32 count, uint32 classes, int32 indices, float32 rows (little-endian). */
  encode(): Uint8Array {
    const n = this.rowOf.size;
    const c = this.numClasses;
    const out = new Uint8Array(16 + n * 4 + n * c * 4);
    out.set(new TextEncoder().encode(CACHE_MAGIC), 0);
    const dv = new DataView(out.buffer);
    dv.setUint32(8, n, true);
    dv.setUint32(12, c, true);
    let k = 0;
    for (const [index, row] of this.rowOf) {
      dv.setInt32(16 + k * 4, index, true);
      const src = this.rows.subarray(row * c, (row + 1) * c);
      for (let j = 0; j < c; j++) dv.setFloat32(16 + n * 4 + (k * c + j) * 4, src[j]!, true);
      k++;
    }
    return out;
  }

  /** Parses {@link TeacherOutputCache.encode} output; errors name the source and byte offset. */
  static decode(bytes: Uint8Array, source: string, numClasses: number): TeacherOutputCache {
    const fail = (what: string, offset: number): never => {
      throw new InvalidFileError(`TeacherOutputCache.decode: ${source}@${offset}: ${what}`, {
        where: `${source}@${offset}`,
      });
    };
    if (bytes.length < 16) fail('shorter than the 16-byte header', 0);
    if (new TextDecoder().decode(bytes.subarray(0, 8)) !== CACHE_MAGIC)
      fail(`bad magic, expected "${CACHE_MAGIC}"`, 0);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = dv.getUint32(8, true);
    const c = dv.getUint32(12, true);
    if (c !== numClasses) fail(`holds ${c} classes, expected ${numClasses}`, 12);
    if (bytes.length !== 16 + n * 4 + n * c * 4)
      fail(`length ${bytes.length} does not match ${n} rows of ${c} classes`, 8);
    const cache = new TeacherOutputCache(c, n);
    const values = new Float32Array(n * c);
    for (let i = 0; i < n * c; i++) values[i] = dv.getFloat32(16 + n * 4 + i * 4, true);
    const indices = new Int32Array(n);
    for (let i = 0; i < n; i++) indices[i] = dv.getInt32(16 + i * 4, true);
    cache.put(indices, values);
    return cache;
  }
}

/** Where and whether to keep teacher outputs. */
export interface TeacherCacheOptions {
  /**
   * `'auto'` (default): cache when the transfer set is not augmented; `'off'`: run the teacher on
   * every batch; `'on'`: cache, and fail if the data is augmented.
   */
  readonly mode?: 'auto' | 'on' | 'off';
  /**
   * Also keep the cache in this store (e.g. `new FileCheckpointStore(dir)` from
   * `@distilljs/trainer/node`), keyed by sha256 of teacher weights + data + preprocessing, so later runs
   * with the same teacher and transfer set skip the teacher pass.
   */
  readonly store?: CheckpointStore;
  /** Node only: shortcut for `store: new FileCheckpointStore(dir)`. */
  readonly dir?: string;
}

/**
 * @internal Fills a cache by running `teacherOutputs` (evaluation mode) over one pass of the data:
 * batched, each batch disposed.
 */
export async function fillTeacherCache(
  data: BatchStream,
  numClasses: number,
  teacherOutputs: (batch: Batch) => tf.Tensor2D | Promise<tf.Tensor2D>,
): Promise<TeacherOutputCache> {
  const cache = new TeacherOutputCache(numClasses, data.size);
  for await (const batch of data.epoch(0)) {
    try {
      const out = await teacherOutputs(batch);
      const values = (await out.data()) as Float32Array;
      out.dispose();
      cache.put(batch.indices, values);
    } finally {
      batch.xs.dispose();
    }
  }
  return cache;
}
