import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerSeeds } from './layer-seeds.js';

/** What every zoo builder receives: validated shape, class count, seeds, and its own options. */
export interface BuildContext {
  /** The zoo name, also the model's name. */
  readonly name: string;
  /** Input shape without the batch dimension, e.g. `[28, 28, 1]`. */
  readonly inputShape: readonly number[];
  /** Number of output logits. */
  readonly numClasses: number;
  /** Per-layer seeds derived from the model seed. */
  readonly seeds: LayerSeeds;
  /** Model-specific options, already validated by the registry. */
  readonly options: Readonly<Record<string, unknown>>;
}

/** A built zoo model and the names of its default feature-tap layers. */
export interface BuiltModel {
  readonly model: tfl.LayersModel;
  readonly featureTaps: readonly string[];
}
