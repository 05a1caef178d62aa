import type { LayersModel } from '@tensorflow/tfjs-layers';

/** What `distill export` saves in model.json (`userDefinedMetadata.distilljs.preprocessing`) for images. */
export interface ExportedPreprocessing {
  readonly image: {
    readonly height: number;
    readonly width: number;
    readonly channels: 1 | 3;
    readonly resize: 'stretch' | 'centre-crop' | 'pad';
  };
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly classNames: readonly string[];
}

/**
 * The preprocessing an exported model carries, or `undefined` for a model saved without it (then the page's
 * dataset says what the inputs are). A table model (kind `table`/`npy`) is refused: the page predicts images.
 */
export function exportedPreprocessing(model: LayersModel): ExportedPreprocessing | undefined {
  const meta = model.getUserDefinedMetadata() as
    | { distilljs?: { preprocessing?: { kind?: string } & Partial<ExportedPreprocessing> } }
    | undefined;
  const p = meta?.distilljs?.preprocessing;
  if (!p) return undefined;
  if (!p.image || !Array.isArray(p.classNames)) {
    throw new Error(
      `this model was exported for ${p.kind ?? 'other'} inputs, not images; predict on its rows with \`distill predict\``,
    );
  }
  return p as ExportedPreprocessing;
}

/** Decoded bytes (HWC) to the model's float input: scaled by 1/255, then normalised per channel if saved. */
export function modelInput(bytes: Uint8Array, p: ExportedPreprocessing): Float32Array {
  const c = p.image.channels;
  return Float32Array.from(bytes, (b, i) => {
    const v = b / 255;
    const k = i % c;
    return p.normalize ? (v - (p.normalize.mean[k] as number)) / (p.normalize.std[k] as number) : v;
  });
}

/** The `k` most probable classes, most probable first. */
export function topClasses(
  probabilities: readonly number[],
  classNames: readonly string[],
  k = 3,
): { className: string; probability: number }[] {
  return probabilities
    .map((probability, i) => ({ className: classNames[i] ?? String(i), probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, k);
}
