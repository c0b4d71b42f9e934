import { Rng } from "../../core/rng.js";
import { ALGORITHMS } from "../algorithms.js";
import type { AlgorithmName, LabeledTable, Params } from "../types.js";
import { takeRows } from "../types.js";
import { type PipelineOptions, fitPipeline } from "./pipeline.js";

/*
 * Jobs that run in worker threads (see core/pool.ts): each gets the data once as `shared` and
 * then one fold at a time. They are plain functions of their inputs, so results do not depend on
 * how many threads run them.
 */

export interface FoldInput {
  readonly trainRows: Int32Array;
  readonly testRows: Int32Array;
  readonly seed: number;
}

export interface PipelineFoldShared {
  readonly data: LabeledTable;
  readonly options: PipelineOptions;
}

/**
 * One outer fold: train the whole pipeline (model, calibration, threshold) on the training rows
 * only, then score the held-out rows.
 */
export function pipelineFoldJob(
  shared: PipelineFoldShared,
  input: FoldInput,
): { proba: Float64Array; threshold: number } {
  const model = fitPipeline(
    takeRows(shared.data, input.trainRows),
    shared.options,
    new Rng(input.seed),
  );
  return {
    proba: model.predictProba(takeRows(shared.data, input.testRows)),
    threshold: model.threshold,
  };
}

/** One fold of a tuning trial: fit one algorithm with the trial's params, score the test rows. */
export function algorithmFoldJob(
  shared: { data: LabeledTable; algorithm: AlgorithmName },
  input: FoldInput & { params?: Params },
): { proba: Float64Array } {
  const model = ALGORITHMS[shared.algorithm].fit(
    takeRows(shared.data, input.trainRows),
    input.params ?? {},
    new Rng(input.seed),
  );
  return { proba: model.predictProba(takeRows(shared.data, input.testRows)) };
}

/**
 * This module as a job reference for the worker pool: compiled (`.js`) when running from dist/,
 * where the pool uses worker threads; from sources (`.ts`) the pool runs jobs in-process.
 */
export const JOBS_MODULE = import.meta.url;
