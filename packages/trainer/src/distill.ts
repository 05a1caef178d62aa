import {
  type Batch,
  type BatchStream,
  ConfigError,
  describeValue,
  InvalidArgumentError,
  invalidArgument,
  isTeacher,
  openChecksum,
  sealChecksum,
  sha256Hex,
  type Teacher,
} from '@distilljs/core';
import {
  crossEntropy,
  ensembleSoftTargets,
  type FeatureLossDescriptor,
  getLoss,
  type LogitsLossDescriptor,
  type LogitsLossInput,
  type LossDescriptor,
  MLKD_TEMPERATURES,
} from '@distilljs/losses';
import { layersTeacher } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { CheckpointStore } from './checkpoint-store.js';
import { forwardAll, forwardLogits, modelNumClasses } from './forward.js';
import type { History } from './history.js';
import { LabelledCursor } from './labelled-cursor.js';
import {
  type CtkdOptions,
  createTemperatureModule,
  type TemperatureModule,
} from './learnable-temperature.js';
import { loadFileCheckpointStore } from './load-node-store.js';
import { checkSameExamples, strongViewTerms } from './strong-view.js';
import { fillTeacherCache, type TeacherCacheOptions, TeacherOutputCache } from './teacher-cache.js';
import type { TrainOptions } from './train-options.js';
import { runTraining, type TrainEngine } from './training-loop.js';
import { checkDataFitsModel, checkLogitsHead, checkModel, checkStream } from './validate.js';

/** A loss by registry name (`'kd'`, `'dkd'`, `'logit-matching'`, ...) or a descriptor of @distilljs/losses. */
export type LossSpec = string | LogitsLossDescriptor;

/**
 * A feature-based term (FitNets hints, attention transfer) added to the logits loss:
 * `loss = logitsLoss + weight * featureLoss(pairs)`. Student and teacher must be feature-tap models
 * (outputs `[logits, ...features]`, e.g. from `withFeatureTaps` of @distilljs/models); output `j + 1` of
 * the student is paired with output `j + 1` of the teacher.
 */
export interface FeatureLossOptions {
  /** `'hint'`, `'attention-transfer'` (aliases `fitnets`, `at`) or a descriptor. */
  readonly loss: string | FeatureLossDescriptor;
  /** Weight of the feature term; default 1. */
  readonly weight?: number;
  /**
   * Per-pair FitNets regressors mapping student features to the teacher's shape (hint only), e.g. a
   * 1x1 conv model. Their trainable weights are trained (and checkpointed) with the student's.
   */
  readonly regressors?: readonly (LayersModel | undefined)[];
  /** Attention-map exponent (attention transfer); default 2. */
  readonly p?: number;
  /** Attention-transfer weight; default 1. */
  readonly beta?: number;
}

