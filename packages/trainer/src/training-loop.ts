import {
  type Batch,
  type BatchStream,
  ConfigError,
  describeValue,
  dispatch,
  InvalidFileError,
  type Logs,
  openChecksum,
  Rng,
  sealChecksum,
  type TrainingCallbacks,
} from '@distilljs/core';
import { applyWeightConstraints } from '@distilljs/models';
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  CHECKPOINT_VERSION,
  type Checkpoint,
  type CheckpointMeta,
  checkpointName,
  decodeCheckpoint,
  encodeCheckpoint,
  isCheckpointName,
} from './checkpoint.js';
import type { CheckpointStore } from './checkpoint-store.js';
import { clipByGlobalNorm } from './clip.js';
import { DivergenceGuard, type DivergenceReason, TrainingDivergedError } from './divergence.js';
import { MetricMonitor } from './early-stopping.js';
import { evaluate } from './evaluate.js';
import { type History, type HistoryEpoch, historyColumns } from './history.js';
import { loadFileCheckpointStore } from './load-node-store.js';
import { createOptimizer } from './optimizer.js';
import { createSchedule } from './schedule.js';
import type { TrainOptions } from './train-options.js';
import { checkDataFitsModel } from './validate.js';

/** @internal The tensors one training step's loss function returns. */
export interface StepLoss {
  loss: tf.Scalar;
  soft?: tf.Scalar;
  hard?: tf.Scalar;
  /** `[batch, classes]` student logits, for the batch accuracy. */
  logits: tf.Tensor;
  /** More scalars to log (e.g. CTKD's learned temperature): per batch, and averaged per epoch. */
  extra?: Record<string, tf.Scalar>;
}

/** @internal What differs between fit and distill. */
export interface TrainEngine<P> {
  readonly kind: 'fit' | 'distill';
  readonly fn: string;
  readonly student: LayersModel;
  /** Extra weights (e.g. a hint regressor's) trained and checkpointed with the student's. */
  readonly extraWeights?: readonly LayerWeight[];
  /** Models owning `extraWeights` (their weight constraints are applied after each update). */
  readonly extraModels?: readonly LayersModel[];
  /** Runs after all validation, before the first step (e.g. fills the teacher-output cache). */
  setup?(notes: string[], message: (m: string) => Promise<void>): Promise<void>;
  /** Tensors computed outside the gradient for one batch (teacher outputs); disposed after the step. */
  prepare?(batch: Batch, step: number): P | Promise<P>;
  /** The loss inside the gradient. */
  loss(batch: Batch, prepared: P): StepLoss;
  disposePrepared?(prepared: P): void;
  /** Releases what setup allocated. */
  teardown?(): void;
  /** Extra fields of the run's config, for messages. */
}

/** @internal A tfjs-layers weight (LayerVariable). */
export type LayerWeight = LayersModel['weights'][number];

const NOISE_LAYER = /dropout|noise/i;

/** @internal Every layer of a model, nested models included. */
function allLayers(model: LayersModel): { getClassName(): string; seed?: number }[] {
  const out: { getClassName(): string; seed?: number }[] = [];
  const visit = (layers: readonly unknown[]) => {
    for (const l of layers as { getClassName(): string; layers?: unknown[] }[]) {
      out.push(l as { getClassName(): string; seed?: number });
      if (Array.isArray(l.layers)) visit(l.layers);
    }
  };
  visit(model.layers);
  return out;
}

function checkInteger(fn: string, field: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new ConfigError(`${fn}: option '${field}' must be an integer >= ${min}, got ${describeValue(v)}`, {
      where: `${fn}(options.${field})`,
    });
  }
}

