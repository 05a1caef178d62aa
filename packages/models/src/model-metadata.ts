import type * as tfl from '@tensorflow/tfjs-layers';

/** The key under which distilljs keeps its metadata in a model's `userDefinedMetadata`. */
export const METADATA_KEY = 'distilljs';

/** What distilljs records about a model (in memory and in model.json's `userDefinedMetadata.distilljs`). */
export interface DistillModelMetadata {
  /** The zoo name the model was built from, if any. */
  zooName?: string;
  /** The options it was built with (input shape, classes, model-specific options, seed). */
  config?: Record<string, unknown>;
  /** Default layer names for {@link withFeatureTaps}. */
  featureTaps?: string[];
  /** Model file format version (present in saved files). */
  formatVersion?: number;
  /** Hex sha256 of the weight bytes, in manifest order (present in saved files). */
  weightsSha256?: string;
  /** What prediction applies to a new input (image size, scaling, normalisation, class names). */
  preprocessing?: Record<string, unknown>;
}

/** Reads the distilljs metadata of a model (empty when the model was not made by distilljs). */
export function getModelMetadata(model: tfl.LayersModel): DistillModelMetadata {
  const all = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
  const m = all?.[METADATA_KEY];
  return m && typeof m === 'object' ? { ...(m as DistillModelMetadata) } : {};
}

/** Replaces the distilljs metadata of a model, keeping any other user-defined metadata. */
export function setModelMetadata(model: tfl.LayersModel, metadata: DistillModelMetadata): void {
  const all = (model.getUserDefinedMetadata() as Record<string, unknown> | undefined) ?? {};
  model.setUserDefinedMetadata({ ...all, [METADATA_KEY]: JSON.parse(JSON.stringify(metadata)) });
}
