import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

/**
 * Runs a model on a batch: `training: true` enables dropout (and batch-norm statistics updates),
 * `false` is evaluation mode. Returns every output (logits first for feature-tap models).
 */
export function forwardAll(model: LayersModel, xs: tf.Tensor, training: boolean): tf.Tensor[] {
  const out = model.apply(xs, { training }) as tf.Tensor | tf.Tensor[];
  return Array.isArray(out) ? out : [out];
}

/** The logits output of a model (its first output); other outputs of a feature-tap model are freed. */
export function forwardLogits(model: LayersModel, xs: tf.Tensor, training: boolean): tf.Tensor {
  const outs = forwardAll(model, xs, training);
  for (let i = 1; i < outs.length; i++) outs[i]!.dispose();
  return outs[0]!;
}

/** Input shape of one example (without the batch dimension); `null` marks a free dimension. */
export function modelInputShape(model: LayersModel): (number | null)[] {
  return model.inputs[0]!.shape.slice(1);
}

/** Number of classes of a logits model (last dimension of its first output). */
export function modelNumClasses(model: LayersModel): number | null {
  const shape = model.outputs[0]!.shape;
  return shape[shape.length - 1] ?? null;
}
