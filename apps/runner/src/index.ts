// @distilljs/runner: the `distill` command line as a library (for scripts and tests).
export type { BiasErrors } from './bias-search.js';
export { bestBias, biasGrid, errorsWithBias } from './bias-search.js';
export { EXIT, exitCodeFor, formatError, InterruptedError, RunFailedError, UsageError } from './exit-code.js';
export type {
  AggregateRow,
  ExpandedStudent,
  ExperimentResult,
  ExperimentRunOptions,
} from './experiment-runner.js';
export { aggregate, expandStudents, runExperiment } from './experiment-runner.js';
export type {
  DatasetName,
  Experiment,
  ExperimentInput,
  LossName,
  ModelSpec,
  StudentSpec,
} from './experiment-schema.js';
export {
  DATASET_NAMES,
  experimentSchema,
  formatIssue,
  LOSS_NAMES,
  OPTIMIZER_NAMES,
  parseExperiment,
  validateExperiment,
} from './experiment-schema.js';
export type { HtmlReport, ReportCurve, SoftTargetPicture } from './html-report.js';
export { renderHtmlReport } from './html-report.js';
export type { Io } from './io.js';
export { main } from './main.js';
export type { MetricsRow } from './metrics-csv.js';
export { metricsToCsv } from './metrics-csv.js';
export { createProgram } from './program.js';
export type { ProgressOptions } from './progress.js';
export { createProgress } from './progress.js';
export { createRunDir, writeFileAtomic } from './run-dir.js';
export type { RunRecord, StageResult, TestFigures } from './run-record.js';
export { loadRunRecord } from './run-record.js';
export type { MeanStd } from './stats.js';
export { formatMeanStd, meanStd } from './stats.js';
export type { TfjsInstanceReport, TfjsResolution } from './tfjs-instances.js';
export { checkTfjsInstances } from './tfjs-instances.js';
export { RUNNER_VERSION } from './version.js';