/** Options of {@link distill}. */
export interface DistillOptions extends TrainOptions {
  /**
   * The teacher, run in evaluation mode, never trained: a tfjs Layers model (a softmax head is turned
   * into log-probabilities, with a note) or any {@link Teacher} of @distilljs/core (an ONNX or graph
   * model, precomputed logits files).
   */
  readonly teacher?: LayersModel | Teacher;
  /** Several teachers: targets are their (weighted) average probabilities at `temperature`. */
  readonly teachers?: readonly (LayersModel | Teacher)[];
  /** One weight >= 0 per teacher (normalised); default equal. */
  readonly teacherWeights?: readonly number[];
  /** The model that learns. Only its trainable weights receive gradients. */
  readonly student: LayersModel;
  /** The transfer set; labels of -1 mark unlabelled examples, which get the soft term alone. */
  readonly data: BatchStream;
  /**
   * A separate labelled set for the hard term. When given, every step takes one batch of the transfer set
   * for the soft term and the next batch of `labelled` (cycling through its epochs) for the hard term:
   * `loss = alpha * soft(transfer) + (1 - alpha) * CE(labelled)`; the transfer set's own labels are then
   * not used.
   */
  readonly labelled?: BatchStream;
  /** Default `'kd'` (Hinton: `alpha * T^2 KL + (1 - alpha) CE`). */
  readonly loss?: LossSpec;
  /** Softmax temperature T > 0; default 4. */
  readonly temperature?: number;
  /** Weight of the soft term in [0, 1]; default 0.9. */
  readonly alpha?: number;
  /** Label smoothing of the hard term; default 0. */
  readonly labelSmoothing?: number;
  /** DKD's TCKD and NCKD weights (defaults 1 and 8). */
  readonly dkdAlpha?: number;
  readonly dkdBeta?: number;
  /** DIST's inter- and intra-class weights (defaults 1 and 1). */
  readonly distBeta?: number;
  readonly distGamma?: number;
  /** NKD's non-target weight (default 1.5). */
  readonly nkdGamma?: number;
  /** MLKD's temperatures (default 2, 3, 4, 5, 6) and confidence masking (default true). */
  readonly mlkdTemperatures?: readonly number[];
  readonly mlkdMask?: boolean;
  /** Logit standardisation (Sun et al. 2024) for 'kd', 'dkd' and 'mlkd'. */
  readonly logitStandardization?: boolean;
  /**
   * CTKD: learn the temperature (global, or per example) through a gradient-reversal layer with a
   * cosine curriculum for the reversal weight; with 'kd' or 'dkd'. `temperature` is then unused, and
   * the learned temperature (batch mean) is logged as `temperature` in every batch's and epoch's logs.
   */
  readonly ctkd?: CtkdOptions;
  /**
   * MLKD's weak/strong augmentation pairing (with loss 'mlkd'): the same examples as `data`, in the same
   * order (same data, seed, batch size and shuffling), under a stronger augmentation. Each step adds the
   * strong view's instance KD at every MLKD temperature to the soft term and its cross-entropy to the
   * hard term; the teacher runs on every strong batch.
   */
  readonly strongView?: BatchStream;
  /** An added feature-based term. */
  readonly featureLoss?: FeatureLossOptions;
  /** Teacher-output cache; default `{ mode: 'auto' }`. */
  readonly teacherCache?: TeacherCacheOptions;
}

interface Prepared {
  targets: tf.Tensor2D;
  features: tf.Tensor[];
  labelled?: Batch;
  /** The epoch of this step (CTKD's curriculum). */
  epoch?: number;
  /** MLKD's strong view of the batch and the teacher's logits on it. */
  strong?: { batch: Batch; targets: tf.Tensor2D };
}

function resolveLogitsLoss(spec: LossSpec | undefined): LogitsLossDescriptor {
  if (spec !== undefined && typeof spec === 'object') {
    if (spec.kind !== 'logits' || typeof spec.compute !== 'function') {
      throw new ConfigError(
        "distill: option 'loss' must be a logits loss descriptor ({ kind: 'logits', compute })",
        {
          where: 'distill(options.loss)',
        },
      );
    }
    return spec;
  }
  let d: LossDescriptor;
  try {
    d = getLoss(spec ?? 'kd');
  } catch (err) {
    throw new ConfigError(`distill: option 'loss' is not a known loss: ${(err as Error).message}`, {
      where: 'distill(options.loss)',
      cause: err,
    });
  }
  if (d.kind !== 'logits') {
    throw new ConfigError(
      `distill: '${d.name}' is a feature loss; pass it as featureLoss: { loss: '${d.name}' } next to a logits loss such as 'kd' (feature-tap models needed)`,
      { where: 'distill(options.loss)' },
    );
  }
  return d;
}

function resolveFeatureLoss(spec: FeatureLossOptions['loss']): FeatureLossDescriptor {
  if (typeof spec === 'object' && spec !== null) return spec;
  let d: LossDescriptor;
  try {
    d = getLoss(spec);
  } catch (err) {
    throw new ConfigError(
      `distill: option 'featureLoss.loss' is not a known loss: ${(err as Error).message}`,
      {
        where: 'distill(options.featureLoss.loss)',
        cause: err,
      },
    );
  }
  if (d.kind !== 'features') {
    throw new ConfigError(
      `distill: option 'featureLoss.loss' must be a feature loss ('hint', 'attention-transfer'), got '${d.name}'`,
      {
        where: 'distill(options.featureLoss.loss)',
      },
    );
  }
  return d;
}

