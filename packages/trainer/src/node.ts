// Node-only entry point: `@distilljs/trainer/node` (file system access).
export { FileCheckpointStore } from './file-checkpoint-store.js';
export type { WriteTeacherLogitsOptions } from './teacher-logits-files.js';
export { loadTeacherLogits, writeTeacherLogits } from './teacher-logits-files.js';
export {
  FileWriteError,
  isTemporaryFileName,
  readChecksummedFile,
  writeChecksummedFile,
  writeFileAtomic,
} from './write-file-atomic.js';