/** @internal Resolves the checkpoint store (loading the Node file store on demand for `dir`). */
async function resolveStore(fn: string, options: TrainOptions): Promise<CheckpointStore | undefined> {
  const c = options.checkpoint;
  if (!c) {
    if (options.resume) {
      throw new ConfigError(`${fn}: 'resume' needs the 'checkpoint' option (a store to resume from)`, {
        where: `${fn}(options.resume)`,
      });
    }
    return undefined;
  }
  if (c.store) {
    const store = c.store as Partial<CheckpointStore>;
    if (
      typeof store.write === 'function' &&
      typeof store.read === 'function' &&
      typeof store.list === 'function'
    ) {
      return c.store;
    }
  } else if (typeof c.dir === 'string' && c.dir.length > 0) {
    // Loaded on demand so browser bundles never pull in node:fs.
    return loadFileCheckpointStore(c.dir);
  }
  throw new ConfigError(
    `${fn}: option 'checkpoint' needs a 'store' (a CheckpointStore such as new MemoryCheckpointStore()) or, in Node, a 'dir'`,
    { where: `${fn}(options.checkpoint)` },
  );
}

/** @internal Renames a bad checkpoint aside (never deletes it); returns the new name, if the store can rename. */
async function setAside(store: CheckpointStore, name: string): Promise<string | undefined> {
  if (!store.rename) return undefined;
  const taken = new Set(await store.list());
  let aside = `${name}.corrupt`;
  for (let i = 2; taken.has(aside); i++) aside = `${name}.corrupt-${i}`;
  await store.rename(name, aside);
  return aside;
}

/**
 * @internal The newest intact checkpoint of a store, decoded: a checkpoint whose sha256 or format does
 * not check out is renamed aside (`<name>.corrupt`) with a note, and the next older one is tried. When
 * checkpoints exist but none is intact, an {@link InvalidFileError} names them.
 */
async function latestCheckpoint(
  store: CheckpointStore,
  notes: string[],
): Promise<{ name: string; ckpt: Checkpoint } | undefined> {
  const names = (await store.list()).filter(isCheckpointName).sort().reverse();
  const bad: string[] = [];
  for (const name of names) {
    const where = `${store.location}/${name}`;
    const bytes = await store.read(name);
    if (!bytes) continue;
    try {
      return { name, ckpt: decodeCheckpoint(await openChecksum(bytes, where), where) };
    } catch (error) {
      if (!(error instanceof InvalidFileError)) throw error;
      const aside = await setAside(store, name);
      bad.push(where);
      notes.push(
        `not resuming from ${where}: it is not intact (${error.message.replace(`${where}: `, '')}); ${aside ? `renamed to ${aside}` : 'left in place'}, trying the next older one`,
      );
    }
  }
  if (bad.length > 0) {
    throw new InvalidFileError(
      `no intact checkpoint to resume from: ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} corrupt (kept, renamed to *.corrupt); resume again to train from the start`,
      { where: bad[0]! },
    );
  }
  return undefined;
}

/**
 * @internal The training loop shared by fit and distill: validation of everything before the first
 * step, optional resume, per-step gradients over the student's trainable variables only, clipping,
 * schedule, callbacks, checkpoints, NaN guard, validation, early stopping and the history.
 */
