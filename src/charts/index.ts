/**
 * Self-contained SVG charts for run artifacts and monitoring reports: pure functions from plain
 * data to a standalone `<svg>` string (no scripts, no external references; see `svg.ts` for why
 * there is no charting library underneath). Every chart tolerates empty input, single points,
 * NaN and equal values: bad values are skipped and counted in the chart's description and
 * footnote, never drawn as "NaN".
 */
export { barChart, type Bar, type BarChartOptions } from "./bar-chart.js";
export { calibrationChart, type CalibrationChartOptions } from "./calibration-chart.js";
export {
  confusionMatrixChart,
  type ConfusionCounts,
  type ConfusionMatrixChartOptions,
} from "./confusion-matrix-chart.js";
export {
  categoryComparisonChart,
  histogramChart,
  type CategoryComparisonChartOptions,
  type CategorySeries,
  type HistogramChartOptions,
  type HistogramSeries,
} from "./distribution-charts.js";
export {
  foldScoresChart,
  type FoldScore,
  type FoldScoresChartOptions,
} from "./fold-scores-chart.js";
export { type ChartSizeOptions } from "./layout.js";
export {
  lineChart,
  rocCurveChart,
  type LineChartOptions,
  type LineSeries,
  type RocCurveChartOptions,
} from "./line-charts.js";
export { PALETTE, escapeXml } from "./svg.js";
