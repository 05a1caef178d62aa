import { type Batch, type BatchStream, InvalidArgumentError, isTeacher, type Teacher } from '@distilljs/core';
import { softmaxHead } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { forwardLogits } from './forward.js';
import { checkDataFitsModel } from './validate.js';

/** Number of equal-width confidence bins of the expected calibration error. */
export const ECE_BINS = 15;

/** What {@link evaluate} measures over the labelled examples of a stream. */
export interface EvaluationResult {
  /** Labelled examples seen (unlabelled ones, label -1, are skipped). */
  readonly count: number;
  /** Fraction classified correctly (arg-max of the logits). */
  readonly accuracy: number;
  /** Number misclassified: the figure the distillation paper reports ("test errors"). */
  readonly errors: number;
  /** Mean negative log-likelihood (cross entropy) in nats. */
  readonly nll: number;
  /**
   * Expected calibration error over 15 equal-width bins of confidence (max softmax probability):
   * `sum_b n_b / N * |acc_b - conf_b|`, bins `(k/15, (k+1)/15]` as in Guo et al. 2017.
   */
  readonly ece: number;
  /** `confusionMatrix[true][predicted]` counts. */
  readonly confusionMatrix: number[][];
  /** Accuracy per true class; `null` for a class with no examples. */
  readonly perClassAccuracy: (number | null)[];
}

/** Log-probabilities `[b, classes]` of a batch, from a Layers model or a {@link Teacher}. */
type LogProbs = (batch: Batch) => Promise<tf.Tensor>;

function teacherLogProbs(teacher: Teacher, data: BatchStream): { numClasses: number; logProbs: LogProbs } {
  if (teacher.numClasses !== data.numClasses) {
    throw new InvalidArgumentError(
      `evaluate: the data has ${data.numClasses} classes but the teacher ${teacher.name} outputs ${teacher.numClasses} logits; they must agree`,
      { where: 'evaluate(model)' },
    );
  }
  return {
    numClasses: teacher.numClasses,
    logProbs: async (batch) => {
      const logits = await teacher.logits(batch);
      const lp = tf.logSoftmax(logits);
      logits.dispose();
      return lp;
    },
  };
}

function layersLogProbs(model: LayersModel, data: BatchStream): { numClasses: number; logProbs: LogProbs } {
  const numClasses = checkDataFitsModel('evaluate', model, data, 'model');
  // A softmax head outputs probabilities: their log is the log-softmax of the logits (same results).
  const probabilities = softmaxHead(model) !== undefined;
  return {
    numClasses,
    logProbs: async (batch) =>
      tf.tidy(() => {
        const y = forwardLogits(model, batch.xs, false);
        return probabilities ? tf.log(tf.maximum(y, 1e-30)) : tf.logSoftmax(y);
      }),
  };
}

/**
 * Evaluates a logits model (or a model with a softmax head, whose probabilities are used as they are), or any
 * {@link Teacher} (an ONNX or graph model, ...: the log-softmax of its logits), on every batch of
 * `data.epoch(0)` in evaluation mode (no dropout): accuracy, error count, NLL, 15-bin ECE, confusion matrix
 * and per-class accuracy. Disposes every batch.
 */
export async function evaluate(model: LayersModel | Teacher, data: BatchStream): Promise<EvaluationResult> {
  const { numClasses, logProbs: forward } = isTeacher(model)
    ? teacherLogProbs(model, data)
    : layersLogProbs(model, data);
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const binCount = new Float64Array(ECE_BINS);
  const binConf = new Float64Array(ECE_BINS);
  const binCorrect = new Float64Array(ECE_BINS);
  let count = 0;
  let correct = 0;
  let nllSum = 0;
  for await (const batch of data.epoch(0)) {
    try {
      const logProbs = await forward(batch);
      const lp = (await logProbs.data()) as Float32Array;
      logProbs.dispose();
      for (let i = 0; i < batch.labels.length; i++) {
        const label = batch.labels[i]!;
        if (label < 0) continue;
        const row = i * numClasses;
        let pred = 0;
        for (let c = 1; c < numClasses; c++) if (lp[row + c]! > lp[row + pred]!) pred = c;
        const conf = Math.exp(lp[row + pred]!);
        const bin = Math.min(ECE_BINS - 1, Math.max(0, Math.ceil(conf * ECE_BINS) - 1));
        binCount[bin]! += 1;
        binConf[bin]! += conf;
        if (pred === label) {
          binCorrect[bin]! += 1;
          correct += 1;
        }
        nllSum -= lp[row + label]!;
        confusion[label]![pred]! += 1;
        count += 1;
      }
    } finally {
      batch.xs.dispose();
    }
  }
  let ece = 0;
  for (let b = 0; b < ECE_BINS; b++) {
    if (binCount[b]! > 0) ece += Math.abs(binCorrect[b]! - binConf[b]!) / Math.max(count, 1);
  }
  return {
    count,
    accuracy: count > 0 ? correct / count : 0,
    errors: count - correct,
    nll: count > 0 ? nllSum / count : 0,
    ece,
    confusionMatrix: confusion,
    perClassAccuracy: confusion.map((row, c) => {
      const n = row.reduce((a, b) => a + b, 0);
      return n > 0 ? row[c]! / n : null;
    }),
  };
}
