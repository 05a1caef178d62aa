import { Rng } from '@distilljs/core';
import * as tfl from '@tensorflow/tfjs-layers';

type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/**
 * Derives one initializer seed per layer from a model seed with the core {@link Rng}, so the same model
 * seed gives identical weights on every backend (tfjs draws seeded initial values in tfjs-core, not in the
 * backend). Without a seed, layers get tfjs's usual unseeded initializers.
 *
 * Dropout layers are deliberately not seeded: tfjs's `dropout(x, rate, noiseShape, seed)` draws its mask
 * from a generator re-seeded on every call, so a seeded Dropout layer would drop the same units at every
 * training step.
 */
export class LayerSeeds {
  private readonly rng: Rng | undefined;
  private readonly zeros: boolean;

  /** `zeros: true` makes every initializer zeros: for counting parameters without drawing random numbers. */
  constructor(seed: number | undefined, options: { zeros?: boolean } = {}) {
    this.rng = seed === undefined ? undefined : new Rng(seed);
    this.zeros = options.zeros ?? false;
  }

  /** The next derived seed, or `undefined` when the model is unseeded. */
  next(): number | undefined {
    return this.rng?.nextUint32();
  }

  /** Glorot (Xavier) uniform, the Keras default for dense kernels. */
  glorotUniform(): Initializer {
    const seed = this.next();
    if (this.zeros) return tfl.initializers.zeros();
    return tfl.initializers.glorotUniform(seed === undefined ? {} : { seed });
  }

  /** He (Kaiming) normal, as He et al. and most CIFAR CNNs initialise convolutions. */
  heNormal(): Initializer {
    const seed = this.next();
    if (this.zeros) return tfl.initializers.zeros();
    return tfl.initializers.heNormal(seed === undefined ? {} : { seed });
  }
}
