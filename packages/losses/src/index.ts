export type { AttentionTransferLossOptions } from './attention-transfer-loss.js';
export { attentionMap, attentionTransferLoss } from './attention-transfer-loss.js';
export type { CrossEntropyOptions } from './cross-entropy.js';
export { crossEntropy } from './cross-entropy.js';
export type { DistLossOptions } from './dist-loss.js';
export { distLoss } from './dist-loss.js';
export type { DistillationLossOptions, LossParts } from './distillation-loss.js';
export { distillationLoss, distillationLossParts } from './distillation-loss.js';
export type { DkdLossOptions, DkdLossParts } from './dkd-loss.js';
export { dkdLoss, dkdLossParts } from './dkd-loss.js';
export type { EnsembleSoftTargetsOptions } from './ensemble-soft-targets.js';
export { ensembleSoftTargets } from './ensemble-soft-targets.js';
export type { HintLossOptions } from './hint-loss.js';
export { hintLoss } from './hint-loss.js';
export type { KdLossOptions } from './kd-loss.js';
export { kdLoss } from './kd-loss.js';
export type { KdLossFromSoftTargetsOptions } from './kd-loss-from-soft-targets.js';
export { kdLossFromSoftTargets } from './kd-loss-from-soft-targets.js';
export type { Labels } from './labels.js';
export type { CtkdLambdaOptions } from './learnable-temperature.js';
export { ctkdLambda, gradientReversal, kdLossAtTemperature } from './learnable-temperature.js';
export { logitMatchingLoss } from './logit-matching-loss.js';
export { LOGIT_STANDARDIZATION_EPS, standardizeLogits } from './logit-standardization.js';
export type { CorrelationLossOptions, MlkdLossOptions, MlkdLossParts } from './mlkd-loss.js';
export {
  batchCorrelationLoss,
  classCorrelationLoss,
  MLKD_TEMPERATURES,
  mlkdLoss,
} from './mlkd-loss.js';
export type { NkdLossOptions } from './nkd-loss.js';
export { nkdLoss } from './nkd-loss.js';
export type { Reduction } from './reduction.js';
export { REDUCTIONS } from './reduction.js';
export type {
  FeatureLossDescriptor,
  FeatureLossInput,
  LogitsLossDescriptor,
  LogitsLossInput,
  LossDescriptor,
  LossInfo,
} from './registry.js';
export { getLoss, listLosses } from './registry.js';
export { logSoftTargets, softTargets } from './soft-targets.js';
export { stopGradient } from './stop-gradient.js';
export type { TtmLossOptions } from './ttm-loss.js';
export { ttmLoss, wttmLoss } from './ttm-loss.js';
