import * as tf from '@tensorflow/tfjs-core';

/**
 * @internal The T^2 factor of a per-example `[batch]` loss: `T * T` for a number, the square of a scalar
 * tensor, or the `[batch]` squares of a `[batch, 1]` per-example temperature. Call inside a tidy.
 */
export function temperatureScale(temperature: number | tf.Tensor): number | tf.Tensor {
  if (typeof temperature === 'number') return temperature * temperature;
  const squared = tf.square(temperature);
  return squared.rank === 0 ? squared : tf.reshape(squared, [-1]);
}
