import type { Batch, Teacher } from '@distilljs/core';
import { invalidArgument, sha256Hex } from '@distilljs/core';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { softmaxHead } from './softmax-head.js';

/** sha256 hex of bytes or byte chunks: @distilljs/core's, re-exported here where it was first published. */
export { sha256Hex };

/** sha256 of a model's weights (shapes and float32 values): the fingerprint of a Layers teacher. */
export async function weightsFingerprint(model: tfl.LayersModel): Promise<string> {
  const chunks: Uint8Array[] = [];
  for (const w of model.weights) {
    const v = (await w.read().data()) as Float32Array;
    chunks.push(
      new TextEncoder().encode(w.shape.join('x')),
      new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
    );
  }
  return sha256Hex(chunks);
}

/**
 * A tfjs Layers model as a {@link Teacher}: evaluation mode, the first output as logits. A softmax head is
 * detected and its probabilities turned into log-probabilities (valid logits: `softmax(log p) = p` at every
 * temperature), with a note saying so.
 */
export function layersTeacher(model: tfl.LayersModel, name = model?.name): Teacher {
  if (!model || typeof model.apply !== 'function' || !Array.isArray(model.outputs)) {
    invalidArgument('layersTeacher', 'model', 'a tf.LayersModel', model);
  }
  const head = softmaxHead(model);
  const shape = model.outputs[0]!.shape;
  const numClasses = shape[shape.length - 1] ?? 0;
  const notes = head
    ? [
        `teacher '${name}' ends in a softmax (${head}); using the log of its probabilities as logits (same soft targets at every temperature)`,
      ]
    : [];
  return {
    kind: 'layers',
    name,
    inputShape: model.inputs[0]!.shape.slice(1),
    inputLayout: 'NHWC',
    numClasses,
    notes,
    logits(batch: Batch) {
      return Promise.resolve(
        tf.tidy(() => {
          const out = model.apply(batch.xs, { training: false }) as tf.Tensor | tf.Tensor[];
          const y = (Array.isArray(out) ? out[0] : out) as tf.Tensor2D;
          return head ? (tf.log(tf.maximum(y, 1e-30)) as tf.Tensor2D) : y;
        }),
      );
    },
    fingerprint: () => weightsFingerprint(model),
    dispose() {
      model.dispose();
    },
  };
}