/** @internal Teacher-ensemble targets for a batch, as logits whose softmax at T is the target. */
async function teacherTargets(
  teachers: readonly Teacher[],
  weights: readonly number[] | undefined,
  temperature: number,
  batch: Batch,
  featureModel: LayersModel | undefined,
): Promise<Prepared> {
  if (featureModel) {
    return tf.tidy(() => {
      const outs = forwardAll(featureModel, batch.xs, false);
      return { targets: outs[0] as tf.Tensor2D, features: outs.slice(1) };
    });
  }
  const logits: tf.Tensor2D[] = [];
  try {
    for (const t of teachers) logits.push(await t.logits(batch));
  } catch (err) {
    tf.dispose(logits);
    throw err;
  }
  if (logits.length === 1) return { targets: logits[0]!, features: [] };
  const targets = tf.tidy(() => {
    const probs = ensembleSoftTargets(
      logits,
      weights === undefined ? { temperature } : { temperature, weights },
    );
    // softmax(T * log(p) / T) = p, so every logits loss sees the ensemble's probabilities at T.
    return tf.mul(tf.log(tf.maximum(probs, 1e-30)), temperature) as tf.Tensor2D;
  });
  tf.dispose(logits);
  return { targets, features: [] };
}

/** @internal Checks a {@link Teacher} against the student's class count and the data. */
async function checkTeacher(
  fn: string,
  arg: string,
  t: Teacher,
  data: BatchStream,
  classes: number,
): Promise<void> {
  const where = { where: `${fn}(${arg})` };
  if (t.numClasses !== classes) {
    throw new InvalidArgumentError(
      `${fn}: '${arg}' (${t.name}) outputs ${t.numClasses} classes but 'student' outputs ${classes}; teacher and student must have the same class count`,
      where,
    );
  }
  const want = t.inputShape;
  const got = data.inputShape;
  if (want && !(want.length === got.length && want.every((d, i) => d === null || d === got[i]))) {
    const fmt = (s: readonly (number | null)[]) => `[${s.map((d) => d ?? '?').join(', ')}]`;
    throw new InvalidArgumentError(
      `${fn}: '${arg}' (${t.name}) takes examples of shape ${fmt(want)} but the data gives ${fmt(got)}`,
      where,
    );
  }
  await t.checkData?.(data);
}

/**
 * Knowledge distillation: trains `student` on the teacher's (or teachers') outputs over the transfer
 * set `data`, with any logits loss of @distilljs/losses (Hinton KD by default) plus optional feature
 * terms, and the optimiser, schedule, callbacks, checkpoints and early stopping of {@link TrainOptions}.
 *
 * - Only the student learns: gradients are taken with `tf.variableGrads` over the student's trainable
 *   weights (and feature regressors) alone; teachers run in evaluation mode outside the gradient.
 * - Unlabelled examples (label -1) contribute the soft term alone.
 * - Teacher-output cache: when `data.augmented` is false the teacher logits are computed once (batched,
 *   evaluation mode) and reused every epoch; with augmentation the teacher runs on every batch. The
 *   choice is reported in `History.notes`, `TrainBeginInfo.notes` and `onMessage`.
 * - Every argument is validated before any training: class counts of teacher(s) and student, data shape,
 *   temperature, alpha, loss and optimiser names, a resume checkpoint of another model.
 */
