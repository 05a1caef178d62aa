import type { Tensor2D } from '@tensorflow/tfjs-core';
import type { Batch, BatchStream } from './data.js';

/**
 * How a teacher lays out one image internally: `NHWC` (tfjs, Keras), `NCHW` (PyTorch, most ONNX exports;
 * the teacher transposes the data's NHWC batches), `flat` (a vector per example), or `none` (a teacher
 * that never looks at the inputs, such as precomputed logits files).
 */
export type TeacherLayout = 'NHWC' | 'NCHW' | 'flat' | 'none';

/**
 * What training needs from a teacher: anything that turns a batch into logits. tfjs Layers models, ONNX
 * models, tfjs graph models and directories of precomputed teacher logits all implement it, and
 * `distill()` and the teacher-output cache of @distilljs/trainer accept any of them.
 */
export interface Teacher {
  /** `layers`, `onnx`, `graph`, `logits-files`, or your own. */
  readonly kind: string;
  /** A short name for messages (a file path, a model name). */
  readonly name: string;
  /**
   * Shape of one example as the teacher takes it from the data (NHWC, e.g. `[28, 28, 1]`); `null` per
   * free dimension; `null` altogether when the teacher does not read the inputs.
   */
  readonly inputShape: readonly (number | null)[] | null;
  /** The layout of the underlying model's own input. */
  readonly inputLayout: TeacherLayout;
  /** Number of classes (width of the logits). */
  readonly numClasses: number;
  /** One sentence per conversion made when loading (softmax head turned into log-probabilities, ...). */
  readonly notes: readonly string[];
  /**
   * The logits `[b, numClasses]` for a batch, in evaluation mode. The caller owns (and disposes) the
   * result; the teacher must not dispose `batch.xs`. May use `batch.indices` (precomputed logits).
   */
  logits(batch: Batch): Promise<Tensor2D>;
  /** Identifies the teacher's function (weights, preprocessing, file contents): a key of the output cache. */
  fingerprint(): Promise<string>;
  /**
   * Optional: this teacher as it should be read at distillation temperature `temperature` (top-k logits
   * files keep the k probabilities exact at the temperatures they were written for); throws when it cannot
   * serve that temperature. `distill()` calls it with its `temperature` before training.
   */
  atTemperature?(temperature: number): Teacher;
  /** Optional: checks the teacher can serve this data (e.g. logits files of the same dataset split). */
  checkData?(data: BatchStream): Promise<void>;
  /** Frees what the teacher holds (tensors, inference sessions). */
  dispose(): void | Promise<void>;
}

/** True when `value` implements {@link Teacher} (as opposed to, e.g., a tfjs LayersModel). */
export function isTeacher(value: unknown): value is Teacher {
  const t = value as Teacher | undefined;
  return (
    !!t &&
    typeof t === 'object' &&
    typeof t.logits === 'function' &&
    typeof t.fingerprint === 'function' &&
    typeof t.numClasses === 'number' &&
    typeof t.kind === 'string'
  );
}
