import { Rng } from "../../core/rng.js";
import { METRICS } from "../metrics/index.js";
import type { LabeledTable } from "../types.js";
import {
  type CrossValidationResult,
  type Fold,
  crossValidate,
  repeatedStratifiedKFold,
} from "../validation/index.js";
import { JOBS_MODULE } from "./jobs.js";
import type { PipelineOptions } from "./pipeline.js";

export interface PipelineCvOptions {
  readonly data: LabeledTable;
  readonly options: PipelineOptions;
  readonly seed: number;
  /** Explicit folds; otherwise `folds` × `repeats` repeated stratified k-fold from `seed`. */
  readonly foldList?: readonly Fold[];
  readonly folds?: number;
  readonly repeats?: number;
  readonly threads?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Cross-validates the whole pipeline: in every fold the model, its calibration and its threshold
 * are trained on the training part only, and every catalogue metric is computed on the
 * held-out part at that fold's threshold. Folds run in worker threads.
 */
export function crossValidatePipeline(opts: PipelineCvOptions): Promise<CrossValidationResult> {
  const folds =
    opts.foldList ??
    repeatedStratifiedKFold(opts.data.y, opts.folds ?? 10, opts.repeats ?? 5, new Rng(opts.seed));
  return crossValidate({
    data: opts.data,
    folds,
    job: { module: JOBS_MODULE, fn: "pipelineFoldJob" },
    extra: { options: opts.options },
    seed: opts.seed,
    costs: opts.options.costs,
    metrics: Object.values(METRICS),
    threads: opts.threads,
    onProgress: opts.onProgress,
  });
}
