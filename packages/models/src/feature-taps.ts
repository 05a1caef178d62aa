import { InvalidArgumentError } from '@distilljs/core';
import * as tfl from '@tensorflow/tfjs-layers';
import { unfuseBatchNormRelu } from './batch-norm.js';
import { getModelMetadata, setModelMetadata } from './model-metadata.js';

/**
 * Builds a model with outputs `[logits, ...featureMaps]`: the original model's (single) output followed by
 * the outputs of the named layers, for feature-based losses (FitNets hints, attention transfer). The new
 * model shares its layers, and so its weights, with `model`: training one trains the other.
 *
 * Without `layerNames`, the zoo's default taps recorded in the model's metadata are used (see the
 * package README's zoo table: each MLP hidden layer, each pooling stage of the CNNs and VGGs, each ResNet
 * stage's output after its ReLU).
 *
 * @throws InvalidArgumentError when a layer name is not in the model (listing the valid ones), or when no
 *   names are given and the model has no default taps.
 */
export function withFeatureTaps(model: tfl.LayersModel, layerNames?: readonly string[]): tfl.LayersModel {
  if (model.outputs.length !== 1) {
    throw new InvalidArgumentError(
      `withFeatureTaps: argument 'model' must have one output (the logits), got ${model.outputs.length}`,
      {
        where: 'withFeatureTaps(model)',
      },
    );
  }
  const metadata = getModelMetadata(model);
  const names = layerNames ?? metadata.featureTaps;
  const valid = model.layers.map((l) => l.name);
  if (names === undefined || names.length === 0) {
    throw new InvalidArgumentError(
      `withFeatureTaps: model '${model.name}' has no default feature taps (it is not a zoo model); pass layerNames, one or more of ${valid.map((n) => `'${n}'`).join(', ')}`,
      { where: 'withFeatureTaps(layerNames)' },
    );
  }
  const outputs = names.map((name) => {
    if (!valid.includes(name)) {
      throw new InvalidArgumentError(
        `withFeatureTaps: layer ${JSON.stringify(name)} is not in model '${model.name}'; valid layer names are ${valid.map((n) => `'${n}'`).join(', ')}`,
        { where: 'withFeatureTaps(layerNames)' },
      );
    }
    const layer = model.getLayer(name);
    // A batch norm fused with the ReLU after it would give the tap the ReLU's values in training.
    unfuseBatchNormRelu(layer);
    return layer.output as tfl.SymbolicTensor;
  });
  const tapped = tfl.model({
    inputs: model.inputs,
    outputs: [model.outputs[0] as tfl.SymbolicTensor, ...outputs],
    name: `${model.name}_features`,
  });
  setModelMetadata(tapped, { ...metadata, featureTaps: [...names] });
  return tapped;
}
