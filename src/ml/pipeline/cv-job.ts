import { Rng } from "../../core/rng.js";
import { type LabeledTable, takeRows } from "../types.js";
import { type PipelineOptions, fitPipeline } from "./pipeline.js";

export interface PipelineFoldShared {
  readonly data: LabeledTable;
  readonly options: PipelineOptions;
}

export interface PipelineFoldInput {
  readonly trainRows: Int32Array;
  readonly testRows: Int32Array;
  readonly seed: number;
}

/**
 * One outer fold: train the whole pipeline (model, calibration, threshold) on the training rows
 * only, then score the held-out rows. Runs in a worker thread; everything it needs is passed in.
 */
export function pipelineFoldJob(
  shared: PipelineFoldShared,
  input: PipelineFoldInput,
): { proba: Float64Array; threshold: number } {
  const model = fitPipeline(takeRows(shared.data, input.trainRows), shared.options, new Rng(input.seed));
  return { proba: model.predictProba(takeRows(shared.data, input.testRows)), threshold: model.threshold };
}

/**
 * Reference to this job for the worker pool: this very module, compiled (`.js`) when running from
 * dist/, where the pool uses worker threads; from sources (`.ts`) the pool runs it in-process.
 */
export const PIPELINE_FOLD_JOB = {
  module: import.meta.url,
  fn: "pipelineFoldJob",
} as const;
