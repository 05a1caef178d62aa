import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

/** A forward pass in inference mode: the logits of a batch of `batch` random images. */
export function forwardShape(
  model: tfl.LayersModel,
  inputShape: readonly number[],
  batch: number,
): { shape: number[]; finite: boolean } {
  return tf.tidy(() => {
    const x = tf.randomUniform([batch, ...inputShape], 0, 1, 'float32', 11);
    const y = model.predict(x) as tf.Tensor;
    return { shape: y.shape, finite: tf.all(tf.isFinite(y)).dataSync()[0] === 1 };
  });
}

/**
 * One SGD step on random images and labels in training mode (dropout and batch statistics on), inside
 * tf.tidy so nothing leaks even when a kernel is missing. Returns the names of the trainable weights that
 * did not change, and the loss.
 */
export function sgdStep(
  model: tfl.LayersModel,
  inputShape: readonly number[],
  batch: number,
): { unchanged: string[]; loss: number } {
  const weights = model.trainableWeights;
  const before = weights.map((w) => w.read().dataSync().slice());
  const loss = tf.tidy(() => {
    const x = tf.randomUniform([batch, ...inputShape], 0, 1, 'float32', 12);
    const labels = tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => i % 10),
        'int32',
      ),
      model.outputs[0]?.shape[1] as number,
    );
    const optimizer = tf.train.sgd(0.05);
    const cost = optimizer.minimize(
      () =>
        tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
      true,
      weights.map((w) => w.read() as tf.Variable),
    );
    optimizer.dispose();
    return (cost as tf.Scalar).dataSync()[0] as number;
  });
  const unchanged = weights.filter((w, i) => {
    const now = w.read().dataSync();
    const old = before[i] as Float32Array | Int32Array | Uint8Array;
    for (let j = 0; j < now.length; j++) if (now[j] !== old[j]) return false;
    return true;
  });
  return { unchanged: unchanged.map((w) => w.name), loss };
}
