import { Rng } from "../../core/rng.js";
import { ALGORITHMS, ALGORITHM_NAMES } from "../algorithms.js";
import { METRICS } from "../metrics/index.js";
import type { Trial } from "../search/index.js";
import type { AlgorithmName, CostMatrix, LabeledTable, Params } from "../types.js";
import { takeRows } from "../types.js";
import { crossValidatePipeline } from "./evaluate.js";
import {
  type CrossValidationResult,
  repeatedStratifiedKFold,
  stratifiedKFold,
  tuneCrossValidated,
} from "../validation/index.js";
import { JOBS_MODULE } from "./jobs.js";
import { type FittedPipeline, type ModelKind, MODEL_KINDS, fitPipeline } from "./pipeline.js";

export interface TrainOptions {
  readonly data: LabeledTable;
  /** Search trials per algorithm. */
  readonly trials: number;
  readonly seed: number;
  /** Share of rows held out as a test set that no tuning or selection step sees. */
  readonly testFraction?: number;
  /** Largest training part tuned on every row (default TUNE_ROWS; see `trainingBudget`). */
  readonly tuneRows?: number;
  /** Folds that score each tuning trial (default: see `trainingBudget`, as for the next three). */
  readonly tuneFolds?: number;
  /** Repeated stratified CV that compares the candidates on the training part. */
  readonly evalFolds?: number;
  readonly evalRepeats?: number;
  readonly threads?: number;
  /** Model kinds to compare (default all four); only the algorithms they need are tuned. */
  readonly candidates?: readonly ModelKind[];
  /**
   * Besides each algorithm's best tuned configuration, compare its next-best distinct ones
   * (default 1, none on large data): how much the choice hangs on the exact hyperparameters
   * shows in their costs.
   */
  readonly runnersUp?: number;
  /** The data set's cost matrix: the threshold and the choice minimise it (default 5 : 1). */
  readonly costs?: CostMatrix;
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_TRIALS = 20;

/**
 * How much work each stage of training does, by the size of the training part. Up to
 * TUNE_ROWS rows: every trial is scored by 5-fold CV on all of them, the candidates (and one
 * runner-up per algorithm) by 5 × 2-fold repeated CV. Above it the cost of a fit grows with the
 * rows while the evidence needed to rank hyperparameters does not, so trials are scored by
 * 3-fold CV on a stratified subsample of at most TUNE_ROWS rows, and the candidates, without
 * runners-up, by one 3-fold CV of the whole training part (each of those fits already has tens
 * of thousands of rows). Options given explicitly are kept. On 150,000 rows × 10 columns this
 * makes `riskometer train` take about 70 s on 2 cores (bench/cv-large.bench.mjs --train).
 */
export interface TrainingBudget {
  /** Rows of the training part (all rows but the held-out test set). */
  readonly trainRows: number;
  /**
   * Rows of the training part the trials are scored on: all of them up to TUNE_ROWS, else at
   * most TUNE_ROWS (trainModel reports the subsample's actual size).
   */
  readonly tuneRows: number;
  readonly tuneFolds: number;
  readonly evalFolds: number;
  readonly evalRepeats: number;
  readonly runnersUp: number;
}

/** Largest training part tuned on every row; larger ones are tuned on a subsample this big. */
export const TUNE_ROWS = 25_000;

export function trainingBudget(
  trainRows: number,
  opts: Pick<
    TrainOptions,
    "tuneRows" | "tuneFolds" | "evalFolds" | "evalRepeats" | "runnersUp"
  > = {},
): TrainingBudget {
  const cap = opts.tuneRows ?? TUNE_ROWS;
  const large = trainRows > cap;
  return {
    trainRows,
    tuneRows: large ? cap : trainRows,
    tuneFolds: opts.tuneFolds ?? (large ? 3 : 5),
    evalFolds: opts.evalFolds ?? (large ? 3 : 5),
    evalRepeats: opts.evalRepeats ?? (large ? 1 : 2),
    runnersUp: opts.runnersUp ?? (large ? 0 : 1),
  };
}

export interface MetricStats {
  readonly mean: number;
  readonly std: number;
}

export interface CandidateReport {
  /** `gbdt`, or `gbdt (runner-up 1)` for a next-best tuned configuration. */
  readonly name: string;
  readonly kind: ModelKind;
  /** The hyperparameters of the algorithms the candidate uses. */
  readonly params: Partial<Record<AlgorithmName, Params>>;
  /** Cross-validated on the training part (the basis of the choice). */
  readonly cv: Record<string, MetricStats>;
  /** On the held-out test set, fitted on the training part. */
  readonly test: Record<string, number>;
}

export interface TuningReport {
  readonly params: Params;
  /** Mean ROC AUC of the chosen params over the tuning folds (optimistic: chosen on it). */
  readonly score: number;
  readonly trials: number;
}

/** What the report of a candidate rests on, for plots and tracking (not kept in the model file). */
export interface CandidateEvidence {
  /** Every catalogue metric of every CV fold. */
  readonly folds: readonly {
    readonly repeat: number;
    readonly fold: number;
    readonly metrics: Readonly<Record<string, number>>;
  }[];
  /** P(bad) of the held-out test rows from the candidate fitted on the training part. */
  readonly testProba: Float64Array;
  /** 1 = bad, per test row. */
  readonly testY: Uint8Array;
  /** The decision threshold that candidate chose on its training part. */
  readonly testThreshold: number;
}

export interface TrainResult {
  /** The chosen pipeline refitted on all rows. */
  readonly model: FittedPipeline;
  /** Name of the chosen candidate. */
  readonly chosen: string;
  readonly params: Partial<Record<AlgorithmName, Params>>;
  readonly candidates: readonly CandidateReport[];
  readonly tuning: Partial<Record<AlgorithmName, TuningReport>>;
  /** Every tuning trial per algorithm (mean inner-fold ROC AUC), in trial order. */
  readonly trials: Partial<Record<AlgorithmName, readonly Trial[]>>;
  readonly evidence: Readonly<Record<string, CandidateEvidence>>;
  /** Indices of the held-out test rows. */
  readonly testRows: Int32Array;
  readonly split: { readonly trainRows: number; readonly testRows: number };
  /** The work each stage did (see `trainingBudget`). */
  readonly budget: TrainingBudget;
}

/**
 * The training flow: hold out a stratified test set; tune each algorithm on the rest (TPE search,
 * trials scored by stratified k-fold ROC AUC); compare the tuned candidates (each algorithm and
 * their blend) by repeated CV of the whole pipeline on the training part and choose by expected
 * cost (see `chooseCandidate`); report every candidate's test-set metrics; refit the choice on
 * all rows.
 */
export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const rng = new Rng(opts.seed);
  const { data } = opts;
  const testFraction = opts.testFraction ?? 0.2;
  const split = stratifiedKFold(data.y, Math.max(2, Math.round(1 / testFraction)), rng.fork(1))[0];
  const trainPart = takeRows(data, split.train);
  const progress = opts.onProgress ?? (() => {});
  const planned = trainingBudget(trainPart.n, opts);
  // A stratified subsample: one part of a stratified split into parts of at most `tuneRows`.
  const tunePart =
    planned.tuneRows < trainPart.n
      ? takeRows(
          trainPart,
          stratifiedKFold(trainPart.y, Math.ceil(trainPart.n / planned.tuneRows), rng.fork(4))[0]
            .test,
        )
      : trainPart;
  const budget = { ...planned, tuneRows: tunePart.n };

