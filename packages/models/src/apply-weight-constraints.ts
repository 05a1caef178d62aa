import { tidy } from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Projects every constrained trainable weight (for example the max-norm kernels of `hinton-teacher`) back
 * into its constraint. tfjs-layers applies constraints only inside `LayerVariable.write`, not after an
 * optimizer step, so a custom training loop calls this after each `optimizer.applyGradients` /
 * `minimize`. Returns the number of weights projected.
 */
export function applyWeightConstraints(model: tfl.LayersModel): number {
  let n = 0;
  for (const w of model.trainableWeights) {
    if (w.constraint == null) continue;
    // write() projects only a new value (a different tensor id), hence the clone.
    tidy(() => {
      w.write(w.read().clone());
    });
    n++;
  }
  return n;
}
