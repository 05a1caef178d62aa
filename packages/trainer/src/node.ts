// Node-only entry point: `@distilljs/trainer/node` (file system access).
export { FileCheckpointStore } from './file-checkpoint-store.js';
