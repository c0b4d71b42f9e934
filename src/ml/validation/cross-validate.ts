/**
 * Cross-validation and nested cross-validation over worker threads.
 *
 * The model code runs in a fold job, an exported function of an ES module (see core/pool.ts):
 * `(shared: { data, ...extra }, input: FoldJobInput) => FoldJobOutput`. It trains on
 * `input.trainRows` of `shared.data` with `input.params`, drawing every random number from
 * `input.seed`, and returns the positive-class probabilities of `input.testRows`. Seeds are
 * derived from one seed by fold position, so results are identical for any thread count.
 */
import {
  createPool,
  defaultThreads,
  parallelMap,
  type JobRef,
  type WorkerPool,
} from "../../core/pool.js";
import { Rng } from "../../core/rng.js";
import { search, type SamplerName, type Trial, type TpeOptions } from "../search/index.js";
import {
  GERMAN_CREDIT_COSTS,
  type CostMatrix,
  type LabeledTable,
  type Params,
  type SearchSpace,
} from "../types.js";
import { repeatedStratifiedKFold, type Fold } from "./folds.js";

export interface MetricContext {
  readonly threshold: number;
  readonly costs: CostMatrix;
}

/** The shape of a metric catalogue entry. */
export interface MetricLike {
  readonly name: string;
  readonly higherIsBetter: boolean;
  /** Whether the metric scores decisions at `ctx.threshold` rather than the ranking. */
  readonly needsThreshold: boolean;
  compute(y: Uint8Array, p: Float64Array, ctx?: MetricContext): number;
}

export interface FoldJobInput<P = Params> {
  readonly trainRows: Int32Array;
  readonly testRows: Int32Array;
  /** The only source of randomness the job may use. */
  readonly seed: number;
  readonly params?: P;
  readonly fold: number;
  readonly repeat: number;
}

export interface FoldJobOutput {
  /** Probability of the positive class for each test row, in `testRows` order. */
  readonly proba: Float64Array;
  /** Decision threshold chosen by the job on its training part, if it tunes one. */
  readonly threshold?: number;
  /** Anything else worth keeping per fold (must be structure-cloneable). */
  readonly extra?: unknown;
}

export type FoldJobShared<X extends object = object> = { readonly data: LabeledTable } & X;

/** Signature of a fold job function exported by a job module. */
export type FoldJob<X extends object = object, P = Params> = (
  shared: FoldJobShared<X>,
  input: FoldJobInput<P>,
) => FoldJobOutput | Promise<FoldJobOutput>;

export interface FoldResult {
  readonly fold: number;
  readonly repeat: number;
  readonly seed: number;
  readonly testRows: Int32Array;
  readonly proba: Float64Array;
  /** Threshold the threshold metrics used: the job's own, else the `threshold` option. */
  readonly threshold: number;
  readonly extra?: unknown;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface MetricSummary {
  readonly mean: number;
  /** Sample standard deviation over the folds (n − 1); NaN for a single fold. */
  readonly std: number;
  /** Per-fold values, in fold order. */
  readonly values: readonly number[];
  readonly higherIsBetter: boolean;
}

export interface CrossValidationResult {
  readonly folds: readonly FoldResult[];
  readonly summary: Readonly<Record<string, MetricSummary>>;
  /** Out-of-fold probabilities per repetition (index = repeat); NaN where no fold tested a row. */
  readonly oofProba: readonly Float64Array[];
}

interface CommonOptions<X extends object> {
  readonly data: LabeledTable;
  readonly job: JobRef;
  /** Extra fields of the job's `shared` argument, beside `data`. */
  readonly extra?: X;
  readonly seed: number;
  readonly metrics: readonly MetricLike[];
  /** Default GERMAN_CREDIT_COSTS. */
  readonly costs?: CostMatrix;
  /**
   * Threshold for the threshold metrics of folds whose job returns none. Default
   * `defaultThreshold(costs)`, the cost-minimising cut-off rather than 0.5.
   */
  readonly threshold?: number;
  /** Worker threads; see core/pool.ts for the default and the in-process case. */
  readonly threads?: number;
  /** Jobs finished so far out of all jobs of the call. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface CrossValidateOptions<X extends object = object> extends CommonOptions<X> {
  readonly folds: readonly Fold[];
  /** Passed to every fold as `input.params`. */
  readonly params?: unknown;
}

/**
 * Threshold that minimises expected cost for calibrated probabilities: refuse when
 * p · FN > (1 − p) · FP, i.e. p > FP / (FP + FN) (1/6 for the German credit costs).
 */
export function defaultThreshold(costs: CostMatrix): number {
  return costs.falsePositive / (costs.falsePositive + costs.falseNegative);
}

/** Seeds of `n` jobs derived from one seed by position. */
export function jobSeeds(seed: number, n: number): number[] {
  const root = new Rng(seed);
  return Array.from({ length: n }, (_, i) => root.fork(i).nextUint32());
}

/** Mean and sample standard deviation. */
export function summarize(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: NaN };
  const ss = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return { mean, std: Math.sqrt(ss / (n - 1)) };
}