export async function distill(options: DistillOptions): Promise<History> {
  const fn = 'distill';
  if (!options || typeof options !== 'object') invalidArgument(fn, 'options', 'an options object', options);
  const { student, data } = options;
  checkModel(fn, 'student', student);
  checkLogitsHead(fn, 'student', student);
  checkStream(fn, 'data', data);
  if (options.teacher !== undefined && options.teachers !== undefined) {
    throw new ConfigError("distill: pass either 'teacher' or 'teachers', not both", {
      where: 'distill(options.teachers)',
    });
  }
  const given = options.teachers ?? (options.teacher === undefined ? [] : [options.teacher]);
  if (!Array.isArray(given) || given.length === 0) {
    invalidArgument(
      fn,
      'teacher',
      "a tf.LayersModel or a Teacher (or 'teachers': a non-empty array of them)",
      options.teacher,
    );
  }
  const teachers = given.filter((t): t is LayersModel => !isTeacher(t));
  const studentClasses = checkDataFitsModel(fn, student, data, 'student');
  if (options.labelled !== undefined) {
    checkStream(fn, 'labelled', options.labelled);
    checkDataFitsModel(`${fn}(labelled)`, student, options.labelled, 'student');
  }
  for (const [k, t] of given.entries()) {
    const arg = given.length === 1 && options.teacher ? 'teacher' : `teachers[${k}]`;
    if (isTeacher(t)) {
      await checkTeacher(fn, arg, t, data, studentClasses);
      continue;
    }
    checkModel(fn, arg, t);
    if (t === student) {
      throw new InvalidArgumentError(
        `distill: '${arg}' and 'student' are the same model; the teacher must be a separate, frozen model`,
        {
          where: `distill(${arg})`,
        },
      );
    }
    const c = modelNumClasses(t);
    if (c !== studentClasses) {
      throw new InvalidArgumentError(
        `distill: '${arg}' outputs ${c} classes but 'student' outputs ${studentClasses}; teacher and student must have the same class count`,
        { where: `distill(${arg})` },
      );
    }
    checkDataFitsModel(fn, t, data, arg);
  }
  if (options.teacherWeights !== undefined) {
    const w = options.teacherWeights;
    if (
      !Array.isArray(w) ||
      w.length !== given.length ||
      !w.every((v) => Number.isFinite(v) && v >= 0) ||
      !w.some((v) => v > 0)
    ) {
      invalidArgument(fn, 'teacherWeights', `${given.length} numbers >= 0, not all 0 (one per teacher)`, w);
    }
  }
  const temperature = options.temperature ?? 4;
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature <= 0) {
    invalidArgument(fn, 'temperature', 'a finite number > 0', temperature);
  }
  // A teacher that depends on the temperature (top-k logits files) is read at this one; with CTKD (a learned
  // temperature) or MLKD (several) it is read as it comes (top-k files: at their first stored temperature).
  const fixedT = !options.ctkd && options.loss !== 'mlkd';
  const wrapped = given.map((t) =>
    isTeacher(t) ? (fixedT && t.atTemperature ? t.atTemperature(temperature) : t) : layersTeacher(t),
  );
  const alpha = options.alpha ?? 0.9;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
    invalidArgument(fn, 'alpha', 'a number in [0, 1]', alpha);
  }
  const lossFn = resolveLogitsLoss(options.loss);
  const lossOptions = pickLossOptions(options);
  const feature = options.featureLoss;
  const featureFn = feature ? resolveFeatureLoss(feature.loss) : undefined;
  const featureWeight = feature?.weight ?? 1;
  if (feature && !(Number.isFinite(featureWeight) && featureWeight >= 0)) {
    invalidArgument(fn, 'featureLoss.weight', 'a finite number >= 0', featureWeight);
  }
  if (featureFn) {
    const ns = student.outputs.length - 1;
    const nt = teachers.length === 1 ? teachers[0]!.outputs.length - 1 : 0;
    if (ns < 1 || ns !== nt || given.length !== 1) {
      throw new InvalidArgumentError(
        `distill: a feature loss needs one tfjs Layers teacher and feature-tap models with the same number of feature outputs (withFeatureTaps of @distilljs/models); got student ${ns}, teacher ${nt} feature outputs, ${given.length} teacher(s)`,
        { where: 'distill(featureLoss)' },
      );
    }
  }
  const regressors = feature?.regressors ?? [];
  const strongCursor = checkStrongView(fn, options, lossFn, student, data);
  if (strongCursor && wrapped.some((t) => t.inputShape === null)) {
    throw new ConfigError(
      "distill: option 'strongView' needs teachers that read the inputs (the strong view is a new augmentation); a teacher of precomputed logits cannot score it",
      { where: 'distill(options.strongView)' },
    );
  }
  const temperatureModule = options.ctkd
    ? createCtkdModule(options.ctkd, lossFn, studentClasses as number, options.seed ?? 0)
    : undefined;
  const extraModels = [
    ...regressors.filter((r): r is LayersModel => r !== undefined),
    ...(temperatureModule ? [temperatureModule.model] : []),
  ];
  const extraWeights = extraModels.flatMap((m) => m.weights);

  const cacheOpts = options.teacherCache ?? {};
  const mode = cacheOpts.mode ?? 'auto';
  if (!['auto', 'on', 'off'].includes(mode)) {
    throw new ConfigError(
      `distill: 'teacherCache.mode' must be 'auto', 'on' or 'off', got ${describeValue(mode)}`,
      {
        where: 'distill(options.teacherCache.mode)',
      },
    );
  }
  if (mode === 'on' && (data.augmented || featureFn)) {
    throw new ConfigError(
      `distill: teacherCache.mode 'on' is impossible: ${data.augmented ? 'the transfer set is randomly augmented, so each batch needs fresh teacher outputs' : 'feature losses need the teacher features of every batch'}`,
      { where: 'distill(options.teacherCache.mode)' },
    );
  }
  const useCache = mode !== 'off' && !data.augmented && !featureFn;
  let cache: TeacherOutputCache | undefined;
  const cursor = options.labelled ? new LabelledCursor(options.labelled) : undefined;

  const engine: TrainEngine<Prepared> = {
    kind: 'distill',
    fn,
    student,
    extraWeights,
    extraModels,
    async setup(notes, message) {
      for (const t of wrapped) notes.push(...t.notes);
      if (!useCache) {
        const why =
          mode === 'off'
            ? "teacherCache.mode is 'off'"
            : data.augmented
              ? 'the transfer set is randomly augmented, so the teacher runs on every augmented batch'
              : 'a feature loss needs the teacher features of every batch';
        notes.push(`teacher-output cache: off (${why})`);
        return;
      }
      const t0 = performance.now();
      let store: CheckpointStore | undefined = cacheOpts.store;
      if (!store && cacheOpts.dir) {
        store = await loadFileCheckpointStore(cacheOpts.dir);
      }
      let name: string | undefined;
      if (store) {
        const chunks: Uint8Array[] = [
          new TextEncoder().encode(
            JSON.stringify({
              data: (data as { dataFingerprint?: string }).dataFingerprint ?? data.fingerprint,
              teachers: given.length,
              weights: options.teacherWeights ?? null,
              temperature: given.length > 1 ? temperature : null,
            }),
          ),
        ];
        for (const t of given) {
          if (isTeacher(t)) {
            chunks.push(new TextEncoder().encode(`${t.kind}:${await t.fingerprint()}`));
            continue;
          }
          for (const w of t.weights) {
            const v = (await w.read().data()) as Float32Array;
            chunks.push(
              new TextEncoder().encode(w.shape.join('x')),
              new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
            );
          }
        }
        name = `teacher-${(await sha256Hex(chunks)).slice(0, 32)}.djscache`;
        const bytes = await store.read(name);
        if (bytes) {
          const where = `${store.location}/${name}`;
          cache = TeacherOutputCache.decode(await openChecksum(bytes, where), where, studentClasses);
          notes.push(
            `teacher-output cache: on (transfer set not augmented); ${cache.size} outputs loaded from ${store.location}/${name}`,
          );
          return;
        }
      }
      cache = await fillTeacherCache(
        data,
        studentClasses,
        async (batch) =>
          (await teacherTargets(wrapped, options.teacherWeights, temperature, batch, undefined)).targets,
      );
      const secs = ((performance.now() - t0) / 1000).toFixed(2);
      let note = `teacher-output cache: on (transfer set not augmented); ${cache.size} teacher outputs computed once in evaluation mode in ${secs} s (${(cache.bytes / 1024).toFixed(0)} KiB)`;
      if (store && name) {
        await store.write(name, await sealChecksum(cache.encode()));
        note += `, saved to ${store.location}/${name}`;
      }
      notes.push(note);
      await message(note).catch(() => undefined);
    },
    async prepare(batch: Batch, step: number): Promise<Prepared> {
      let p: Prepared | undefined;
      if (cache) {
        const hit = cache.get(batch.indices);
        if (hit) {
          p = { targets: hit, features: [] };
        } else {
          // An example the first pass did not see (e.g. a dropped last batch): fill it now.
          p = await teacherTargets(wrapped, options.teacherWeights, temperature, batch, undefined);
          cache.put(batch.indices, (await p.targets.data()) as Float32Array);
        }
      } else {
        const featureModel = featureFn ? teachers[0] : undefined;
        p = await teacherTargets(wrapped, options.teacherWeights, temperature, batch, featureModel);
      }
      p.epoch = Math.floor(step / data.batchesPerEpoch);
      try {
        if (cursor) p.labelled = await cursor.at(step);
        if (strongCursor) {
          const strong = await strongCursor.at(step);
          p.strong = { batch: strong, targets: tf.zeros([0, 0]) as tf.Tensor2D };
          checkSameExamples(batch, strong, step);
          p.strong.targets.dispose();
          p.strong.targets = (
            await teacherTargets(wrapped, options.teacherWeights, temperature, strong, undefined)
          ).targets;
        }
      } catch (err) {
        tf.dispose([p.targets, ...p.features]);
        p.labelled?.xs.dispose();
        p.strong?.batch.xs.dispose();
        throw err;
      }
      return p;
    },
    loss(batch, prepared) {
      const outs = forwardAll(student, batch.xs, true);
      const logits = outs[0] as tf.Tensor2D;
      const learned = temperatureModule?.temperature(logits, prepared.targets, prepared.epoch ?? 0);
      const parts = lossFn.compute({
        studentLogits: logits,
        teacherLogits: prepared.targets,
        labels: prepared.labelled ? new Int32Array(batch.labels.length).fill(-1) : batch.labels,
        temperature,
        alpha,
        ...(options.labelSmoothing === undefined ? {} : { labelSmoothing: options.labelSmoothing }),
        ...(options.dkdAlpha === undefined ? {} : { dkdAlpha: options.dkdAlpha }),
        ...(options.dkdBeta === undefined ? {} : { dkdBeta: options.dkdBeta }),
        ...lossOptions,
        ...(learned ? { temperatureTensor: learned } : {}),
      });
      const extra = learned ? { temperature: tf.mean(learned) as tf.Scalar } : undefined;
      if (prepared.strong) {
        const strong = strongViewTerms(student, prepared.strong.batch, prepared.strong.targets, {
          temperatures: options.mlkdTemperatures ?? MLKD_TEMPERATURES,
          logitStandardization: options.logitStandardization ?? false,
          ...(options.labelSmoothing === undefined ? {} : { labelSmoothing: options.labelSmoothing }),
        });
        parts.loss = tf.add(
          parts.loss,
          tf.add(tf.mul(strong.soft, alpha), tf.mul(strong.hard, 1 - alpha)),
        ) as tf.Scalar;
        parts.soft = tf.add(parts.soft, strong.soft) as tf.Scalar;
        parts.hard = tf.add(parts.hard, strong.hard) as tf.Scalar;
      }
      if (prepared.labelled) {
        // The hard term from the labelled stream; the descriptor's loss is alpha * soft here (no labels).
        const hard = crossEntropy(
          forwardLogits(student, prepared.labelled.xs, true) as tf.Tensor2D,
          prepared.labelled.labels,
          {
            ignoreIndex: -1,
            ...(options.labelSmoothing === undefined ? {} : { labelSmoothing: options.labelSmoothing }),
          },
        );
        parts.loss = tf.add(parts.loss, tf.mul(hard, 1 - alpha)) as tf.Scalar;
        parts.hard = hard;
      }
      if (!featureFn) return { ...parts, logits, ...(extra ? { extra } : {}) };
      const pairs = outs.slice(1).map((s, j) => [s, prepared.features[j]!] as const);
      const featureTerm = featureFn.compute({
        pairs,
        regressors: regressors.map((r) => (r ? (x: tf.Tensor) => r.apply(x) as tf.Tensor : undefined)),
        ...(feature?.p === undefined ? {} : { p: feature.p }),
        ...(feature?.beta === undefined ? {} : { beta: feature.beta }),
      });
      return {
        loss: tf.add(parts.loss, tf.mul(featureTerm, featureWeight)) as tf.Scalar,
        soft: parts.soft,
        hard: parts.hard,
        logits,
      };
    },
    disposePrepared(p) {
      tf.dispose([p.targets, ...p.features]);
      p.labelled?.xs.dispose();
      if (p.strong) tf.dispose([p.strong.batch.xs, p.strong.targets]);
    },
    teardown() {
      cursor?.close();
      strongCursor?.close();
      temperatureModule?.dispose();
    },
  };
  return runTraining(engine, data, options, []);
}

