import { selectBackend } from '@distilljs/backends';
import { type BackendRequest, InvalidArgumentError, invalidArgument, Rng } from '@distilljs/core';
import { crossEntropy, distillationLoss } from '@distilljs/losses';
import { createModel, listModels, MODEL_NAMES, type ModelName } from '@distilljs/models';
import { createOptimizer } from '@distilljs/trainer';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { runnerBackendOptions } from './backend-options.js';
import { type CpuInfo, cpuInfo } from './cpu-info.js';

/**
 * What a benchmark step does:
 * - `train`: one Adam step of cross entropy on the model;
 * - `distill`: one Adam step of the student on 0.5 * CE + 0.5 * T^2 * KL (T = 4) against teacher logits
 *   computed once beforehand (the trainer's teacher-output cache; torch_reference.py's `distill-cached`);
 * - `distill-online`: the same with the teacher's forward pass run inside every step (what
 *   ../shared/bench/torch_reference.py's `distill` measures).
 */
export type BenchTask = 'train' | 'distill' | 'distill-online';

/** Options of {@link runBench}. */
export interface BenchOptions {
  /** Backend to run on (default `auto`, see `selectBackend`). */
  readonly backend?: BackendRequest;
  /** Zoo models for the `train` task (default the four of torch_reference.py). */
  readonly models?: readonly string[];
  /** Examples per step (default 128). */
  readonly batchSize?: number;
  /** Timed steps per row (default 20). */
  readonly steps?: number;
  /** Untimed steps first (default 3): operator creation, weight packing, JIT. */
  readonly warmup?: number;
  /**
   * Tasks (default all three). `train` runs for every model; the distillation tasks run for
   * `hinton-student` (when listed in `models`) with `hinton-teacher` as the teacher.
   */
  readonly tasks?: readonly BenchTask[];
  /** wasm threads (default `auto`). */
  readonly threads?: number | 'auto';
  /** wasm relaxed SIMD (default `enable`, see `selectBackend`'s `relaxedSimd`). */
  readonly relaxedSimd?: 'auto' | 'enable' | 'off';
  /** Seed of weights and data (default 0). */
  readonly seed?: number;
}

/**
 * One benchmark row: the fields ../shared/bench/torch_reference.py prints, in the same units, then the CPU
 * it ran on (model, cores, SIMD flags), so that rows from different hosts are not compared by mistake.
 */
export interface BenchResult extends CpuInfo {
  readonly model: string;
  readonly task: BenchTask;
  readonly batchSize: number;
  readonly samplesPerSec: number;
  readonly msPerStep: number;
  readonly engine: string;
}

/** The models torch_reference.py measures, in its order. */
export const BENCH_MODELS = ['hinton-teacher', 'hinton-student', 'mnist-cnn', 'cifar-vgg-small'] as const;
const TASKS: readonly BenchTask[] = ['train', 'distill', 'distill-online'];
const DISTILL_STUDENT = 'hinton-student';
const DISTILL_TEACHER = 'hinton-teacher';
const TEMPERATURE = 4;
const ALPHA = 0.5;

function checkOptions(
  options: BenchOptions,
): Required<Omit<BenchOptions, 'backend' | 'threads' | 'relaxedSimd'>> {
  const fn = 'runBench';
  const batchSize = options.batchSize ?? 128;
  const steps = options.steps ?? 20;
  const warmup = options.warmup ?? 3;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    invalidArgument(fn, 'batchSize', 'an integer >= 1', batchSize);
  if (!Number.isInteger(steps) || steps < 1) invalidArgument(fn, 'steps', 'an integer >= 1', steps);
  if (!Number.isInteger(warmup) || warmup < 0) invalidArgument(fn, 'warmup', 'an integer >= 0', warmup);
  const models = options.models ?? BENCH_MODELS;
  for (const m of models) {
    if (!(MODEL_NAMES as readonly string[]).includes(m)) {
      throw new InvalidArgumentError(
        `${fn}: argument 'models' contains unknown model '${m}'; valid names: ${MODEL_NAMES.join(', ')}`,
        { where: `${fn}(models)` },
      );
    }
  }
  const tasks = options.tasks ?? TASKS;
  for (const t of tasks) {
    if (!TASKS.includes(t)) invalidArgument(fn, 'tasks', `a list of ${TASKS.join(', ')}`, t);
  }
  return { batchSize, steps, warmup, seed, models, tasks };
}

function inputShapeOf(name: string): number[] {
  const info = listModels().find((m) => m.name === name);
  return [...(info?.defaultInputShape ?? [28, 28, 1])];
}

