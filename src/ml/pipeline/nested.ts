import { Rng } from "../../core/rng.js";
import { ALGORITHMS } from "../algorithms.js";
import { METRICS } from "../metrics/index.js";
import type { AlgorithmName, LabeledTable } from "../types.js";
import { nestedCrossValidate, stratifiedKFold } from "../validation/index.js";
import { JOBS_MODULE } from "./jobs.js";
import type { MetricStats } from "./train.js";

export interface NestedEstimateOptions {
  readonly data: LabeledTable;
  readonly algorithms: readonly AlgorithmName[];
  /** Search trials per outer fold, as in training. */
  readonly trials: number;
  readonly seed: number;
  readonly outerFolds?: number;
  readonly innerFolds?: number;
  readonly threads?: number;
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

/**
 * Nested cross-validation of each algorithm's tune-then-fit procedure: in every outer fold the
 * TPE search runs on the outer training part only, so the outer scores are not flattered by the
 * tuning (the candidates' CV in `trainModel` reuses the rows the tuning saw). Scores the
 * algorithm's own probabilities (ranking metrics: AUC, log loss, Brier).
 */
export async function nestedEstimate(
  opts: NestedEstimateOptions,
): Promise<Partial<Record<AlgorithmName, Record<string, MetricStats>>>> {
  const rng = new Rng(opts.seed);
  const outer = stratifiedKFold(opts.data.y, opts.outerFolds ?? 5, rng.fork(1));
  const out: Partial<Record<AlgorithmName, Record<string, MetricStats>>> = {};
  for (const [j, name] of opts.algorithms.entries()) {
    const alg = ALGORITHMS[name];
    const result = await nestedCrossValidate({
      data: opts.data,
      outerFolds: outer,
      job: { module: JOBS_MODULE, fn: "algorithmFoldJob" },
      extra: { algorithm: name },
      seed: rng.fork(10 + j).nextUint32(),
      metrics: [METRICS.auc, METRICS.log_loss, METRICS.brier],
      space: alg.space,
      trials: opts.trials,
      sampler: "tpe",
      inner: { folds: opts.innerFolds ?? 5 },
      initial: [alg.defaults],
      threads: opts.threads,
      onProgress: (done, total) => opts.onProgress?.(`nested CV ${name}`, done, total),
    });
    out[name] = Object.fromEntries(
      Object.entries(result.summary).map(([k, s]) => [k, { mean: s.mean, std: s.std }]),
    );
  }
  return out;
}
