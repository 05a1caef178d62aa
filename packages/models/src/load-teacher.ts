import { assertInteger, InvalidArgumentError, invalidArgument } from '@distilljs/core';
import * as tfl from '@tensorflow/tfjs-layers';
import {
  type HandlerResolver,
  type LoadModelOptions,
  loadModelWith,
  type ModelLocation,
  tfjsRouters,
} from './model-files.js';

/** Options of {@link loadTeacher}: what the data and the student expect. */
export interface LoadTeacherOptions extends LoadModelOptions {
  /** The input shape of one example as the data gives it (e.g. `[28, 28, 1]`); unchecked when absent. */
  inputShape?: readonly number[];
  /** The number of classes of the data; unchecked when absent. */
  numClasses?: number;
}

/** A teacher ready for distillation, and what was done to it. */
export interface LoadedTeacher {
  /** A model whose single output is logits. */
  readonly model: tfl.LayersModel;
  /** True when the final softmax was removed. */
  readonly removedSoftmax: boolean;
  /** One sentence per change made (softmax removed, input reshaped); empty when the model was used as is. */
  readonly messages: readonly string[];
}

/** The result of {@link toLogitsModel}. */
export interface LogitsModelResult {
  readonly model: tfl.LayersModel;
  readonly removedSoftmax: boolean;
  readonly message: string | undefined;
}

type LayerCtor = new (config: Record<string, unknown>) => tfl.layers.Layer;

function layerActivation(layer: tfl.layers.Layer): unknown {
  return (layer.getConfig() as Record<string, unknown>).activation;
}

/**
 * If a model's last layer applies softmax, returns a model with the same weights that outputs the logits
 * (the softmax's input) instead; otherwise returns the model unchanged. Handles a separate `Activation`
 * ('softmax') or `Softmax` layer (the new model stops before it, sharing every weight) and a layer with
 * `activation: 'softmax'` such as Keras's `Dense(10, activation='softmax')` (a linear copy of that layer
 * with the same kernel and bias replaces it; the other layers are shared).
 */
export function toLogitsModel(model: tfl.LayersModel): LogitsModelResult {
  if (!(model instanceof tfl.LayersModel))
    invalidArgument('toLogitsModel', 'model', 'a tf.LayersModel', model);
  if (model.outputs.length !== 1) {
    throw new InvalidArgumentError(
      `toLogitsModel: a teacher must have one output (the class scores), got ${model.outputs.length}`,
      {
        where: 'toLogitsModel(model)',
      },
    );
  }
  const output = model.outputs[0] as tfl.SymbolicTensor;
  const layer = output.sourceLayer as tfl.layers.Layer;
  const className = layer.getClassName();
  const before = output.inputs[0];
  const kind = `'${layer.name}' (${className})`;
  if (
    before !== undefined &&
    ((className === 'Activation' && layerActivation(layer) === 'softmax') || className === 'Softmax')
  ) {
    if (className === 'Softmax') {
      const axis = (layer.getConfig() as { axis?: number }).axis ?? -1;
      const rank = output.shape.length;
      if (axis !== -1 && axis !== rank - 1) {
        return { model, removedSoftmax: false, message: undefined };
      }
    }
    const logits = tfl.model({ inputs: model.inputs, outputs: before, name: `${model.name}_logits` });
    return {
      model: logits,
      removedSoftmax: true,
      message: `the last layer ${kind} applies softmax; using the model up to its input, which gives the logits (same weights)`,
    };
  }
  if (before !== undefined && layerActivation(layer) === 'softmax' && !(layer instanceof tfl.LayersModel)) {
    const config = {
      ...(layer.getConfig() as Record<string, unknown>),
      activation: 'linear',
      name: `${layer.name}_logits`,
    };
    const linear = new (layer.constructor as LayerCtor)(config);
    const logitsTensor = linear.apply(before) as tfl.SymbolicTensor;
    linear.setWeights(layer.getWeights());
    const logits = tfl.model({ inputs: model.inputs, outputs: logitsTensor, name: `${model.name}_logits` });
    return {
      model: logits,
      removedSoftmax: true,
      message: `the last layer ${kind} applies softmax; replaced it by a linear copy with the same weights, so the model outputs logits`,
    };
  }
  return { model, removedSoftmax: false, message: undefined };
}

