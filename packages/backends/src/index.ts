export type { BackendInfo } from './backend-catalog.js';
export { AUTO_ORDER, BACKENDS, backendInfo } from './backend-catalog.js';
export type { BrowserWebGpuProbe, WebGlRenderer } from './browser-gpu.js';
export { isSoftwareRenderer, probeBrowserWebGpu, probeWebGlRenderer } from './browser-gpu.js';
export type { GpuAdapterReport } from './gpu-adapter.js';
export { adapterPhrase, describeAdapter } from './gpu-adapter.js';
export type { BackendStatus, BackendsReport } from './list-backends.js';
export { describeBackends, listBackends } from './list-backends.js';
export type { DawnSource, NodeWebGpuStart } from './node-webgpu.js';
export { DAWN_PACKAGE, DAWN_VERSION, startNodeWebGpu } from './node-webgpu.js';
export type { CpuTrainingKernelsReport } from './register-cpu-training-kernels.js';
export {
  hasCpuTrainingKernels,
  registerCpuTrainingKernels,
  unregisterCpuTrainingKernels,
} from './register-cpu-training-kernels.js';
export type { WasmTrainingKernelsReport } from './register-wasm-training-kernels.js';
export {
  hasWasmTrainingKernels,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from './register-wasm-training-kernels.js';
export type { Runtime } from './runtime.js';
export { detectRuntime } from './runtime.js';
export type { SelectBackendOptions, SelectedBackend, WasmPaths } from './select-backend.js';
export { installCommand, selectBackend } from './select-backend.js';
export type { VulkanCheck, VulkanCheckInput } from './vulkan-check.js';
export { checkVulkan } from './vulkan-check.js';
export type { NodeWasmFiles } from './wasm-node-threads.js';
export { BUNDLED_WASM_FILES, nodeWasmFiles } from './wasm-node-threads.js';
