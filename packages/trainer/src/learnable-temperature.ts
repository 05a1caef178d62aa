import { ConfigError, describeValue } from '@distilljs/core';
import { ctkdLambda, gradientReversal, stopGradient } from '@distilljs/losses';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/**
 * CTKD (Li et al., "Curriculum Temperature for Knowledge Distillation", AAAI 2023): the distillation
 * temperature is learned, through a gradient-reversal layer, so it *raises* the distillation loss while
 * the student lowers it; the reversal weight lambda follows a cosine curriculum from 0 to `lambdaMax`
 * over `loops` epochs. `T = tStart + tEnd * sigmoid(raw)`, as in the paper's code.
 */
export interface CtkdOptions {
  /** One temperature per example, predicted from the logits by a small MLP; default false (one global T). */
  readonly perExample?: boolean;
  /** Lowest temperature; default 1. */
  readonly tStart?: number;
  /** Range of the temperature above `tStart`; default 20 (T in (1, 21)). */
  readonly tEnd?: number;
  /** Epochs over which lambda rises from 0 to `lambdaMax`; default 10. */
  readonly loops?: number;
  /** Final reversal weight; default 1. */
  readonly lambdaMax?: number;
}

/** @internal The temperature module: its weights train with the student's. */
export interface TemperatureModule {
  readonly model: tfl.LayersModel;
  /** The temperature for this batch (scalar, or `[batch, 1]`), behind the reversal at `epoch`'s lambda. */
  temperature(student: tf.Tensor, teacher: tf.Tensor, epoch: number): tf.Tensor;
  /** Frees the module's weights. */
  dispose(): void;
}

function check(field: string, value: unknown, ok: boolean, expected: string): void {
  if (!ok) {
    throw new ConfigError(
      `distill: option 'ctkd.${field}' must be ${expected}, got ${describeValue(value)}`,
      {
        where: `distill(options.ctkd.${field})`,
      },
    );
  }
}

/** @internal Checks the options and builds the module (global scalar, or a 2C -> C -> 1 MLP). */
export function createTemperatureModule(
  options: CtkdOptions,
  classes: number,
  seed: number,
): TemperatureModule {
  const { perExample = false, tStart = 1, tEnd = 20, loops = 10, lambdaMax = 1 } = options;
  check('perExample', perExample, typeof perExample === 'boolean', 'true or false');
  check('tStart', tStart, Number.isFinite(tStart) && tStart > 0, 'a finite number > 0');
  check('tEnd', tEnd, Number.isFinite(tEnd) && tEnd > 0, 'a finite number > 0');
  check('loops', loops, Number.isInteger(loops) && loops >= 1, 'an integer >= 1');
  check('lambdaMax', lambdaMax, Number.isFinite(lambdaMax) && lambdaMax >= 0, 'a finite number >= 0');
  const model = perExample ? mlp(classes, seed) : scalar();
  const one = tf.ones([1, 1]);
  return {
    model,
    temperature(student, teacher, epoch) {
      const lambda = ctkdLambda(epoch, { loops, max: lambdaMax });
      const input = perExample ? tf.concat([stopGradient(student), stopGradient(teacher)], 1) : one;
      const raw = model.apply(input) as tf.Tensor;
      const t = tf.add(tf.mul(tf.sigmoid(gradientReversal(raw, lambda)), tEnd), tStart);
      return perExample ? t : tf.reshape(t, []);
    },
    dispose() {
      one.dispose();
      model.dispose();
    },
  };
}

/** One learnable number (the paper's `global_T`, initialised to 1): a bias-free unit on a constant 1. */
function scalar(): tfl.LayersModel {
  return tfl.sequential({
    name: 'ctkd_global_temperature',
    layers: [tfl.layers.dense({ units: 1, useBias: false, inputShape: [1], kernelInitializer: 'ones' })],
  });
}

/** Per-example temperatures from the (detached) student and teacher logits. */
function mlp(classes: number, seed: number): tfl.LayersModel {
  return tfl.sequential({
    name: 'ctkd_instance_temperature',
    layers: [
      tfl.layers.dense({
        units: classes,
        inputShape: [2 * classes],
        kernelInitializer: tfl.initializers.glorotUniform({ seed }),
      }),
      tfl.layers.leakyReLU({ alpha: 0.2 }),
      tfl.layers.dense({
        units: 1,
        kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }),
        biasInitializer: 'ones',
      }),
    ],
  });
}