/** Runs every fold through the job (in parallel) and scores it. */
export async function crossValidate<X extends object = object>(
  opts: CrossValidateOptions<X>,
): Promise<CrossValidationResult> {
  checkCommon(opts);
  if (opts.folds.length === 0) throw new RangeError("no folds");
  const seeds = jobSeeds(opts.seed, opts.folds.length);
  const inputs = foldInputs(opts.folds, seeds, opts.params);
  const outputs = await parallelMap<FoldJobInput<unknown>, FoldJobOutput>(
    opts.job,
    sharedOf(opts),
    inputs,
    { threads: opts.threads, onProgress: opts.onProgress, signal: opts.signal },
  );
  return scoreFolds(opts.data, opts.folds, seeds, outputs, opts.metrics, scoringOf(opts));
}

export interface TuneOptions<X extends object = object> extends CommonOptions<X> {
  readonly space: SearchSpace;
  readonly trials: number;
  /** Default "tpe". */
  readonly sampler?: SamplerName;
  readonly tpe?: TpeOptions;
  /** Name of the metric to optimise, among `metrics`; default the first. */
  readonly optimize?: string;
  /** Stratified k-fold used to score each trial. */
  readonly inner: { readonly folds: number; readonly repeats?: number };
  /** Trials evaluated at once (see `SearchOptions.concurrency`). Default 1. */
  readonly searchConcurrency?: number;
  /** Parameters tried first, e.g. the algorithm's defaults. */
  readonly initial?: readonly Partial<Params>[];
  /** Parameters passed to every fit besides the searched ones (the searched ones win). */
  readonly fixedParams?: Params;
}

export interface TuneResult {
  /** Chosen parameters, `fixedParams` included. */
  readonly params: Params;
  /** Mean of the optimised metric over the inner folds for `params`. */
  readonly score: number;
  readonly trials: readonly Trial[];
}

/**
 * Hyperparameter search where each trial is scored by cross-validation on the whole table.
 * Every trial uses the same folds and fold seeds, so trials differ only by their parameters.
 */
export async function tuneCrossValidated<X extends object = object>(
  opts: TuneOptions<X> & { readonly onTrial?: (trial: Trial, best: Trial) => void },
): Promise<TuneResult> {
  checkCommon(opts);
  const metric = optimisedMetric(opts);
  const total = opts.trials * innerFoldCount(opts);
  const { pool, run } = openPool(opts, total);
  try {
    const rows = Int32Array.from({ length: opts.data.n }, (_, i) => i);
    return await tuneOnRows(run, opts, metric, rows, new Rng(opts.seed), opts.onTrial);
  } finally {
    await pool.close();
  }
}

export interface NestedCrossValidateOptions<X extends object = object> extends TuneOptions<X> {
  readonly outerFolds: readonly Fold[];
  readonly onTrial?: (outerFold: number, trial: Trial, best: Trial) => void;
}

export interface NestedFoldResult extends FoldResult {
  /** Parameters chosen by the inner search on this fold's training part. */
  readonly params: Params;
  /** Inner cross-validated score of `params` (optimistic: it was selected on it). */
  readonly innerScore: number;
  readonly trials: readonly Trial[];
}

export interface NestedCrossValidationResult extends CrossValidationResult {
  readonly folds: readonly NestedFoldResult[];
}

/**
 * Nested cross-validation: in each outer training part a search picks parameters by inner
 * cross-validation, the model is refitted there with them and scored on the outer test part,
 * which no step of the tuning saw. The outer scores estimate the whole tune-then-fit
 * procedure, not one parameter set.
 *
 * All outer folds run at once over one pool (the data is copied to each worker once); inner
 * folds are rows of the original table, so every job shares the same `data`.
 */
