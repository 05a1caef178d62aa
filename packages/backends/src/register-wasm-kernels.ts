/**
 * Side-effect entry: `import '@distilljs/backends/register-wasm-kernels'` imports the wasm backend and
 * registers the distilljs training kernels for it, for apps that call `tf.setBackend('wasm')` themselves
 * instead of `selectBackend`.
 */
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './register-wasm-training-kernels.js';

registerWasmTrainingKernels();
