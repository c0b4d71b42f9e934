import { AppError } from "../../core/errors.js";
import { type Calibrator, PlattCalibrator } from "../calibration/index.js";
import { FittedLogreg } from "../linear/logistic.js";
import type { FittedPipeline, ModelKind } from "../pipeline/pipeline.js";
import { type MemberPart, memberPart } from "./members.js";

export type ExplanationSpace = "log-odds" | "probability";

/**
 * An additive explanation of one applicant's score: `base + Σ contributions = raw` (up to
 * rounding, 1e-9 relative in the tests). A positive contribution pushes towards `bad`.
 */
export interface Explanation {
  /** The scale of base, contributions and raw. */
  readonly space: ExplanationSpace;
  /** The score with no feature known (the model's expected score). */
  readonly base: number;
  /** One per input feature, in the pipeline's feature order. */
  readonly contributions: Float64Array;
  /** The model's score of the row, in `space`. */
  readonly raw: number;
  /** What was computed, member by member, including anything that is not a Shapley value. */
  readonly method: string;
  /** The pipeline's feature names, the order of `contributions`. */
  readonly features: readonly string[];
}

/** Explains rows of one pipeline; build it once per model, call `explain` per applicant. */
export interface Explainer {
  readonly kind: ModelKind;
  readonly space: ExplanationSpace;
  readonly method: string;
  readonly features: readonly string[];
  /**
   * Explains one row given as one raw value per feature (the encoding `predictProbaRow`
   * takes). `contributions` is `out` when given (overwritten; the caller owns it and may reuse
   * it for the next row), else a new array. Synchronous and allocation-free apart from the
   * result, so one explainer may serve every request of a process.
   */
  explain(row: ArrayLike<number>, out?: Float64Array): Explanation;
}

/**
 * Builds the explainer of a fitted pipeline: per-tree structures and scratch buffers are laid
 * out once here, so each explanation only walks the trees.
 *
 * What each kind explains (see Explanation.method for the exact wording):
 * - logreg: the log-odds, as coefficient × standardised value per feature (exact).
 * - gbdt: the log-odds, by path-dependent TreeSHAP on every tree with the node covers (hessian
 *   sums) as weights; the initial score is part of `base` (exact Shapley values).
 * - forest: the vote probability (mean of the trees' class-1 fractions) by TreeSHAP, space
 *   "probability". The forest's pipeline score is the logit of the clipped vote, which is not
 *   additive over trees, so it has no exact TreeSHAP; the vote is what TreeSHAP explains
 *   exactly, and the served probability is a non-decreasing function of it.
 * - blend: the stacker's log-odds, c + Σ_j w_j · (member j's log-odds), linear in the members,
 *   so exact member explanations combine exactly (Shapley values are linear). The forest
 *   member's vote-space values are rescaled to its logit, which keeps the sum exact but is not
 *   a Shapley value of that logit: flagged in `method`.
 * For logreg and gbdt, a Platt (or no) calibration is linear in the log-odds and is included:
 * `raw` is then the logit of `predictProbaRow(row)`. An isotonic calibration is not linear; the
 * uncalibrated log-odds are explained and `method` says so.
 *
 * @example
 *   const explainer = createExplainer(pipeline);
 *   const e = explainer.explain(row);
 *   // e.base + Σ e.contributions ≈ e.raw; topReasons(e, row, spec) for the reasons
 */
export function createExplainer(pipeline: FittedPipeline): Explainer {
  const features = Object.freeze(pipeline.features.map((f) => f.name));
  if (pipeline.kind === "blend") return new BlendExplainer(pipeline, features);
  if (pipeline.kind === "forest") return new SingleExplainer(pipeline, features, "probability");
  return new SingleExplainer(pipeline, features, "log-odds");
}

const cached = new WeakMap<FittedPipeline, Explainer>();

/**
 * One explanation; the pipeline's explainer is built on first use and kept for as long as the
 * pipeline lives. See {@link createExplainer} for what is explained per model kind.
 */
export function explainRow(pipeline: FittedPipeline, row: ArrayLike<number>): Explanation {
  let explainer = cached.get(pipeline);
  if (!explainer) {
    explainer = createExplainer(pipeline);
    cached.set(pipeline, explainer);
  }
  return explainer.explain(row);
}

/** One model (logreg, gbdt, forest) with its calibration. */
class SingleExplainer implements Explainer {
  readonly kind: ModelKind;
  readonly method: string;
  private readonly part: MemberPart;
  /** Calibrated log-odds = slope · score + intercept, when the calibration is linear. */
  private readonly slope: number;
  private readonly intercept: number;
  readonly base: number;

