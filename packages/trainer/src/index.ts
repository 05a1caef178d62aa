export type { Checkpoint, CheckpointMeta, EpochRecord, WeightSpec } from './checkpoint.js';
export {
  CHECKPOINT_MAGIC,
  CHECKPOINT_VERSION,
  checkpointName,
  decodeCheckpoint,
  encodeCheckpoint,
  isCheckpointName,
} from './checkpoint.js';
export type { CheckpointStore } from './checkpoint-store.js';
export { MemoryCheckpointStore } from './checkpoint-store.js';
export { clipByGlobalNorm } from './clip.js';
export type { DistillOptions, FeatureLossOptions, LossSpec } from './distill.js';
export { distill } from './distill.js';
export type { DivergenceOptions, DivergenceReason } from './divergence.js';
export { DIVERGENCE_LOSS_FACTOR, TrainingDivergedError } from './divergence.js';
export type { EarlyStoppingOptions, MonitorState } from './early-stopping.js';
export { earlyStoppingCallback } from './early-stopping.js';
export type { EvaluationResult } from './evaluate.js';
export { ECE_BINS, evaluate } from './evaluate.js';
export type { FitOptions } from './fit.js';
export { fit } from './fit.js';
export type { History, HistoryEpoch } from './history.js';
export type { CtkdOptions } from './learnable-temperature.js';
export type { MultiSeedResult, SeedStatistics } from './multi-seed.js';
export { multiSeed } from './multi-seed.js';
export type { NpyArray, NpyDtype } from './npy.js';
export { decodeNpy, encodeNpy } from './npy.js';
export type {
  Optimizer,
  OptimizerConfig,
  OptimizerName,
  OptimizerSlot,
  OptimizerSpec,
  OptimizerState,
} from './optimizer.js';
export { createOptimizer, OPTIMIZER_NAMES, resolveOptimizerConfig } from './optimizer.js';
export type { RunRecord } from './run-record.js';
export { createRunRecord } from './run-record.js';
export type { LearningRateSchedule, ScheduleConfig, ScheduleSpec } from './schedule.js';
export { createSchedule, SCHEDULE_NAMES } from './schedule.js';
export type { TeacherCacheOptions } from './teacher-cache.js';
export { TeacherOutputCache } from './teacher-cache.js';
export type {
  LogitsTeacherOptions,
  SplitIdentity,
  TeacherLogitsManifest,
  TeacherLogitsShard,
} from './teacher-logits.js';
export {
  logitsTeacher,
  reconstructTopK,
  splitIdentity,
  TEACHER_LOGITS_FORMAT,
  TEACHER_LOGITS_MANIFEST,
  teacherLogitsManifestSchema,
  topKRows,
} from './teacher-logits.js';
export type { CheckpointOptions, TrainOptions } from './train-options.js';
export { TrainingController } from './training-controller.js';
