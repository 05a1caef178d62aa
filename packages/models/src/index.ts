export { applyWeightConstraints } from './apply-weight-constraints.js';
export { batchNormalization, batchNormRelu, batchNormReluPool, unfuseBatchNormRelu } from './batch-norm.js';
export { conv2d } from './conv2d.js';
export { withFeatureTaps } from './feature-taps.js';
export type { GraphModelLike, GraphNodeDef, GraphTeacherOptions } from './graph-teacher.js';
export { graphHead, graphTeacher } from './graph-teacher.js';
export { layersTeacher, sha256Hex, weightsFingerprint } from './layers-teacher.js';
export type { LoadGraphTeacherOptions, TfjsConverterModule } from './load-graph-teacher.js';
export {
  loadGraphTeacher,
  loadGraphTeacherWith,
  loadTfjsConverter,
  modelJsonKind,
  TFJS_CONVERTER_INSTALL,
} from './load-graph-teacher.js';
export type { OnnxRuntimeWebOptions } from './load-onnx-runtime-web.js';
export {
  defaultOrtWebThreads,
  loadOnnxRuntimeWeb,
  ONNXRUNTIME_WEB_INSTALL,
} from './load-onnx-runtime-web.js';
export type { LoadedTeacher, LoadTeacherOptions, LogitsModelResult } from './load-teacher.js';
export { loadTeacher, toLogitsModel } from './load-teacher.js';
export type {
  DescribedIOHandler,
  LoadModelOptions,
  ModelLocation,
  SaveModelOptions,
} from './model-files.js';
export { loadModel, MODEL_FORMAT_VERSION, saveModel } from './model-files.js';
export type { DistillModelMetadata } from './model-metadata.js';
export { getModelMetadata, METADATA_KEY, setModelMetadata } from './model-metadata.js';
export type { OnnxGraphInfo, OnnxNode, OnnxValueInfo } from './onnx-graph.js';
export { readOnnxGraph } from './onnx-graph.js';
export type { OnnxTeacherOptions, OrtModule, OrtSession } from './onnx-teacher.js';
export { onnxTeacherFromBytes } from './onnx-teacher.js';
export type { PadShortcutArgs } from './pad-shortcut.js';
export { PadShortcut, registerCustomLayers } from './pad-shortcut.js';
export type { WeightQuantization } from './quantize-weights.js';
export { quantizeWeights, toFloat16Bits, WEIGHT_QUANTIZATIONS } from './quantize-weights.js';
export type { CreateModelOptions, ModelInfo, ModelName } from './registry.js';
export { countTrainableParams, createModel, listModels, MODEL_NAMES, parseModelSpec } from './registry.js';
export { softmaxHead, softmaxStudentAdvice } from './softmax-head.js';
export type { TeacherNormalize } from './teacher-input.js';