export async function runTraining<P>(
  engine: TrainEngine<P>,
  data: BatchStream,
  options: TrainOptions,
  notes: string[],
): Promise<History> {
  const fn = engine.fn;
  const student = engine.student;
  if (!options || typeof options !== 'object') {
    throw new ConfigError(`${fn}: options must be an object with at least { epochs }`, {
      where: `${fn}(options)`,
    });
  }
  checkInteger(fn, 'epochs', options.epochs, 1);
  const seed = options.seed ?? 0;
  if (!Number.isFinite(seed)) {
    throw new ConfigError(`${fn}: option 'seed' must be a finite number, got ${describeValue(seed)}`, {
      where: `${fn}(options.seed)`,
    });
  }
  if (
    options.clipGradNorm !== undefined &&
    !(options.clipGradNorm > 0 && Number.isFinite(options.clipGradNorm))
  ) {
    throw new ConfigError(
      `${fn}: option 'clipGradNorm' must be a finite number > 0, got ${describeValue(options.clipGradNorm)}`,
      {
        where: `${fn}(options.clipGradNorm)`,
      },
    );
  }
  if (options.yieldEvery !== undefined) checkInteger(fn, 'yieldEvery', options.yieldEvery, 1);
  if (options.checkpoint?.everySteps !== undefined)
    checkInteger(fn, 'checkpoint.everySteps', options.checkpoint.everySteps, 1);
  const keep = options.checkpoint?.keep ?? 2;
  checkInteger(fn, 'checkpoint.keep', keep, 1);
  checkDataFitsModel(fn, student, data, engine.kind === 'fit' ? 'model' : 'student');
  if (options.validation)
    checkDataFitsModel(
      `${fn}(validation)`,
      student,
      options.validation,
      engine.kind === 'fit' ? 'model' : 'student',
    );

  const optimizer = createOptimizer(options.optimizer ?? 'adam');
  const epochs = options.epochs;
  const stepsPerEpoch = data.batchesPerEpoch;
  checkInteger(fn, 'data.batchesPerEpoch', stepsPerEpoch, 1);
  const totalSteps = epochs * stepsPerEpoch;
  const schedule = createSchedule(options.schedule, optimizer.config.lr, totalSteps, stepsPerEpoch);
  const callbacks: TrainingCallbacks[] = options.callbacks
    ? Array.isArray(options.callbacks)
      ? [...(options.callbacks as TrainingCallbacks[])]
      : [options.callbacks as TrainingCallbacks]
    : [];
  const monitor = new MetricMonitor(
    options.earlyStopping ?? options.monitor,
    !!options.validation,
    !!options.earlyStopping,
  );
  const store = await resolveStore(fn, options);

  const extra = engine.extraWeights ?? [];
  const weights = [...student.weights, ...extra];
  const trainable = [...student.trainableWeights, ...extra.filter((w) => w.trainable)].map(
    (w) => w.read() as tf.Variable,
  );
  if (trainable.length === 0) {
    throw new ConfigError(
      `${fn}: the ${engine.kind === 'fit' ? 'model' : 'student'} has no trainable weights`,
      {
        where: `${fn}(${engine.kind === 'fit' ? 'model' : 'student'})`,
      },
    );
  }

  // Resume: everything about the checkpoint is checked before any training.
  let rng = new Rng(seed);
  let step = 0;
  let startEpoch = 0;
  let skip = 0;
  let epochSums: Record<string, number> = {};
  let records: HistoryEpoch[] = [];
  let elapsedBefore = 0;
  let restored: { name: string; ckpt: Checkpoint } | undefined;
  let firstLoss: number | undefined;
  if (options.resume && store) {
    restored = await latestCheckpoint(store, notes);
    if (restored) {
      const { meta } = restored.ckpt;
      const where = `${store.location}/${restored.name}`;
      const mismatch = (what: string): never => {
        throw new InvalidFileError(`${fn}: cannot resume from ${where}: ${what}`, { where });
      };
      if (meta.kind !== engine.kind) mismatch(`it was written by ${meta.kind}(), not ${engine.kind}()`);
      const shapes = weights.map((w) => w.shape.join('x')).join(',');
      const saved = meta.weights.map((w) => w.shape.join('x')).join(',');
      if (shapes !== saved) {
        mismatch(
          `it holds ${meta.weights.length} weights of shapes [${saved}] but this model has ${weights.length} of shapes [${shapes}] (a checkpoint of another model?)`,
        );
      }
      if (meta.stepsPerEpoch !== stepsPerEpoch) {
        mismatch(`it ran ${meta.stepsPerEpoch} steps per epoch, this data gives ${stepsPerEpoch}`);
      }
      if (meta.dataFingerprint !== data.fingerprint) {
        mismatch(
          `its data fingerprint '${meta.dataFingerprint}' differs from this data's '${data.fingerprint}'`,
        );
      }
      if (meta.optimizer.config.name !== optimizer.config.name) {
        mismatch(
          `its optimizer is '${meta.optimizer.config.name}', this run uses '${optimizer.config.name}'`,
        );
      }
      if (meta.seed !== seed) mismatch(`it used seed ${meta.seed}, this run uses ${seed}`);
      if (meta.step > totalSteps) mismatch(`it is at step ${meta.step}, past this run's ${totalSteps} steps`);
    }
  }

  await engine.setup?.(notes, (m) => dispatch(callbacks, 'onMessage', m));
  try {
    if (restored) {
      const { meta, weights: values, slots } = restored.ckpt;
      tf.tidy(() => {
        weights.forEach((w, i) => {
          w.write(tf.tensor(values[i]!, w.shape as number[], 'float32'));
        });
      });
      optimizer.setState(
        {
          config: meta.optimizer.config,
          iterations: meta.optimizer.iterations,
          slots: meta.optimizer.slots.map((s, i) => ({ ...s, values: slots[i]! })),
        },
        trainable,
      );
      rng = Rng.fromState(meta.rng);
      step = meta.step;
      startEpoch = meta.epoch;
      skip = meta.batchInEpoch;
      epochSums = { ...meta.epochSums };
      records = meta.history.map((r) => ({ ...r }));
      monitor.state = { ...meta.tracker };
      elapsedBefore = meta.elapsedSeconds;
      firstLoss = meta.firstLoss;
      const note = `resumed from ${store!.location}/${restored.name} at step ${step} (epoch ${startEpoch}, batch ${skip})`;
      notes.push(note);
    }
    const t0 = performance.now();
    const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
    let lastCheckpoint: string | undefined = restored?.name;
    const guard = new DivergenceGuard(options.divergence, firstLoss);
    let classes = 0;
    const diverged = (reason: DivergenceReason, loss: number, epoch: number, at: string): never => {
      const kept = lastCheckpoint
        ? `the last good checkpoint ${store!.location}/${lastCheckpoint} is kept`
        : 'no checkpoint had been written yet';
      const what =
        reason === 'non-finite'
          ? `the loss became ${loss}`
          : reason === 'loss-bound'
            ? `the loss reached ${loss.toPrecision(3)}, past its bound ${guard.bound.toPrecision(3)} (${(options.divergence || undefined)?.maxLossFactor ?? 1000} x the first step's loss)`
            : `the training accuracy is at chance (1 in ${classes}) and the loss ${loss.toPrecision(3)} has not fallen since the first step`;
      throw new TrainingDivergedError(
        `${fn}: training diverged: ${what} ${at}; training stopped before ${reason === 'chance' ? "this epoch's checkpoint" : 'applying this update'} and ${kept}. Lower the learning rate, set clipGradNorm, or check the data for NaN/Infinity.`,
        {
          reason,
          step,
          epoch,
          loss,
          ...(lastCheckpoint ? { checkpoint: `${store!.location}/${lastCheckpoint}` } : {}),
        },
        `${fn}(step ${step})`,
      );
    };

    const writeCheckpoint = async (epoch: number, batchInEpoch: number) => {
      if (!store) return;
      const meta: CheckpointMeta = {
        format: 'distilljs-checkpoint',
        version: CHECKPOINT_VERSION,
        kind: engine.kind,
        step,
        epoch,
        batchInEpoch,
        epochs,
        stepsPerEpoch,
        seed,
        rng: rng.state(),
        dataFingerprint: data.fingerprint,
        weights: weights.map((w) => ({ name: w.originalName ?? w.name, shape: w.shape as number[] })),
        optimizer: { config: optimizer.config, iterations: optimizer.iterations, slots: [] },
        history: records,
        epochSums,
        tracker: monitor.state,
        elapsedSeconds: elapsed(),
        ...(guard.firstLoss !== undefined ? { firstLoss: guard.firstLoss } : {}),
      };
      // Asynchronous reads only: a synchronous one fails on webgpu in Node.js and stalls a browser's GPU.
      const opt = await optimizer.readState();
      const values = await Promise.all(weights.map((w) => w.read().data() as Promise<Float32Array>));
      const ckpt: Checkpoint = {
        meta: {
          ...meta,
          optimizer: { ...meta.optimizer, slots: opt.slots.map(({ values: _v, ...s }) => s) },
        },
        weights: values,
        slots: opt.slots.map((s) => s.values),
      };
      const name = checkpointName(step);
      await store.write(name, await sealChecksum(encodeCheckpoint(ckpt)));
      lastCheckpoint = name;
      const old = (await store.list()).filter(isCheckpointName).sort();
      for (const n of old.slice(0, Math.max(0, old.length - keep))) await store.remove(n);
      await dispatch(
        callbacks,
        'onMessage',
        `checkpoint ${name} written to ${store.location} (step ${step})`,
      );
    };

    const dropoutLayers = allLayers(student).filter((l) => NOISE_LAYER.test(l.getClassName()));
    let stopReason: History['stopReason'] = 'completed';
    if (monitor.exhausted()) stopReason = 'early-stopping';

    await dispatch(callbacks, 'onTrainBegin', {
      epochs,
      stepsPerEpoch,
      initialEpoch: startEpoch,
      initialStep: step,
      notes: [...notes],
    });
    for (const n of notes) await dispatch(callbacks, 'onMessage', n);

    for (let epoch = startEpoch; epoch < epochs && stopReason === 'completed'; epoch++) {
      await dispatch(callbacks, 'onEpochBegin', epoch);
      const epochStart = performance.now();
      let b = 0;
      let stoppedMidEpoch = false;
      let lr = schedule(step);
      for await (const batch of data.epoch(epoch)) {
        if (b < skip) {
          batch.xs.dispose();
          b++;
          continue;
        }
        lr = schedule(step);
        await dispatch(callbacks, 'onBatchBegin', step);
        for (const l of dropoutLayers) l.seed = rng.nextUint32();
        let prepared: P | undefined;
        let stats: number[];
        let extraNames: string[] = [];
        try {
          prepared = engine.prepare ? await engine.prepare(batch, step) : (undefined as P);
          let statsT: tf.Tensor | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const r = engine.loss(batch, prepared as P);
            const zero = tf.scalar(0);
            const labels = tf.tensor1d(batch.labels, 'int32');
            const labelled = tf.cast(tf.greaterEqual(labels, 0), 'float32');
            const hit = tf.mul(tf.cast(tf.equal(tf.argMax(r.logits, -1), labels), 'float32'), labelled);
            classes = r.logits.shape[r.logits.shape.length - 1] ?? 0;
            extraNames = Object.keys(r.extra ?? {});
            const extras = extraNames.map((k) => r.extra![k]!);
            statsT = tf.keep(
              tf.stack([r.loss, r.soft ?? zero, r.hard ?? zero, tf.sum(hit), tf.sum(labelled), ...extras]),
            );
            return r.loss;
          }, trainable);
          value.dispose();
          // The step's one read back from the backend, asynchronous (GPU backends cannot read synchronously
          // in Node.js, and stall when they do in a browser).
          stats = Array.from(await statsT!.data());
          statsT!.dispose();
          const gradList = trainable.map((v) => grads[v.name]);
          const why = guard.step(stats[0]!);
          if (why) {
            tf.dispose(Object.values(grads));
            diverged(why, stats[0]!, epoch, `at step ${step} (epoch ${epoch}, batch ${b})`);
          }
          if (options.clipGradNorm !== undefined) {
            const present = gradList.filter((g): g is tf.Tensor => g !== undefined);
            const clipped = clipByGlobalNorm(present, options.clipGradNorm);
            clipped.norm.dispose();
            let j = 0;
            const clippedList = gradList.map((g) => (g === undefined ? undefined : clipped.grads[j++]));
            tf.dispose(present);
            optimizer.applyGradients(trainable, clippedList, lr);
            tf.dispose(clipped.grads);
          } else {
            optimizer.applyGradients(trainable, gradList, lr);
            tf.dispose(Object.values(grads));
          }
          // Max-norm and other constraints project the weights after every update, as Keras does.
          applyWeightConstraints(student);
          for (const m of engine.extraModels ?? []) applyWeightConstraints(m);
        } finally {
          if (prepared !== undefined) engine.disposePrepared?.(prepared);
          batch.xs.dispose();
        }
        const n = batch.labels.length;
        const [loss, soft, hard, hits, labelled] = stats as [number, number, number, number, number];
        epochSums.examples = (epochSums.examples ?? 0) + n;
        epochSums.loss = (epochSums.loss ?? 0) + loss * n;
        epochSums.softLoss = (epochSums.softLoss ?? 0) + soft * n;
        epochSums.hardLoss = (epochSums.hardLoss ?? 0) + hard * n;
        epochSums.hits = (epochSums.hits ?? 0) + hits;
        epochSums.labelled = (epochSums.labelled ?? 0) + labelled;
        step++;
        b++;
        const logs: Logs = { loss, hardLoss: hard, lr, batch: b - 1, size: n };
        extraNames.forEach((k, i) => {
          logs[k] = stats[5 + i]!;
          epochSums[`extra:${k}`] = (epochSums[`extra:${k}`] ?? 0) + stats[5 + i]! * n;
        });
        if (engine.kind === 'distill') logs.softLoss = soft;
        if (labelled > 0) logs.acc = hits / labelled;
        const every = options.checkpoint?.everySteps;
        if (every && step % every === 0 && b < stepsPerEpoch) await writeCheckpoint(epoch, b);
        await dispatch(callbacks, 'onBatchEnd', step - 1, logs);
        if (options.controller?.stopRequested) {
          stopReason = 'stopped';
          stoppedMidEpoch = b < stepsPerEpoch;
          if (stoppedMidEpoch) {
            await writeCheckpoint(epoch, b);
            break;
          }
        }
        if (options.yieldEvery && step % options.yieldEvery === 0) await new Promise((r) => setTimeout(r, 0));
      }
      skip = 0;
      const seconds = (performance.now() - epochStart) / 1000;
      const ex = epochSums.examples ?? 0;
      const logs: Logs = {
        loss: (epochSums.loss ?? 0) / Math.max(ex, 1),
        hardLoss: (epochSums.hardLoss ?? 0) / Math.max(ex, 1),
        lr,
        seconds,
        samplesPerSec: ex / Math.max(seconds, 1e-9),
      };
      if (engine.kind === 'distill') logs.softLoss = (epochSums.softLoss ?? 0) / Math.max(ex, 1);
      if ((epochSums.labelled ?? 0) > 0) logs.acc = (epochSums.hits ?? 0) / epochSums.labelled!;
      for (const key of Object.keys(epochSums).filter((k) => k.startsWith('extra:'))) {
        logs[key.slice(6)] = epochSums[key]! / Math.max(ex, 1);
      }
      let evaluation: HistoryEpoch['evaluation'];
      if (options.validation) {
        evaluation = await evaluate(student, options.validation);
        logs.val_loss = evaluation.nll;
        logs.val_acc = evaluation.accuracy;
        logs.val_errors = evaluation.errors;
        logs.val_ece = evaluation.ece;
      }
      epochSums = {};
      if (!stoppedMidEpoch && guard.atChance(logs.acc, logs.loss!, classes)) {
        diverged('chance', logs.loss!, epoch, `after epoch ${epoch}`);
      }
      records.push(evaluation ? { epoch, logs, evaluation } : { epoch, logs });
      if (monitor.update(epoch, logs) && stopReason === 'completed') {
        stopReason = 'early-stopping';
        await dispatch(
          callbacks,
          'onMessage',
          `early stopping after epoch ${epoch}: '${monitor.monitor}' has not improved for ${monitor.patience} epochs (best ${monitor.state.best} at epoch ${monitor.state.bestEpoch})`,
        );
      }
      if (!stoppedMidEpoch) await writeCheckpoint(epoch + 1, 0);
      await dispatch(callbacks, 'onEpochEnd', epoch, logs);
      // A callback (e.g. earlyStoppingCallback) may ask to stop at the end of an epoch.
      if (options.controller?.stopRequested && stopReason === 'completed') stopReason = 'stopped';
    }

    const final = records[records.length - 1];
    const bestRecord = records.find((r) => r.epoch === monitor.state.bestEpoch) ?? final;
    const history: History = {
      kind: engine.kind,
      epochs: records,
      history: historyColumns(records),
      steps: step,
      stepsPerEpoch,
      stopReason,
      final,
      best: bestRecord ? { ...bestRecord, monitor: monitor.monitor, mode: monitor.mode } : undefined,
      notes,
      seconds: elapsed(),
    };
    await dispatch(callbacks, 'onTrainEnd', final?.logs ?? {});
    return history;
  } finally {
    optimizer.dispose();
    engine.teardown?.();
  }
}
