/**
 * The ML core's public surface: the credit model pipeline (fit, cross-validate, train, save and
 * load), the algorithms, metrics, calibration and validation building blocks.
 */
export { ALGORITHMS, ALGORITHM_NAMES } from "./algorithms.js";
export { CALIBRATION_METHODS, type CalibrationMethod } from "./calibration/index.js";
export {
  createExplainer,
  explainRow,
  reasonFor,
  topFeatures,
  topReasons,
  type Explainer,
  type Explanation,
  type ExplanationSpace,
  type Reason,
} from "./explain/index.js";
export { METRICS, METRIC_NAMES, type Metric, type MetricName } from "./metrics/index.js";
export { crossValidatePipeline, type PipelineCvOptions } from "./pipeline/evaluate.js";
export { JOBS_MODULE } from "./pipeline/jobs.js";
export { encodeModelFile } from "./pipeline/model-file.js";
export { nestedEstimate, type NestedEstimateOptions } from "./pipeline/nested.js";
export {
  BLEND_MEMBERS,
  FittedPipeline,
  MODEL_KINDS,
  fitPipeline,
  type ModelKind,
  type PipelineJson,
  type PipelineOptions,
} from "./pipeline/pipeline.js";
export {
  buildModelBody,
  loadModel,
  parseModel,
  saveModel,
  type LoadedModel,
  type ModelBody,
} from "./pipeline/saved-model.js";
export {
  DEFAULT_TRIALS,
  trainModel,
  type TrainOptions,
  type TrainResult,
  type CandidateReport,
} from "./pipeline/train.js";
export {
  GERMAN_CREDIT_COSTS,
  type AlgorithmName,
  type CostMatrix,
  type FeatureSpec,
  type LabeledTable,
  type Table,
} from "./types.js";
export { type CrossValidationResult, type Fold } from "./validation/index.js";