export async function nestedCrossValidate<X extends object = object>(
  opts: NestedCrossValidateOptions<X>,
): Promise<NestedCrossValidationResult> {
  checkCommon(opts);
  if (opts.outerFolds.length === 0) throw new RangeError("no outer folds");
  const metric = optimisedMetric(opts);
  const outer = opts.outerFolds;
  const total = outer.length * (opts.trials * innerFoldCount(opts) + 1);
  const { pool, run } = openPool(opts, total);
  // Derived in fold order before anything runs, so scheduling cannot change them.
  const root = new Rng(opts.seed);
  const perFold = outer.map((_, i) => {
    const r = root.fork(i);
    return { refitSeed: r.nextUint32(), tuneRng: r.fork(1) };
  });
  try {
    const tuned = await Promise.all(
      outer.map((fold, i) =>
        tuneOnRows(
          run,
          opts,
          metric,
          fold.train,
          perFold[i].tuneRng,
          opts.onTrial && ((t, b) => opts.onTrial!(i, t, b)),
        ).then(async (tune) => {
          const output = await run({
            trainRows: fold.train,
            testRows: fold.test,
            seed: perFold[i].refitSeed,
            params: tune.params,
            fold: fold.fold,
            repeat: fold.repeat,
          });
          return { tune, output };
        }),
      ),
    );
    const scored = scoreFolds(
      opts.data,
      outer,
      perFold.map((f) => f.refitSeed),
      tuned.map((t) => t.output),
      opts.metrics,
      scoringOf(opts),
    );
    const folds = scored.folds.map((f, i) => ({
      ...f,
      params: tuned[i].tune.params,
      innerScore: tuned[i].tune.score,
      trials: tuned[i].tune.trials,
    }));
    return { ...scored, folds };
  } finally {
    await pool.close();
  }
}

type Runner = (input: FoldJobInput<unknown>) => Promise<FoldJobOutput>;

/** A pool for the whole call, with progress counted over all of its jobs. */
function openPool<X extends object>(
  opts: CommonOptions<X>,
  total: number,
): { pool: WorkerPool<FoldJobInput<unknown>, FoldJobOutput>; run: Runner } {
  const pool = createPool<FoldJobInput<unknown>, FoldJobOutput>(opts.job, sharedOf(opts), {
    threads: Math.min(opts.threads ?? defaultThreads(), total),
    signal: opts.signal,
  });
  let done = 0;
  const run: Runner = async (input) => {
    const out = await pool.run(input);
    done++;
    opts.onProgress?.(done, total);
    return out;
  };
  return { pool, run };
}

/** Search on `rows` of the data, each trial scored by stratified k-fold on those rows. */
async function tuneOnRows<X extends object>(
  run: Runner,
  opts: TuneOptions<X>,
  metric: MetricLike,
  rows: Int32Array,
  rng: Rng,
  onTrial: ((trial: Trial, best: Trial) => void) | undefined,
): Promise<TuneResult> {
  const scoring = scoringOf(opts);
  const searchSeed = rng.nextUint32();
  const seedBase = rng.nextUint32();
  const y = new Uint8Array(rows.length);
  for (let i = 0; i < rows.length; i++) y[i] = opts.data.y[rows[i]];
  const local = repeatedStratifiedKFold(y, opts.inner.folds, opts.inner.repeats ?? 1, rng.fork(2));
  const folds: Fold[] = local.map((f) => ({
    train: f.train.map((r) => rows[r]),
    test: f.test.map((r) => rows[r]),
    fold: f.fold,
    repeat: f.repeat,
  }));
  const seeds = jobSeeds(seedBase, folds.length);
  const fixed = opts.fixedParams ?? {};
  const result = await search({
    space: opts.space,
    trials: opts.trials,
    seed: searchSeed,
    direction: metric.higherIsBetter ? "maximize" : "minimize",
    sampler: opts.sampler,
    tpe: opts.tpe,
    concurrency: opts.searchConcurrency,
    initial: opts.initial,
    signal: opts.signal,
    onTrial,
    objective: async (params) => {
      const outputs = await Promise.all(foldInputs(folds, seeds, { ...fixed, ...params }).map(run));
      const cv = scoreFolds(opts.data, folds, seeds, outputs, [metric], scoring);
      return cv.summary[metric.name].mean;
    },
  });
  return {
    params: { ...fixed, ...result.best.params },
    score: result.best.value,
    trials: result.trials,
  };
}

