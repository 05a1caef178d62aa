export type { BackendAttempt, BackendName, BackendRequest, BackendSelection } from './backend.js';
export { BACKEND_REQUESTS, isBackendRequest } from './backend.js';
export { CHECKSUM_MAGIC, CHECKSUM_TRAILER_BYTES, openChecksum, sealChecksum, sha256Hex } from './checksum.js';
export type {
  Batch,
  BatchStream,
  Dataset,
  DatasetSplit,
  ExampleShape,
  FeatureDataset,
  FeatureSplit,
  ImageDataset,
  ImageShape,
  Standardization,
} from './data.js';
export { exampleShape, isFeatureDataset } from './data.js';
export {
  assertInRange,
  assertInteger,
  assertPositive,
  ConfigError,
  DistillError,
  describeValue,
  InvalidArgumentError,
  InvalidFileError,
  invalidArgument,
  NotInstalledError,
} from './errors.js';
export type { Logs, TrainBeginInfo, TrainingCallbacks } from './events.js';
export { dispatch } from './events.js';
export type { AdamUpdateAttrs } from './kernels.js';
export {
  ADAM_UPDATE_KERNEL,
  BATCH_NORM_MOMENTS_KERNEL,
  BATCH_NORM_RELU_KERNEL,
  BATCH_NORM_RELU_POOL_KERNEL,
  BATCH_NORM_TRAINING_GRAD_KERNEL,
} from './kernels.js';
export type { RngState } from './rng.js';
export { Rng } from './rng.js';
export type { Teacher, TeacherLayout } from './teacher.js';
export { isTeacher } from './teacher.js';