  const kinds = opts.candidates ?? MODEL_KINDS;
  const needed = ALGORITHM_NAMES.filter((name) => kinds.includes(name) || kinds.includes("blend"));
  const tuning: Partial<Record<AlgorithmName, TuningReport>> = {};
  const trials: Partial<Record<AlgorithmName, readonly Trial[]>> = {};
  for (const [j, name] of ALGORITHM_NAMES.entries()) {
    if (!needed.includes(name)) continue;
    const alg = ALGORITHMS[name];
    const result = await tuneCrossValidated({
      data: tunePart,
      job: { module: JOBS_MODULE, fn: "algorithmFoldJob" },
      extra: { algorithm: name },
      seed: rng.fork(10 + j).nextUint32(),
      metrics: [METRICS.auc],
      space: alg.space,
      trials: opts.trials,
      sampler: "tpe",
      inner: { folds: budget.tuneFolds },
      searchConcurrency: 2,
      initial: [alg.defaults],
      threads: opts.threads,
      onProgress: (done, total) => progress(`tune ${name}`, done, total),
    });
    tuning[name] = { params: result.params, score: result.score, trials: result.trials.length };
    trials[name] = result.trials;
  }
  const params = Object.fromEntries(
    needed.map((name) => [name, (tuning[name] as TuningReport).params]),
  ) as Partial<Record<AlgorithmName, Params>>;