function foldInputs(
  folds: readonly Fold[],
  seeds: readonly number[],
  params: unknown,
): FoldJobInput<unknown>[] {
  return folds.map((f, i) => ({
    trainRows: f.train,
    testRows: f.test,
    seed: seeds[i],
    params,
    fold: f.fold,
    repeat: f.repeat,
  }));
}

function scoreFolds(
  data: LabeledTable,
  folds: readonly Fold[],
  seeds: readonly number[],
  outputs: readonly FoldJobOutput[],
  metrics: readonly MetricLike[],
  { costs, threshold: fallbackThreshold }: Scoring,
): CrossValidationResult {
  const repeats = folds.reduce((m, f) => Math.max(m, f.repeat + 1), 0);
  const oofProba = Array.from({ length: repeats }, () => new Float64Array(data.n).fill(NaN));
  const results: FoldResult[] = folds.map((fold, i) => {
    const out = outputs[i];
    const proba = Float64Array.from(out.proba as ArrayLike<number>);
    if (proba.length !== fold.test.length) {
      throw new Error(
        `fold job returned ${proba.length} probabilities for ${fold.test.length} test rows`,
      );
    }
    if (out.threshold !== undefined && !Number.isFinite(out.threshold)) {
      throw new Error(`fold job returned threshold ${out.threshold}`);
    }
    const threshold = out.threshold ?? fallbackThreshold;
    const y = new Uint8Array(fold.test.length);
    fold.test.forEach((row, j) => {
      y[j] = data.y[row];
      oofProba[fold.repeat][row] = proba[j];
    });
    const scores: Record<string, number> = {};
    for (const m of metrics) scores[m.name] = m.compute(y, proba, { threshold, costs });
    const result: FoldResult = {
      fold: fold.fold,
      repeat: fold.repeat,
      seed: seeds[i],
      testRows: fold.test,
      proba,
      threshold,
      metrics: scores,
    };
    return out.extra === undefined ? result : { ...result, extra: out.extra };
  });
  const summary: Record<string, MetricSummary> = {};
  for (const m of metrics) {
    const values = results.map((r) => r.metrics[m.name]);
    summary[m.name] = { ...summarize(values), values, higherIsBetter: m.higherIsBetter };
  }
  return { folds: results, summary, oofProba };
}

interface Scoring {
  readonly costs: CostMatrix;
  /** For folds whose job returns no threshold. */
  readonly threshold: number;
}

function scoringOf<X extends object>(opts: CommonOptions<X>): Scoring {
  const costs = opts.costs ?? GERMAN_CREDIT_COSTS;
  const threshold = opts.threshold ?? defaultThreshold(costs);
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`threshold must be in [0, 1], got ${threshold}`);
  }
  return { costs, threshold };
}

function sharedOf<X extends object>(opts: CommonOptions<X>): FoldJobShared<X> {
  return { ...(opts.extra as X), data: opts.data };
}

function checkCommon<X extends object>(opts: CommonOptions<X> & { folds?: readonly Fold[] }): void {
  if (opts.extra && "data" in opts.extra) {
    throw new RangeError('extra must not have a "data" field: the table is passed as data');
  }
  scoringOf(opts);
  if (opts.metrics.length === 0) throw new RangeError("no metrics to compute");
  const names = new Set(opts.metrics.map((m) => m.name));
  if (names.size !== opts.metrics.length) throw new RangeError("metric names must be unique");
  if (opts.data.y.length !== opts.data.n) {
    throw new RangeError(`table has ${opts.data.n} rows but ${opts.data.y.length} labels`);
  }
  if (opts.folds) {
    for (const f of opts.folds) {
      for (const rows of [f.train, f.test]) {
        for (const r of rows) {
          if (r < 0 || r >= opts.data.n) throw new RangeError(`fold row ${r} is out of range`);
        }
      }
    }
  }
}

function optimisedMetric<X extends object>(opts: TuneOptions<X>): MetricLike {
  const name = opts.optimize ?? opts.metrics[0].name;
  const metric = opts.metrics.find((m) => m.name === name);
  if (!metric) throw new RangeError(`metric to optimise "${name}" is not among the metrics`);
  return metric;
}

function innerFoldCount<X extends object>(opts: TuneOptions<X>): number {
  return opts.inner.folds * (opts.inner.repeats ?? 1);
}
