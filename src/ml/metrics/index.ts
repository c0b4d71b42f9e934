export { rocAuc } from "./auc.js";
export { confusionMatrix, type ConfusionMatrix } from "./confusion.js";
export {
  rocCurve,
  ksStatistic,
  calibrationCurve,
  expectedCalibrationError,
  type RocPoint,
  type CalibrationBin,
} from "./curves.js";
export {
  METRICS,
  METRIC_NAMES,
  DEFAULT_THRESHOLD,
  LOG_LOSS_EPS,
  expectedCost,
  type Metric,
  type MetricContext,
  type MetricName,
} from "./catalogue.js";
export { summarize, type Summary } from "./summary.js";
