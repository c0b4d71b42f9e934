import { AppError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { ALGORITHMS } from "../algorithms.js";
import { fitMeanStacker } from "../linear/stacker.js";
import {
  type Calibrator,
  type CalibrationMethod,
  fitCalibrator,
  calibratorFromJSON,
} from "../calibration/index.js";
import { chooseThreshold } from "../threshold.js";
import { stratifiedKFold } from "../validation/folds.js";
import {
  type AlgorithmName,
  type CostMatrix,
  type FeatureSpec,
  type FittedClassifier,
  type LabeledTable,
  type Params,
  type Table,
  GERMAN_CREDIT_COSTS,
  takeRows,
} from "../types.js";

export type ModelKind = AlgorithmName | "blend";
export const MODEL_KINDS: readonly ModelKind[] = ["logreg", "forest", "gbdt", "blend"];
export const BLEND_MEMBERS: readonly AlgorithmName[] = ["logreg", "forest", "gbdt"];

/**
 * Parameters of the blend's members that differ from the algorithms' own defaults; parameters
 * given by the caller take precedence, one by one.
 *
 * The blend's forest has 100 trees instead of 500: scoring it costs a fifth, and the blend does
 * not lose by it. Blend expected cost per applicant (and ROC AUC), 5×10 repeated stratified CV on
 * German credit, seed 1 / seed 2 (seed 0 kept for evaluation), mean-log-odds stacker:
 *   3 inner folds:  50 trees 0.5230 / 0.5314 (0.8034 / 0.8034); 100 trees 0.5192 / 0.5316
 *                   (0.8034 / 0.8035); 150 trees 0.5220 / 0.5276 (0.8034 / 0.8035); 500 trees
 *                   0.5220 / 0.5302 (0.8035 / 0.8038)
 *   5 inner folds:  100 trees 0.5186 / 0.5342; 150 trees 0.5226 / 0.5294; 200 trees
 *                   0.5182 / 0.5336; 500 trees 0.5218 / 0.5322; 150 trees with minSamplesLeaf
 *                   5 / 10: 0.5272 / 0.5346, 0.5252 / 0.5364 (no better)
 * All within fold noise (paired difference to 100 trees, 3 inner folds: 50 trees +0.0018 ±
 * 0.0028, 150 trees −0.0006 ± 0.0025, 500 trees +0.0007 ± 0.0025). Fewer trees also make a
 * forest's score depend more on its seed: the standard deviation of a test row's forest log-odds
 * between two seeds is 0.32 / 0.22 / 0.18 / 0.09 for 50 / 100 / 150 / 500 trees (against a
 * spread of ~1.05 across rows), and the equal-weight stack cannot discount that noise, so 100
 * trees rather than 50.
 */
export const BLEND_MEMBER_OVERRIDES: Readonly<Partial<Record<AlgorithmName, Params>>> = {
  forest: { nTrees: 100 },
};

export interface PipelineOptions {
  readonly kind: ModelKind;
  /** Hyperparameters per algorithm; missing ones take the algorithm's defaults. */
  readonly params?: Partial<Record<AlgorithmName, Params>>;
  /** Calibration of single models on out-of-fold predictions (the blend's stacker calibrates). */
  readonly calibration?: CalibrationMethod;
  /** Folds of the inner cross-validation that gives out-of-fold predictions on training rows. */
  readonly innerFolds?: number;
  /**
   * From this many training rows on (0 = never), calibration and threshold come from a
   * stratified hold-out of a tenth of the rows instead, and the model is fitted on the rest.
   */
  readonly holdoutFromRows?: number;
  readonly costs?: CostMatrix;
}

export const DEFAULT_PIPELINE: Required<Omit<PipelineOptions, "kind" | "params">> = {
  calibration: "platt",
  /*
   * 3 rather than 5: as good, and the members without out-of-bag estimates fit 4 models instead
   * of 6. Expected cost, 5×10 CV, seed 1 / seed 2, 5 → 3 inner folds: blend 0.5186 / 0.5342 →
   * 0.5192 / 0.5316; gbdt 0.5372 / 0.5430 → 0.5374 / 0.5388; logreg 0.5424 / 0.5394 →
   * 0.5442 / 0.5414 (ROC AUC does not depend on it).
   */
  innerFolds: 3,
  /*
   * Inner folds cost (k − 1) more fits of the whole training set; on large data that is most of
   * the work, while a tenth of the rows (5,000 and more) is far more than a 2-parameter Platt
   * fit, an isotonic fit or a threshold needs. The model then learns from 90 % of the rows, which
   * from 45,000 rows on costs little. Hold-out forced on Taiwan default (30,000 rows), 5-fold
   * CV, seed 0, inner 3-fold → hold-out: gbdt AUC 0.7827 → 0.7823, cost 0.5505 → 0.5518, 2.8×
   * faster; blend AUC 0.7771 → 0.7778, cost 0.5617 → 0.5608 (docs/ml.md).
   */
  holdoutFromRows: 50_000,
  costs: GERMAN_CREDIT_COSTS,
};

/** Hold-out mode keeps one fold of a stratified k-fold of this many (a tenth) for calibration. */
const HOLDOUT_FOLDS = 10;

interface Member {
  readonly algorithm: AlgorithmName;
  readonly params: Params;
  readonly model: FittedClassifier;
}

/**
 * A complete credit model: one algorithm (or the blend of all three through a logistic stacker
 * fitted on out-of-fold predictions), a probability calibration and the cost-minimising decision
 * threshold, both chosen on out-of-fold predictions of the training rows only.
 */
export class FittedPipeline {
  constructor(
    readonly kind: ModelKind,
    readonly features: readonly FeatureSpec[],
    readonly members: readonly Member[],
    /** Blend only: logistic regression on the members' log-odds. */
    readonly stacker: FittedClassifier | null,
    readonly calibrator: Calibrator | null,
    readonly threshold: number,
    readonly costs: CostMatrix,
  ) {}

  /** Calibrated probability that each row is a bad risk. */
  predictProba(table: Table): Float64Array {
    if (this.stacker) {
      return this.stacker.predictProba(
        stackFeatures(this.members.map((m) => m.model.predictRaw(table))),
      );
    }
    return (this.calibrator as Calibrator).apply(this.members[0].model.predictRaw(table));
  }

  /**
   * Calibrated probability of bad for one applicant given as one value per feature (the
   * serving path: no batch allocations).
   */
  predictProbaRow(row: ArrayLike<number>): number {
    if (this.stacker) {
      const z = this.stackRow;
      for (let j = 0; j < this.members.length; j++) z[j] = this.members[j].model.predictRawRow(row);
      return sigmoid(this.stacker.predictRawRow(z));
    }
    return (this.calibrator as Calibrator).applyOne(this.members[0].model.predictRawRow(row));
  }

  private readonly stackRow = new Float64Array(BLEND_MEMBERS.length);

  featureImportance(): Float64Array {
    const total = new Float64Array(this.features.length);
    const w = this.stacker ? this.stacker.featureImportance() : Float64Array.of(1);
    this.members.forEach((m, j) => {
      const imp = m.model.featureImportance();
      for (let f = 0; f < total.length; f++) total[f] += w[j] * imp[f];
    });
    const sum = total.reduce((a, b) => a + b, 0);
    return sum > 0 ? total.map((v) => v / sum) : total;
  }

  toJSON(): PipelineJson {
    return {
      kind: this.kind,
      features: this.features,
      members: this.members.map((m) => ({
        algorithm: m.algorithm,
        params: m.params,
        model: m.model.toJSON(),
      })),
      stacker: this.stacker ? this.stacker.toJSON() : null,
      calibrator: this.calibrator ? this.calibrator.toJSON() : null,
      threshold: this.threshold,
      costs: this.costs,
    };
  }

  static fromJSON(json: PipelineJson): FittedPipeline {
    if (
      !json ||
      typeof json !== "object" ||
      !Array.isArray(json.members) ||
      json.members.length === 0
    ) {
      throw new AppError("MODEL_FILE_INVALID", "model file has no model members");
    }
    if (!MODEL_KINDS.includes(json.kind)) {
      throw new AppError(
        "MODEL_FILE_INVALID",
        `unknown model kind ${JSON.stringify(json.kind)}; expected one of ${MODEL_KINDS.join(", ")}`,
      );
    }
    const members = json.members.map((m) => {
      const alg = ALGORITHMS[m.algorithm];
      if (!alg)
        throw new AppError(
          "MODEL_FILE_INVALID",
          `unknown algorithm ${JSON.stringify(m.algorithm)} in model file`,
        );
      return {
        algorithm: m.algorithm,
        params: m.params,
        model: alg.fromJSON(m.model, json.features),
      };
    });
    const stacker = json.stacker
      ? ALGORITHMS.logreg.fromJSON(json.stacker, stackSpecs(members.length))
      : null;
    const calibrator = json.calibrator ? calibratorFromJSON(json.calibrator) : null;
    if (json.kind === "blend" ? !stacker : !calibrator) {
      throw new AppError(
        "MODEL_FILE_INVALID",
        `model file lacks the ${json.kind === "blend" ? "stacker" : "calibrator"} of its ${json.kind} model`,
      );
    }
    if (typeof json.threshold !== "number" || !(json.threshold >= 0 && json.threshold <= 1)) {
      throw new AppError(
        "MODEL_FILE_INVALID",
        `model file has an invalid threshold ${JSON.stringify(json.threshold)}`,
      );
    }
    return new FittedPipeline(
      json.kind,
      json.features,
      members,
      stacker,
      calibrator,
      json.threshold,
      json.costs,
    );
  }
}

export interface PipelineJson {
  kind: ModelKind;
  features: readonly FeatureSpec[];
  members: { algorithm: AlgorithmName; params: Params; model: unknown }[];
  stacker: unknown;
  calibrator: unknown;
  threshold: number;
  costs: CostMatrix;
}

/** Trains a complete credit model on `data`. Same data, options and seed → identical model. */
export function fitPipeline(
  data: LabeledTable,
  options: PipelineOptions,
  rng: Rng,
): FittedPipeline {
  // Options given as undefined take the default, as options left out do.
  const given = Object.entries(options).filter(([, v]) => v !== undefined);
  const opts = { ...DEFAULT_PIPELINE, ...(Object.fromEntries(given) as PipelineOptions) };
  let positives = 0;
  for (let i = 0; i < data.n; i++) positives += data.y[i];
  if (positives < opts.innerFolds || data.n - positives < opts.innerFolds) {
    throw new AppError(
      "TRAINING_FAILED",
      `training needs at least ${opts.innerFolds} rows of each class (got ${positives} bad, ${data.n - positives} good)`,
    );
  }
  const names = opts.kind === "blend" ? BLEND_MEMBERS : [opts.kind];
  // Hold-out mode: members fit on `fitData`, and calibration, stacker and threshold learn from
  // their predictions on `calData` (the hold-out); otherwise both are all of `data`.
  const holdout =
    opts.holdoutFromRows > 0 && data.n >= opts.holdoutFromRows
      ? stratifiedKFold(data.y, HOLDOUT_FOLDS, rng.fork(HOLDOUT_FOLDS))[0]
      : null;
  const fitData = holdout ? takeRows(data, holdout.train) : data;
  const calData = holdout ? takeRows(data, holdout.test) : data;
  const members: Member[] = [];
  const oofRaw: Float64Array[] = [];
  names.forEach((name, j) => {
    const alg = ALGORITHMS[name];
    const overrides = opts.kind === "blend" ? (BLEND_MEMBER_OVERRIDES[name] ?? {}) : {};
    const params = { ...alg.defaults, ...overrides, ...(opts.params?.[name] ?? {}) };
    const memberRng = rng.fork(j);
    const model = alg.fit(fitData, params, memberRng.fork(0));
    members.push({ algorithm: name, params, model });
    oofRaw.push(
      holdout
        ? model.predictRaw(calData)
        : outOfFoldRaw(name, params, model, data, opts.innerFolds, memberRng.fork(1)),
    );
  });

  let stacker: FittedClassifier | null = null;
  let calibrator: Calibrator | null = null;
  let oofProba: Float64Array;
  if (opts.kind === "blend") {
    /*
     * Equal weights on the members' out-of-fold log-odds, calibrated by Platt scaling, rather
     * than a logistic regression that also learns the three weights: those weights are noisy on
     * a few hundred rows, and they follow the noise of the inputs (the forest's weight fell from
     * 0.65 to 0.51 with 100 instead of 500 trees, whose out-of-bag votes are noisier than the
     * whole forest's). Blend expected cost (ROC AUC), 5×10 CV, seed 1 / seed 2:
     *   500-tree forest, 5 inner folds: logistic stacker (C = 1) 0.5266 / 0.5338 (0.8027 /
     *   0.8017); C = 10 / 0.1 / 0.03 / 0.01: 0.5246 / 0.5350, 0.5292 / 0.5324, 0.5294 /
     *   0.5276, 0.5366 / 0.5300; on probabilities 0.5276 / 0.5394; bad rows weighted 2 / 5:
     *   0.5266 / 0.5334, 0.5274 / 0.5360; Platt on the mean rank 0.5266 / 0.5312; Platt on the
     *   mean log-odds 0.5218 / 0.5322 (0.8035 / 0.8038).
     *   100-tree forest, 3 inner folds: logistic 0.5300 / 0.5336 (0.8014 / 0.8019); shrunk
     *   towards equal weights (L2 10 on the deviations) 0.5256 / 0.5336; Platt on the mean
     *   rank 0.5262 / 0.5304, on the logit of the mean probability 0.5222 / 0.5334, isotonic on
     *   the mean log-odds 0.5308 / 0.5330; Platt on the mean log-odds 0.5192 / 0.5316 (0.8034 /
     *   0.8035).
     * The equal-weight stack is calibrated on the test folds (slope 1.007 / 1.013 of a logistic
     * fit of the outcome on its log-odds), and its threshold stays near the Bayes threshold.
     * Check on seed 0 of this stack with the 100-tree forest and 3 inner folds, against the
     * logistic stacker with 500 trees and 5 inner folds: cost 0.5388 → 0.5434, AUC 0.8033 →
     * 0.8048; so the cost gain on seeds 1 / 2 (0.5302 → 0.5254 on average) is within fold noise,
     * while the AUC rose on all three seeds.
     */
    const stackData: LabeledTable = { ...stackFeatures(oofRaw), y: calData.y };
    stacker = fitMeanStacker(stackData);
    oofProba = stacker.predictProba(stackData);
  } else {
    calibrator = fitCalibrator(opts.calibration, oofRaw[0], calData.y);
    oofProba = calibrator.apply(oofRaw[0]);
  }
  const threshold = chooseThreshold(calData.y, oofProba, opts.costs);
  return new FittedPipeline(
    opts.kind,
    data.features,
    members,
    stacker,
    calibrator,
    threshold,
    opts.costs,
  );
}

/**
 * Log-odds for every training row from a model that never saw that row: the forest's out-of-bag
 * estimate when it has one, otherwise an inner stratified k-fold.
 */
function outOfFoldRaw(
  name: AlgorithmName,
  params: Params,
  model: FittedClassifier,
  data: LabeledTable,
  k: number,
  rng: Rng,
): Float64Array {
  const oob = model.oobProba;
  if (oob && oob.every((p) => !Number.isNaN(p))) return logitAll(oob);
  const out = new Float64Array(data.n);
  const alg = ALGORITHMS[name];
  for (const fold of stratifiedKFold(data.y, k, rng.fork(0))) {
    const inner = alg.fit(takeRows(data, fold.train), params, rng.fork(fold.fold + 1));
    const raw = inner.predictRaw(takeRows(data, fold.test));
    fold.test.forEach((row, i) => (out[row] = raw[i]));
  }
  return out;
}

function stackSpecs(m: number): FeatureSpec[] {
  return Array.from({ length: m }, (_, j) => ({ name: `member_${j}`, kind: "numeric" as const }));
}

function stackFeatures(raws: Float64Array[]): Table {
  return { features: stackSpecs(raws.length), columns: raws, n: raws[0].length };
}

const EPS = 1e-6;
function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
function logitAll(p: Float64Array): Float64Array {
  return p.map((v) => {
    const c = Math.min(1 - EPS, Math.max(EPS, v));
    return Math.log(c / (1 - c));
  });
}
