import { AppError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { ALGORITHMS } from "../algorithms.js";
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

export interface PipelineOptions {
  readonly kind: ModelKind;
  /** Hyperparameters per algorithm; missing ones take the algorithm's defaults. */
  readonly params?: Partial<Record<AlgorithmName, Params>>;
  /** Calibration of single models on out-of-fold predictions (the blend's stacker calibrates). */
  readonly calibration?: CalibrationMethod;
  /** Folds of the inner cross-validation that gives out-of-fold predictions on training rows. */
  readonly innerFolds?: number;
  readonly costs?: CostMatrix;
}

export const DEFAULT_PIPELINE: Required<Omit<PipelineOptions, "kind" | "params">> = {
  calibration: "platt",
  innerFolds: 5,
  costs: GERMAN_CREDIT_COSTS,
};

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
  const opts = { ...DEFAULT_PIPELINE, ...options };
  let positives = 0;
  for (let i = 0; i < data.n; i++) positives += data.y[i];
  if (positives < opts.innerFolds || data.n - positives < opts.innerFolds) {
    throw new AppError(
      "TRAINING_FAILED",
      `training needs at least ${opts.innerFolds} rows of each class (got ${positives} bad, ${data.n - positives} good)`,
    );
  }
  const names = opts.kind === "blend" ? BLEND_MEMBERS : [opts.kind];
  const members: Member[] = [];
  const oofRaw: Float64Array[] = [];
  names.forEach((name, j) => {
    const alg = ALGORITHMS[name];
    const params = { ...alg.defaults, ...(opts.params?.[name] ?? {}) };
    const memberRng = rng.fork(j);
    const model = alg.fit(data, params, memberRng.fork(0));
    members.push({ algorithm: name, params, model });
    oofRaw.push(outOfFoldRaw(name, params, model, data, opts.innerFolds, memberRng.fork(1)));
  });

  let stacker: FittedClassifier | null = null;
  let calibrator: Calibrator | null = null;
  let oofProba: Float64Array;
  if (opts.kind === "blend") {
    const stackData: LabeledTable = { ...stackFeatures(oofRaw), y: data.y };
    stacker = ALGORITHMS.logreg.fit(stackData, { C: 1 }, rng.fork(99));
    oofProba = stacker.predictProba(stackData);
  } else {
    calibrator = fitCalibrator(opts.calibration, oofRaw[0], data.y);
    oofProba = calibrator.apply(oofRaw[0]);
  }
  const threshold = chooseThreshold(data.y, oofProba, opts.costs);
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
