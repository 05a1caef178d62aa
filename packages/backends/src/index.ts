export type { WasmTrainingKernelsReport } from './register-wasm-training-kernels.js';
export {
  hasWasmTrainingKernels,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from './register-wasm-training-kernels.js';
