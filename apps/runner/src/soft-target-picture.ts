import type { BatchStream, ImageDataset, Teacher } from '@distilljs/core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { SoftTargetPicture } from './html-report.js';
import { collectLogits, softmaxRow } from './logits.js';
import type { RunDataset } from './toolkit.js';

/** Options of {@link softTargetPicture}. */
export interface SoftTargetOptions {
  readonly temperatures?: readonly number[];
  readonly label?: number;
  readonly lookalike?: number;
  /** Which split `stream` reads (default validation: showing a picture is no look at the test split). */
  readonly split?: 'validation' | 'test';
}

/**
 * Picks the image the paper describes ("a 7 that looks a little like a 2"): among the examples
 * of class `label` that the teacher gets right, the one whose probability for class `lookalike` is highest,
 * and returns its soft targets at each temperature. For datasets without those classes, the correctly
 * classified example with the largest second-highest probability is used.
 */
export async function softTargetPicture(
  teacher: tfl.LayersModel | Teacher,
  dataset: RunDataset<ImageDataset>,
  stream: BatchStream,
  options: SoftTargetOptions = {},
): Promise<SoftTargetPicture> {
  const { temperatures = [1, 20], label = 7, lookalike = 2, split = 'validation' } = options;
  const { logits, labels, indices, numClasses, count } = await collectLogits(teacher, stream);
  const paperPair = label < numClasses && lookalike < numClasses;
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    const row = logits.subarray(i * numClasses, (i + 1) * numClasses);
    let pred = 0;
    for (let c = 1; c < numClasses; c++) if (row[c]! > row[pred]!) pred = c;
    if (pred !== labels[i]) continue;
    if (paperPair && labels[i] !== label) continue;
    const p = softmaxRow(row, 1);
    const score = paperPair ? p[lookalike]! : [...p].sort((a, b) => b - a)[1]!;
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  if (best < 0) best = 0;
  const row = logits.subarray(best * numClasses, (best + 1) * numClasses);
  const [h, w, c] = dataset.imageShape;
  const px = h * w * c;
  const at = indices[best]!;
  const trueLabel = labels[best]!;
  const probsT1 = softmaxRow(row, 1);
  const runnerUp = probsT1
    .map((p, k) => [p, k] as const)
    .filter(([, k]) => k !== trueLabel)
    .sort((a, b) => b[0] - a[0])[0]![1];
  const name = (k: number) => dataset.classNames[k] ?? String(k);
  return {
    caption: `${split === 'test' ? 'Test' : 'Validation'} image #${at} (a ${name(trueLabel)} that looks a little like a ${name(runnerUp)}): the teacher's probabilities at T = ${temperatures.join(' and T = ')}. At T = 1 the wrong classes get almost nothing; at a high temperature their relative sizes, the dark knowledge, become visible.`,
    label: trueLabel,
    classNames: Array.from({ length: numClasses }, (_, k) => name(k)),
    image: dataset[split].images.slice(at * px, (at + 1) * px),
    imageShape: [h, w, c],
    temperatures: temperatures.map((t) => ({ temperature: t, probs: softmaxRow(row, t) })),
  };
}
