import { AppError } from "../../core/errors.js";
import { ForestModel } from "../ensembles/forest.js";
import { GbdtModel } from "../ensembles/gbdt.js";
import { FittedLogreg } from "../linear/logistic.js";
import { logit } from "../trees/ensemble.js";
import type { FittedClassifier } from "../types.js";
import { TreeShap } from "./tree-shap.js";

/** What one fitted model contributes to an explanation, in its own additive space. */
export interface MemberPart {
  /** Value of the decomposition with no feature known (the model's expected score). */
  readonly base: number;
  /** How the decomposition was obtained, for Explanation.method. */
  readonly method: string;
  /**
   * Adds `scale` × each feature's contribution for `row` to `out` and returns the model's score
   * of the row in the same space; base + Σ contributions = score up to rounding.
   */
  addTo(row: ArrayLike<number>, scale: number, out: Float64Array): number;
}

export const LINEAR_METHOD = "linear: coefficient × standardised value (exact)";
export const TREE_SHAP_METHOD = "TreeSHAP (path-dependent, cover-weighted, exact)";

/**
 * Logistic regression: per feature, coefficient × standardised value (a categorical feature's
 * one-hot columns summed: the coefficient of the row's level), on top of the intercept. These
 * are the exact Shapley values of the game that sets the unknown features to the reference
 * "standardised 0, no level": the training mean for numeric features, and for categorical
 * ones the unweighted average of the levels (the penalised fit with a free intercept makes a
 * feature's level coefficients sum to zero).
 */
export class LinearPart implements MemberPart {
  readonly base: number;
  readonly method = LINEAR_METHOD;

  constructor(private readonly model: FittedLogreg) {
    this.base = model.intercept;
  }

  addTo(row: ArrayLike<number>, scale: number, out: Float64Array): number {
    const c = this.model.contributions(row);
    for (let f = 0; f < c.length; f++) out[f] += scale * c[f];
    return this.model.predictRawRow(row);
  }
}

/** Boosted trees: TreeSHAP of every tree; the base score sits in `base`. Log-odds. */
export class GbdtPart implements MemberPart {
  readonly base: number;
  readonly method = TREE_SHAP_METHOD;
  readonly shap: TreeShap;
  private readonly phi: Float64Array;

  constructor(private readonly model: GbdtModel) {
    this.shap = new TreeShap(model.trees, model.features.length);
    this.base = model.baseScore + this.shap.expectedSum;
    this.phi = new Float64Array(model.features.length);
  }

  addTo(row: ArrayLike<number>, scale: number, out: Float64Array): number {
    const phi = this.phi;
    phi.fill(0);
    // TreeSHAP sums the leaves it reaches in tree order, as the model's own scoring does: the
    // same score to the last bit without walking the trees a second time.
    const sum = this.shap.shap(row, phi);
    for (let f = 0; f < phi.length; f++) out[f] += scale * phi[f];
    return this.model.baseScore + sum;
  }
}

/**
 * The forest in its additive space: the vote probability p = mean over trees of the leaf's
 * class-1 fraction, explained by TreeSHAP of every tree divided by the number of trees.
 */
export class ForestVotePart implements MemberPart {
  readonly base: number;
  readonly method = `${TREE_SHAP_METHOD} of the mean tree vote`;
  readonly shap: TreeShap;
  readonly nTrees: number;
  private readonly phi: Float64Array;

  constructor(readonly model: ForestModel) {
    this.shap = new TreeShap(model.trees, model.features.length);
    this.nTrees = Math.max(1, model.nTrees);
    this.base = this.shap.expectedSum / this.nTrees;
    this.phi = new Float64Array(model.features.length);
  }

  addTo(row: ArrayLike<number>, scale: number, out: Float64Array): number {
    const p = this.vote(row);
    for (let f = 0; f < this.phi.length; f++) out[f] += scale * this.phi[f];
    return p;
  }

  /**
   * The row's vote probability, computed as the forest computes it (sum over trees in order,
   * then divided), with its Shapley values left in the scratch array `phi` (owned here: valid
   * until the next call).
   */
  vote(row: ArrayLike<number>): number {
    const phi = this.phi;
    phi.fill(0);
    const sum = this.shap.shap(row, phi);
    for (let f = 0; f < phi.length; f++) phi[f] /= this.nTrees;
    return sum / this.nTrees;
  }

  get voteShap(): Float64Array {
    return this.phi;
  }
}

/**
 * The forest as a blend member, whose input to the stacker is g(p) = logit(p clipped half a
 * vote from 0 and 1). g is not additive over trees, so no exact Shapley value of it comes from
 * TreeSHAP, and an exact one over all 2^20 feature subsets is far too slow to serve. The exact
 * vote-space values φ_i (Σ φ_i = p − E[p]) are therefore rescaled by the secant slope
 * ρ = (g(p) − g(E[p])) / (p − E[p]), so Σ ρ·φ_i = g(p) − g(E[p]) holds exactly: the rescale
 * rule of DeepLIFT, and the factor shap's TreeExplainer applies per reference for a
 * transformed output. Each feature keeps its sign and its share of the vote change, but these
 * are not the Shapley values of g's game; Explanation.method says so.
 */
export class ForestLogitPart implements MemberPart {
  readonly base: number;
  readonly method =
    `${TREE_SHAP_METHOD} of the vote probability p, rescaled to the member's logit of the ` +
    "clipped vote by (logit(p) − logit(E[p]))/(p − E[p]): additive by construction, not Shapley values of the logit";
  private readonly vote: ForestVotePart;
  private readonly clip: number;

  constructor(model: ForestModel) {
    this.vote = new ForestVotePart(model);
    // The forest's own clip (ForestModel.toRaw); tests check g(p) against predictRawRow.
    this.clip = 0.5 / (this.vote.nTrees + 1);
    this.base = this.g(this.vote.base);
  }

  g(p: number): number {
    return logit(Math.min(Math.max(p, this.clip), 1 - this.clip));
  }

  addTo(row: ArrayLike<number>, scale: number, out: Float64Array): number {
    const p = this.vote.vote(row);
    const z = this.vote.model.predictRawRow(row);
    const ep = this.vote.base;
    let ratio: number;
    if (Math.abs(p - ep) > 1e-9) ratio = (z - this.base) / (p - ep);
    else {
      // Too close for a stable quotient: the secant's limit, the slope of g at p (0 where g is
      // clipped flat). The sum then misses z − g(E[p]) by |g''|·(p − E[p])²/2, with |g''| below
      // 4(T + 1)² inside the clip: at most 2e-12 for a thousand trees.
      ratio = p > this.clip && p < 1 - this.clip ? 1 / (p * (1 - p)) : 0;
    }
    const phi = this.vote.voteShap;
    const k = scale * ratio;
    for (let f = 0; f < phi.length; f++) out[f] += k * phi[f];
    return z;
  }
}

/** The part of a pipeline member, in log-odds (`forestSpace` decides the forest's space). */
export function memberPart(model: FittedClassifier, forestSpace: "vote" | "logit"): MemberPart {
  if (model instanceof FittedLogreg) return new LinearPart(model);
  if (model instanceof GbdtModel) return new GbdtPart(model);
  if (model instanceof ForestModel) {
    return forestSpace === "vote" ? new ForestVotePart(model) : new ForestLogitPart(model);
  }
  throw new AppError(
    "INVALID_ARGUMENT",
    `cannot explain a ${model.algorithm} model of an unknown implementation`,
  );
}