/** @internal The loss-specific options of {@link DistillOptions} that the loss descriptors read. */
function pickLossOptions(options: DistillOptions): Partial<LogitsLossInput> {
  const keys = [
    'distBeta',
    'distGamma',
    'nkdGamma',
    'mlkdTemperatures',
    'mlkdMask',
    'logitStandardization',
  ] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (options[k] !== undefined) out[k] = options[k];
  return out as Partial<LogitsLossInput>;
}

/** @internal CTKD's temperature module, for 'kd' and 'dkd' only. */
function createCtkdModule(
  ctkd: CtkdOptions,
  lossFn: LogitsLossDescriptor,
  classes: number,
  seed: number,
): TemperatureModule & { dispose(): void } {
  if (typeof ctkd !== 'object' || ctkd === null)
    invalidArgument('distill', 'ctkd', 'an options object', ctkd);
  if (lossFn.name !== 'kd' && lossFn.name !== 'dkd') {
    throw new ConfigError(
      `distill: option 'ctkd' (a learnable temperature) works with loss 'kd' or 'dkd', not '${lossFn.name}'`,
      { where: 'distill(options.ctkd)' },
    );
  }
  return createTemperatureModule(ctkd, classes, seed);
}

/** @internal Checks MLKD's strong view and returns a cursor over it (or undefined without one). */
function checkStrongView(
  fn: string,
  options: DistillOptions,
  lossFn: LogitsLossDescriptor,
  student: LayersModel,
  data: BatchStream,
): LabelledCursor | undefined {
  const strong = options.strongView;
  if (strong === undefined) return undefined;
  checkStream(fn, 'strongView', strong);
  checkDataFitsModel(`${fn}(strongView)`, student, strong, 'student');
  if (lossFn.name !== 'mlkd') {
    throw new ConfigError(
      `distill: option 'strongView' (MLKD's weak/strong pairing) works with loss 'mlkd', not '${lossFn.name}'`,
      { where: 'distill(options.strongView)' },
    );
  }
  if (strong.batchesPerEpoch !== data.batchesPerEpoch || strong.size !== data.size) {
    throw new ConfigError(
      `distill: 'strongView' has ${strong.size} examples in ${strong.batchesPerEpoch} batches but 'data' has ${data.size} in ${data.batchesPerEpoch}; build both from the same data, seed, batch size and shuffling`,
      { where: 'distill(options.strongView)' },
    );
  }
  return new LabelledCursor(strong);
}
