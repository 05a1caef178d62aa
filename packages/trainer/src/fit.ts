import type { BatchStream } from '@distilljs/core';

import type { LayersModel } from '@tensorflow/tfjs-layers';
import { forwardLogits } from './forward.js';
import type { History } from './history.js';
import { maskedCrossEntropy } from './masked-cross-entropy.js';
import type { TrainOptions } from './train-options.js';
import { runTraining } from './training-loop.js';
import { checkLogitsHead, checkModel, checkStream } from './validate.js';

/** Options of {@link fit}: the shared {@link TrainOptions} plus label smoothing. */
export interface FitOptions extends TrainOptions {
  /** Label smoothing of the cross-entropy (PyTorch convention); default 0. */
  readonly labelSmoothing?: number;
}

/**
 * Supervised training on hard labels (teachers and baseline students), Keras `model.fit` style:
 * softmax cross-entropy on the logits, gradients over the model's trainable weights only, with the
 * optimiser, schedule, clipping, callbacks, validation, checkpoints and early stopping of
 * {@link TrainOptions}. Unlabelled examples (label -1) are skipped by the loss.
 *
 * Every option is checked before the first step; a NaN/Infinity loss stops training with a
 * `DistillError` (code `non-finite-loss`) and leaves the last good checkpoint in place.
 */
export async function fit(model: LayersModel, data: BatchStream, options: FitOptions): Promise<History> {
  checkModel('fit', 'model', model);
  checkLogitsHead('fit', 'model', model);
  checkStream('fit', 'data', data);
  const smoothing = options?.labelSmoothing ?? 0;
  return runTraining(
    {
      kind: 'fit',
      fn: 'fit',
      student: model,
      loss(batch) {
        const logits = forwardLogits(model, batch.xs, true);
        const hard = maskedCrossEntropy(logits, batch.labels, smoothing, 'fit');
        return { loss: hard, hard, logits };
      },
    },
    data,
    options,
    [],
  );
}