  constructor(
    pipeline: FittedPipeline,
    readonly features: readonly string[],
    readonly space: ExplanationSpace,
  ) {
    this.kind = pipeline.kind;
    const member = pipeline.members[0];
    this.part = memberPart(member.model, "vote");
    const linear = space === "log-odds" ? linearCalibration(pipeline.calibrator) : null;
    this.slope = linear ? linear.a : 1;
    this.intercept = linear ? linear.b : 0;
    this.base = this.slope * this.part.base + this.intercept;
    const calibration = pipeline.calibrator?.method ?? "none";
    let scope: string;
    if (space === "probability") {
      scope =
        "explains the forest's vote probability: its pipeline score, the logit of the clipped " +
        `vote, is not additive over trees (served probability: ${calibration} calibration of that logit, non-decreasing in the vote)`;
    } else if (linear) {
      scope =
        calibration === "platt"
          ? "times the Platt slope: explains the calibrated log-odds, the logit of the served probability"
          : "explains the log-odds, the logit of the served probability";
    } else {
      scope = `explains the uncalibrated log-odds: the ${calibration} calibration on top is monotone but not linear`;
    }
    this.method = `${member.algorithm}: ${this.part.method}; ${scope}`;
  }

  explain(row: ArrayLike<number>, out?: Float64Array): Explanation {
    const contributions = resultArray(out, this.features.length);
    const score = this.part.addTo(row, this.slope, contributions);
    return {
      space: this.space,
      base: this.base,
      contributions,
      raw: this.slope * score + this.intercept,
      method: this.method,
      features: this.features,
    };
  }
}

/** The blend: members' explanations combined with the stacker's weights. */
class BlendExplainer implements Explainer {
  readonly kind = "blend" as const;
  readonly space = "log-odds" as const;
  readonly method: string;
  readonly base: number;
  private readonly parts: MemberPart[];
  private readonly weights: Float64Array;
  private readonly stacker: FittedLogreg;
  private readonly z: Float64Array;

  constructor(
    pipeline: FittedPipeline,
    readonly features: readonly string[],
  ) {
    const stacker = pipeline.stacker;
    if (!(stacker instanceof FittedLogreg)) {
      throw new AppError("INVALID_ARGUMENT", "the blend's stacker is not a logistic model");
    }
    this.stacker = stacker;
    const { weights, intercept } = stackerLinearForm(stacker, pipeline.members.length);
    this.weights = weights;
    this.parts = pipeline.members.map((m) => memberPart(m.model, "logit"));
    let base = intercept;
    this.parts.forEach((p, j) => (base += weights[j] * p.base));
    this.base = base;
    this.z = new Float64Array(pipeline.members.length);
    const members = pipeline.members
      .map((m, j) => `${m.algorithm} (weight ${round(weights[j])}): ${this.parts[j].method}`)
      .join("; ");
    this.method =
      "blend: stacker log-odds = c + Σ w·member log-odds, linear, so member contributions " +
      `combine with the weights w; ${members}`;
  }

  explain(row: ArrayLike<number>, out?: Float64Array): Explanation {
    const contributions = resultArray(out, this.features.length);
    for (let j = 0; j < this.parts.length; j++) {
      this.z[j] = this.parts[j].addTo(row, this.weights[j], contributions);
    }
    return {
      space: this.space,
      base: this.base,
      contributions,
      // The pipeline's own arithmetic (predictProbaRow = σ of this).
      raw: this.stacker.predictRawRow(this.z),
      method: this.method,
      features: this.features,
    };
  }
}

/** Slope and intercept of a calibration that is affine in the log-odds, else null. */
function linearCalibration(calibrator: Calibrator | null): { a: number; b: number } | null {
  if (calibrator === null || calibrator.input !== "raw") return null;
  if (calibrator instanceof PlattCalibrator) return { a: calibrator.a, b: calibrator.b };
  if (calibrator.method === "none") return { a: 1, b: 0 };
  return null;
}

/**
 * The stacker as c + Σ_j w_j z_j in the members' log-odds z_j: its encoder standardises each
 * input, so coefficient β on (z − μ)/σ is weight β/σ on z and moves −βμ/σ into the intercept.
 */
export function stackerLinearForm(
  stacker: FittedLogreg,
  members: number,
): { weights: Float64Array; intercept: number } {
  const weights = new Float64Array(members);
  let intercept = stacker.intercept;
  for (const block of stacker.encoder.blocks) {
    if (block.kind !== "numeric" || block.log || block.feature >= members) {
      throw new AppError(
        "INVALID_ARGUMENT",
        "the blend's stacker is not linear in the members' log-odds; it cannot be explained",
      );
    }
    const w = stacker.coef[block.column] / block.std;
    weights[block.feature] = w;
    intercept -= w * block.mean;
  }
  return { weights, intercept };
}

function resultArray(out: Float64Array | undefined, n: number): Float64Array {
  if (out === undefined) return new Float64Array(n);
  if (out.length !== n) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `explanation buffer has ${out.length} entries, the model ${n} features`,
    );
  }
  out.fill(0);
  return out;
}

function round(x: number): string {
  return Number(x.toPrecision(4)).toString();
}