/** @internal One benchmark step, with what tests look at. */
export interface Step {
  /** Runs one optimiser step and returns the loss (kept by the caller until read). */
  run(): tf.Scalar;
  /** The model being trained. */
  readonly student: tfl.LayersModel;
  /** Teacher forward passes so far (the cached task runs one before the first step). */
  readonly teacherPasses: number;
  dispose(): void;
}

/** @internal Builds the step of `task` for `model`: weights, data and, for distillation, the teacher. */
export function makeStep(task: BenchTask, model: string, batchSize: number, seed: number): Step {
  const rng = new Rng(seed);
  const shape = inputShapeOf(model);
  const student = createModel(model as ModelName, { seed });
  const teacher =
    task === 'train' ? undefined : createModel(DISTILL_TEACHER as ModelName, { seed: seed + 1 });
  const x = tf.tidy(() => tf.randomNormal([batchSize, ...shape], 0, 1, 'float32', seed));
  const labels = new Int32Array(batchSize);
  for (let i = 0; i < batchSize; i++) labels[i] = rng.int(10);
  let teacherPasses = 0;
  const runTeacher = (t: tfl.LayersModel) => {
    teacherPasses++;
    return t.apply(x, { training: false }) as tf.Tensor2D;
  };
  const cached = task === 'distill' && teacher ? tf.tidy(() => runTeacher(teacher)) : undefined;
  // The trainer's Adam (what `distill run` trains with): on wasm one fused kernel per variable.
  const optimizer = createOptimizer({ name: 'adam', lr: 1e-3 });
  const vars = student.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  const forward = (m: tfl.LayersModel, training: boolean) => m.apply(x, { training }) as tf.Tensor2D;
  return {
    student,
    get teacherPasses() {
      return teacherPasses;
    },
    run() {
      return tf.tidy(() => {
        const teacherLogits =
          task === 'distill-online' && teacher ? tf.tidy(() => runTeacher(teacher)) : cached;
        const { value, grads } = tf.variableGrads(() => {
          const logits = forward(student, true);
          return teacherLogits === undefined
            ? crossEntropy(logits, labels)
            : distillationLoss(logits, teacherLogits, labels, { temperature: TEMPERATURE, alpha: ALPHA });
        }, vars);
        optimizer.applyGradients(
          vars,
          vars.map((v) => grads[v.name]),
          1e-3,
        );
        return value as tf.Scalar;
      });
    },
    dispose() {
      optimizer.dispose();
      tf.dispose([x, ...(cached ? [cached] : [])]);
      student.dispose();
      teacher?.dispose();
    },
  };
}

/**
 * Measures training throughput in-process, after warm-up, and yields one row per (model, task) with the
 * fields of ../shared/bench/torch_reference.py, so the two outputs can be joined line by line. Every step
 * reads its loss back (as PyTorch's `loss.item()` does), so asynchronous backends are timed fully.
 *
 * This is a benchmark, not a test of speed: nothing here asserts a time.
 */
export async function* runBench(options: BenchOptions = {}): AsyncGenerator<BenchResult> {
  const opts = checkOptions(options);
  const selection = await selectBackend(options.backend ?? 'auto', {
    ...runnerBackendOptions(),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    relaxedSimd: options.relaxedSimd ?? 'enable',
  });
  const cpu = cpuInfo();
  const jobs: Array<[string, BenchTask]> = [];
  if (opts.tasks.includes('train')) for (const m of opts.models) jobs.push([m, 'train']);
  if (opts.models.includes(DISTILL_STUDENT)) {
    for (const t of ['distill', 'distill-online'] as const)
      if (opts.tasks.includes(t)) jobs.push([DISTILL_STUDENT, t]);
  }
  for (const [model, task] of jobs) {
    const step = makeStep(task, model, opts.batchSize, opts.seed);
    try {
      for (let i = 0; i < opts.warmup; i++) {
        const cost = step.run();
        await cost.data();
        cost.dispose();
      }
      const start = performance.now();
      for (let i = 0; i < opts.steps; i++) {
        const cost = step.run();
        await cost.data();
        cost.dispose();
      }
      const seconds = (performance.now() - start) / 1000;
      yield {
        model,
        task,
        batchSize: opts.batchSize,
        samplesPerSec: Math.round((opts.steps * opts.batchSize * 10) / seconds) / 10,
        msPerStep: Math.round((seconds * 1e5) / opts.steps) / 100,
        engine: selection.engine,
        ...cpu,
      };
    } finally {
      step.dispose();
    }
  }
}
