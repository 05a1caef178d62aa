import type * as tfl from '@tensorflow/tfjs-layers';

/**
 * Describes a model's softmax head, or returns `undefined` when its (first) output is not a softmax: the
 * last layer is an `Activation('softmax')`, a `Softmax` layer over the last axis, or any layer with
 * `activation: 'softmax'` (Keras's `Dense(10, activation='softmax')`). The description names the layer,
 * e.g. `'dense_2' (Dense, activation 'softmax')`.
 */
export function softmaxHead(model: tfl.LayersModel): string | undefined {
  const output = model.outputs[0] as tfl.SymbolicTensor | undefined;
  const layer = output?.sourceLayer as tfl.layers.Layer | undefined;
  if (!output || !layer || typeof layer.getConfig !== 'function') return undefined;
  const className = layer.getClassName();
  const config = layer.getConfig() as { activation?: unknown; axis?: number };
  if (className === 'Softmax') {
    const axis = config.axis ?? -1;
    return axis === -1 || axis === output.shape.length - 1 ? `'${layer.name}' (Softmax)` : undefined;
  }
  if (config.activation === 'softmax') return `'${layer.name}' (${className}, activation 'softmax')`;
  return undefined;
}

/** The one-line advice for a student that ends in softmax: build it with logits. */
export function softmaxStudentAdvice(fn: string, arg: string, head: string): string {
  return `${fn}: '${arg}' ends in a softmax (${head}), but the losses expect logits; build it with a linear last layer (e.g. tf.layers.dense({ units: classes }) with no activation, or activation 'linear') and apply softmax only when predicting`;
}
