import { type BatchStream, InvalidArgumentError } from '@distilljs/core';
import { softmaxHead, softmaxStudentAdvice } from '@distilljs/models';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { modelInputShape, modelNumClasses } from './forward.js';

function fmt(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? '?' : d)).join(', ')}]`;
}

/** Checks a value looks like a tfjs Layers model. */
export function checkModel(fn: string, arg: string, model: unknown): asserts model is LayersModel {
  const m = model as LayersModel | undefined;
  if (
    !m ||
    typeof m !== 'object' ||
    typeof m.apply !== 'function' ||
    !Array.isArray(m.inputs) ||
    !Array.isArray(m.outputs)
  ) {
    throw new InvalidArgumentError(`${fn}: argument '${arg}' must be a tf.LayersModel, got ${typeof model}`, {
      where: `${fn}(${arg})`,
    });
  }
}

/** Refuses a model that learns (a student, a fit model) whose last layer is a softmax: losses expect logits. */
export function checkLogitsHead(fn: string, arg: string, model: LayersModel): void {
  const head = softmaxHead(model);
  if (head) throw new InvalidArgumentError(softmaxStudentAdvice(fn, arg, head), { where: `${fn}(${arg})` });
}

/** Checks a value implements the core BatchStream interface. */
export function checkStream(fn: string, arg: string, data: unknown): asserts data is BatchStream {
  const d = data as BatchStream | undefined;
  if (!d || typeof d !== 'object' || typeof d.epoch !== 'function' || !Array.isArray(d.inputShape)) {
    throw new InvalidArgumentError(
      `${fn}: argument '${arg}' must be a BatchStream ({ size, batchSize, inputShape, numClasses, epoch(e) }), got ${typeof data}`,
      { where: `${fn}(${arg})` },
    );
  }
}

/**
 * Checks that the examples of `data` fit the model's input and that the class counts agree; returns
 * the model's class count. Errors name the function, both shapes and what would fit.
 */
export function checkDataFitsModel(
  fn: string,
  model: LayersModel,
  data: BatchStream,
  modelArg: string,
): number {
  checkModel(fn, modelArg, model);
  checkStream(fn, 'data', data);
  const want = modelInputShape(model);
  const got = data.inputShape;
  const fits = want.length === got.length && want.every((d, i) => d === null || d === got[i]);
  if (!fits) {
    throw new InvalidArgumentError(
      `${fn}: the data's examples have shape ${fmt(got)} but '${modelArg}' takes inputs of shape ${fmt(want)}; reshape the data or build the model for ${fmt(got)}`,
      { where: `${fn}(${modelArg})` },
    );
  }
  const classes = modelNumClasses(model);
  if (classes === null) {
    throw new InvalidArgumentError(`${fn}: '${modelArg}' has no fixed class count in its output shape`, {
      where: `${fn}(${modelArg})`,
    });
  }
  if (data.numClasses !== classes) {
    throw new InvalidArgumentError(
      `${fn}: the data has ${data.numClasses} classes but '${modelArg}' outputs ${classes} logits; they must agree`,
      { where: `${fn}(${modelArg})` },
    );
  }
  return classes;
}