function shapeText(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

/**
 * Loads any tfjs Layers model as a distillation teacher (a zoo model, a distilljs checkpoint, or a Keras
 * model converted with tensorflowjs_converter): a final softmax is removed ({@link toLogitsModel}); the
 * input shape and the class count are checked against the data; a teacher taking flat vectors (e.g. `[784]`)
 * is given a leading reshape when the data's shape has the same size (e.g. `[28, 28, 1]`).
 *
 * `source` is a `tf.LayersModel`, an `http(s)://` or `indexeddb://` URL, or an IOHandler; from
 * `@distilljs/models/node` it may also be a directory or model.json path.
 *
 * @throws InvalidArgumentError when the input shape or class count disagrees with the options.
 */
export function loadTeacher(
  source: ModelLocation | tfl.LayersModel,
  options: LoadTeacherOptions = {},
): Promise<LoadedTeacher> {
  return loadTeacherWith(tfjsRouters, source, options);
}

/** {@link loadTeacher} with a given string-location resolver (the Node entry passes one that knows paths). */
export async function loadTeacherWith(
  resolve: HandlerResolver,
  source: ModelLocation | tfl.LayersModel,
  options: LoadTeacherOptions = {},
): Promise<LoadedTeacher> {
  const fn = 'loadTeacher';
  if (options.numClasses !== undefined) assertInteger(fn, 'options.numClasses', options.numClasses, 1);
  if (
    options.inputShape !== undefined &&
    (!Array.isArray(options.inputShape) || options.inputShape.some((d) => !Number.isInteger(d) || d < 1))
  ) {
    invalidArgument(fn, 'options.inputShape', 'an array of integers >= 1', options.inputShape);
  }
  const loaded =
    source instanceof tfl.LayersModel ? source : await loadModelWith(resolve, fn, source, options);
  const label = typeof source === 'string' ? source : `model '${loaded.name}'`;
  if (loaded.inputs.length !== 1) {
    throw new InvalidArgumentError(
      `${fn}: the teacher ${label} has ${loaded.inputs.length} inputs; a teacher takes one batch of examples`,
      {
        where: `${fn}(source)`,
      },
    );
  }
  const messages: string[] = [];
  const { model: logitsModel, removedSoftmax, message } = toLogitsModel(loaded);
  let model = logitsModel;
  if (message) messages.push(`${fn}: ${label}: ${message}`);

  const outShape = model.outputs[0]?.shape ?? [];
  const classes = outShape[outShape.length - 1];
  if (outShape.length !== 2) {
    throw new InvalidArgumentError(
      `${fn}: the teacher ${label} outputs shape ${shapeText(outShape)}; expected [batch, classes]`,
      {
        where: `${fn}(source)`,
      },
    );
  }
  if (options.numClasses !== undefined && classes !== options.numClasses) {
    throw new InvalidArgumentError(
      `${fn}: the teacher ${label} outputs ${classes} classes but the data has ${options.numClasses}; use a teacher trained on the same classes`,
      { where: `${fn}(options.numClasses)` },
    );
  }

  const inShape = (model.inputs[0] as tfl.SymbolicTensor).shape.slice(1);
  const want = options.inputShape;
  if (want !== undefined) {
    const matches = inShape.length === want.length && inShape.every((d, i) => d === null || d === want[i]);
    const size = want.reduce((a, b) => a * b, 1);
    if (!matches) {
      if (inShape.length === 1 && inShape[0] === size && want.length > 1) {
        const input = tfl.input({ shape: [...want], name: 'teacher_image_input' });
        const flat = tfl.layers
          .reshape({ targetShape: [size], name: 'teacher_flatten' })
          .apply(input) as tfl.SymbolicTensor;
        const out = model.apply(flat) as tfl.SymbolicTensor;
        model = tfl.model({ inputs: input, outputs: out, name: `${model.name}_on_images` });
        messages.push(
          `${fn}: ${label} takes flat inputs ${shapeText(inShape)}; added a reshape from the data's ${shapeText(want)}`,
        );
      } else {
        throw new InvalidArgumentError(
          `${fn}: the teacher ${label} takes input ${shapeText(inShape)} per example but the data gives ${shapeText(want)}; use a teacher trained on data of this shape`,
          { where: `${fn}(options.inputShape)` },
        );
      }
    }
  }
  return { model, removedSoftmax, messages };
}