  const pool = candidatePool(kinds, params, trials, budget.runnersUp);
  const evalFolds = repeatedStratifiedKFold(
    trainPart.y,
    budget.evalFolds,
    budget.evalRepeats,
    rng.fork(2),
  );
  const holdout = [{ train: split.train, test: split.test, repeat: 0, fold: 0 }];
  const testY = Uint8Array.from(split.test, (row) => data.y[row]);
  const candidates: CandidateReport[] = [];
  const evidence: Record<string, CandidateEvidence> = {};
  for (const candidate of pool) {
    const options = { kind: candidate.kind, params: candidate.params, costs: opts.costs };
    const cv = await crossValidatePipeline({
      data: trainPart,
      options,
      foldList: evalFolds,
      seed: rng.fork(20).nextUint32(),
      threads: opts.threads,
      onProgress: (done, total) => progress(`evaluate ${candidate.name}`, done, total),
    });
    const test = await crossValidatePipeline({
      data,
      options,
      foldList: holdout,
      seed: rng.fork(21).nextUint32(),
      threads: 1,
    });
    candidates.push({
      ...candidate,
      cv: stats(cv),
      test: Object.fromEntries(Object.entries(test.folds[0].metrics)),
    });
    evidence[candidate.name] = {
      folds: cv.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, metrics: f.metrics })),
      testProba: test.folds[0].proba,
      testY,
      testThreshold: test.folds[0].threshold,
    };
  }
  const chosen = chooseCandidate(candidates, evalFolds.length);
  const chosenReport = candidates.find((c) => c.name === chosen) as CandidateReport;
  progress("fit final model", 0, 1);
  const model = fitPipeline(
    data,
    { kind: chosenReport.kind, params: chosenReport.params, costs: opts.costs },
    rng.fork(3),
  );
  progress("fit final model", 1, 1);
  return {
    model,
    chosen,
    params: chosenReport.params,
    candidates,
    tuning,
    trials,
    evidence,
    testRows: split.test,
    split: { trainRows: split.train.length, testRows: split.test.length },
    budget,
  };
}

type PoolEntry = Pick<CandidateReport, "name" | "kind" | "params">;

/**
 * The candidates to compare: each kind with the best tuned params, then each algorithm's next
 * best distinct configurations (by tuning score), which share the kind's place in the
 * simplicity order.
 */
function candidatePool(
  kinds: readonly ModelKind[],
  best: Partial<Record<AlgorithmName, Params>>,
  trials: Partial<Record<AlgorithmName, readonly Trial[]>>,
  runnersUp: number,
): PoolEntry[] {
  const pool: PoolEntry[] = kinds.map((kind) => ({
    name: kind,
    kind,
    params: kind === "blend" ? best : { [kind]: best[kind as AlgorithmName] },
  }));
  for (const kind of kinds) {
    if (kind === "blend") continue;
    const name = kind as AlgorithmName;
    const seen = new Set([JSON.stringify(best[name])]);
    const ranked = [...(trials[name] ?? [])]
      .filter((t) => Number.isFinite(t.value))
      .sort((a, b) => b.value - a.value || a.index - b.index);
    let added = 0;
    for (const trial of ranked) {
      if (added >= runnersUp) break;
      const key = JSON.stringify(trial.params);
      if (seen.has(key)) continue;
      seen.add(key);
      added++;
      pool.push({ name: `${kind} (runner-up ${added})`, kind, params: { [kind]: trial.params } });
    }
  }
  return pool;
}

/** Candidates from the easiest to explain and cheapest to score to the most complex. */
export const SIMPLEST_FIRST: readonly ModelKind[] = ["logreg", "gbdt", "forest", "blend"];

/**
 * The simplest candidate whose mean CV cost is within one standard error of the lowest (the
 * one-standard-error rule): differences smaller than the folds' noise do not justify a model
 * that is harder to explain and slower to score. Among equally simple ones, the cheapest.
 * Returns the candidate's name.
 */
export function chooseCandidate(candidates: readonly CandidateReport[], folds: number): string {
  const best = candidates.reduce((a, b) => (b.cv.cost.mean < a.cv.cost.mean ? b : a));
  const se =
    folds > 1 && Number.isFinite(best.cv.cost.std) ? best.cv.cost.std / Math.sqrt(folds) : 0;
  const order = (k: ModelKind) => SIMPLEST_FIRST.indexOf(k);
  return [...candidates]
    .filter((c) => c.cv.cost.mean <= best.cv.cost.mean + se)
    .sort((a, b) => order(a.kind) - order(b.kind) || a.cv.cost.mean - b.cv.cost.mean)[0].name;
}

function stats(cv: CrossValidationResult): Record<string, MetricStats> {
  return Object.fromEntries(
    Object.entries(cv.summary).map(([name, s]) => [name, { mean: s.mean, std: s.std }]),
  );
}
