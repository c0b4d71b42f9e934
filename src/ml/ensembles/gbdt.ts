import { AppError } from "../../core/errors.js";
import type { Rng } from "../../core/rng.js";
import { BinMapper } from "../trees/binning.js";
import {
  TREE_MODEL_VERSION,
  TreeEnsemble,
  logit,
  readEnsembleJSON,
  readParams,
  resolveParams,
  sigmoid,
} from "../trees/ensemble.js";
import { TreeLearner, type TreeParams } from "../trees/learner.js";
import { expectFinite } from "../trees/serialize.js";
import type { Tree } from "../trees/tree.js";
import type { Algorithm, FeatureSpec, FittedClassifier, LabeledTable, Table } from "../types.js";

export type GbdtParams = {
  /** Shrinkage applied to every tree's leaf values. */
  learningRate: number;
  /** Most boosting rounds (early stopping usually ends sooner). */
  nRounds: number;
  /** Leaves per tree (best-first growth); 0 = no limit. */
  maxLeaves: number;
  /** Depth cap per tree; 0 = no cap. */
  maxDepth: number;
  minSamplesLeaf: number;
  /** Smallest sum of hessians p(1-p) in a leaf. */
  minHessianLeaf: number;
  /** L2 penalty on leaf values. */
  lambda: number;
  minGainToSplit: number;
  /** Fraction of the training rows drawn (without replacement) for each tree. */
  rowSubsample: number;
  /** Fraction of the features drawn for each tree. */
  colSubsample: number;
  /** Categories with fewer rows in a node are not put on the left of a split there. */
  minDataPerCategory: number;
  /** Added to the hessian when ordering categories by gradient ratio. */
  catSmooth: number;
  maxBins: number;
  /** Stop after this many rounds without improving the held-out log loss; 0 = off. */
  earlyStoppingRounds: number;
  /** Stratified share of the training rows held out for early stopping. */
  validationFraction: number;
  /**
   * After early stopping, refit on all rows with the best round count scaled by the row ratio
   * (instead of keeping the model trained without the held-out rows).
   */
  refit: boolean;
  /**
   * Weight of each bad row in the log loss (good rows weigh 1): gradients and hessians of bad
   * rows are multiplied by it. The base score is shifted by −log(classWeight) after training,
   * the prior correction that puts predictions back on the unweighted class balance.
   */
  classWeight: number;
};

/*
 * Defaults, and the evidence for them. Protocol: German credit, 5×10 repeated stratified CV, folds
 * from Rng(seed) and each fold's model from a fork of Rng(seed + 7919); mean test-fold AUC of
 * predictProba. Tuned on seeds 1 and 2 only; seed 0 was run once at the end, as a check.
 *
 * Coordinate search on seed 1 from the values below (AUC 0.7989); one change at a time:
 *   learningRate 0.02 / 0.05 → 0.7985 / 0.7970
 *   maxDepth 2 / 4 / none    → 0.7948 / 0.7992 / 0.7974
 *   then at depth 4: maxLeaves 4 / 16 → 0.7974 / 0.7987; minSamplesLeaf 5 / 20 → 0.7984 / 0.7976;
 *   lambda 0 / 5 → 0.7968 / 0.7972; colSubsample 0.4 / 0.8 / 1 → 0.7993 / 0.7994 / 0.8005
 *   then at depth 4, colSubsample 1: rowSubsample 0.6 / 1 → 0.7974 / 0.7947; catSmooth 0 / 10 →
 *   0.7988 / 0.8000; minDataPerCategory 1 / 10 → 0.7984 / 0.7991; nRounds 200 / 500 → 0.8001 /
 *   0.7960; learningRate 0.02 / 0.05 → 0.8000 / 0.7955.
 * The best of these (depth 4, all columns: 0.8005) did not hold on seed 2 (0.7975 against 0.7992
 * for the values below); averaged over seeds 1 and 2: below 0.7991, depth 4 + all columns
 * 0.7990, depth 4 + colSubsample 0.8 0.7999 (+0.0008, within fold noise, 1.5× slower). So the
 * shallower, faster setting stays.
 * Early stopping (patience 50, 20 % stratified hold-out, up to 1000 rounds), seed 1: 0.7922 with
 * the model trained without the hold-out, 0.7982 when refitting on all rows with the best round
 * count: no better than 300 fixed rounds, so it is off by default, and refit is on for when it
 * is used.
 * Check on seed 0 (the evaluation protocol): AUC 0.7999 ± 0.0503.
 */
const DEFAULTS: GbdtParams = {
  learningRate: 0.03,
  nRounds: 300,
  maxLeaves: 8,
  maxDepth: 3,
  minSamplesLeaf: 10,
  minHessianLeaf: 1e-3,
  lambda: 1,
  minGainToSplit: 0,
  rowSubsample: 0.8,
  colSubsample: 0.6,
  minDataPerCategory: 5,
  catSmooth: 5,
  maxBins: 255,
  earlyStoppingRounds: 0,
  validationFraction: 0.2,
  refit: true,
  /*
   * Unweighted. Expected cost of the calibrated gbdt pipeline, 5×10 CV, seed 1 / seed 2,
   * classWeight 1 / 2 / 3 / 5: 0.5374 / 0.5388, 0.5378 / 0.5332, 0.5450 / 0.5378, 0.5402 /
   * 0.5376, AUC falling from 0.7981 / 0.7987 to 0.7950 / 0.7933. As a blend member, weight 3:
   * blend cost 0.5192 / 0.5316 → 0.5228 / 0.5362.
   */
  classWeight: 1,
};

const ALGORITHM = "gbdt";

/** Boosted trees for the log loss; raw score = base log-odds + Σ trees. */
export class GbdtModel implements FittedClassifier {
  readonly algorithm = ALGORITHM;
  private readonly ensemble: TreeEnsemble;

  constructor(
    readonly features: readonly FeatureSpec[],
    /** Log-odds of the training prior, the score before any tree. */
    readonly baseScore: number,
    trees: readonly Tree[],
    readonly params: GbdtParams,
  ) {
    this.ensemble = new TreeEnsemble(features.length, trees);
  }

  get nTrees(): number {
    return this.ensemble.trees.length;
  }

  get trees(): readonly Tree[] {
    return this.ensemble.trees;
  }

  predictRaw(table: Table): Float64Array {
    const out = new Float64Array(table.n).fill(this.baseScore);
    this.ensemble.addTable(table, out);
    return out;
  }

  predictProba(table: Table): Float64Array {
    const out = this.predictRaw(table);
    for (let i = 0; i < out.length; i++) out[i] = sigmoid(out[i]);
    return out;
  }

  predictRawRow(row: ArrayLike<number>): number {
    return this.baseScore + this.ensemble.sumRow(row);
  }

  featureImportance(): Float64Array {
    return this.ensemble.featureImportance();
  }

  toJSON(): unknown {
    return {
      algorithm: ALGORITHM,
      version: TREE_MODEL_VERSION,
      nFeatures: this.features.length,
      params: this.params,
      baseScore: this.baseScore,
      trees: this.ensemble.treesJSON(),
    };
  }
}

function treeParams(p: GbdtParams): TreeParams {
  return {
    maxLeaves: p.maxLeaves,
    maxDepth: p.maxDepth,
    minSamplesLeaf: p.minSamplesLeaf,
    minHessianLeaf: p.minHessianLeaf,
    lambda: p.lambda,
    minGainToSplit: p.minGainToSplit,
    minDataPerCategory: p.minDataPerCategory,
    catSmooth: p.catSmooth,
    maxCatThreshold: 32,
    featureFraction: p.colSubsample,
    featuresPerNode: 0,
  };
}

function checkParams(p: GbdtParams): void {
  const bad = (what: string, v: unknown): never => {
    throw new RangeError(`gbdt: parameter ${what} is invalid: ${String(v)}`);
  };
  if (!(p.learningRate > 0 && p.learningRate <= 1)) bad("learningRate (in (0, 1])", p.learningRate);
  if (!Number.isInteger(p.nRounds) || p.nRounds < 1) bad("nRounds (integer ≥ 1)", p.nRounds);
  if (!(p.rowSubsample > 0 && p.rowSubsample <= 1)) bad("rowSubsample (in (0, 1])", p.rowSubsample);
  if (!(p.colSubsample > 0 && p.colSubsample <= 1)) bad("colSubsample (in (0, 1])", p.colSubsample);
  if (!Number.isInteger(p.earlyStoppingRounds) || p.earlyStoppingRounds < 0) {
    bad("earlyStoppingRounds (integer ≥ 0)", p.earlyStoppingRounds);
  }
  if (!(p.validationFraction >= 0 && p.validationFraction < 1)) {
    bad("validationFraction (in [0, 1))", p.validationFraction);
  }
  if (!(p.classWeight > 0)) bad("classWeight (> 0)", p.classWeight);
}

interface BoostResult {
  readonly baseScore: number;
  readonly trees: Tree[];
  /** Trees to keep: the round count with the lowest held-out log loss (all when no hold-out). */
  readonly bestRounds: number;
}

/**
 * Gradient boosting on `trainRows`, monitoring the log loss of `validRows` when there are any.
 * Bins come from the training rows only. Rows outside a round's subsample (and validation rows)
 * are scored by walking the new tree on their bins, which the bin edges make identical to
 * walking it on raw values.
 */
function boost(
  data: LabeledTable,
  trainRows: Int32Array,
  validRows: Int32Array,
  p: GbdtParams,
  rounds: number,
  rng: Rng,
): BoostResult {
  const n = data.n;
  const y = data.y;
  const nTrain = trainRows.length;
  const mapper = BinMapper.fit(data, trainRows, p.maxBins);
  const learner = new TreeLearner(mapper, mapper.transform(data), treeParams(p));
  const cw = p.classWeight;
  let pos = 0;
  for (let i = 0; i < nTrain; i++) pos += y[trainRows[i]];
  // The optimum of the (weighted) log loss for a constant score.
  const rate = (cw * pos) / (cw * pos + (nTrain - pos));
  const baseScore = logit(Math.min(Math.max(rate, 1e-6), 1 - 1e-6));
  const score = new Float64Array(n).fill(baseScore);
  const grad = new Float64Array(n);
  const hess = new Float64Array(n);
  const bag = trainRows.slice();
  const bagSize = p.rowSubsample < 1 ? Math.max(1, Math.round(p.rowSubsample * nTrain)) : nTrain;
  // The round's rows in ascending order (in the bag, then out of it): gradients, histograms and
  // partitions then walk memory forwards instead of jumping about (with the binned scoring of
  // the other rows, a fit on 120,000 rows took 2.1 s instead of 3.0 s). The draw itself is the
  // partial shuffle of `bag`, unchanged.
  const ordered = bagSize < nTrain ? new Int32Array(nTrain) : trainRows;
  const inBag = bagSize < nTrain ? new Uint8Array(n) : null;
  const trees: Tree[] = [];
  let bestLoss = Infinity;
  let bestRounds = rounds;
  const patience = p.earlyStoppingRounds;

  for (let round = 0; round < rounds; round++) {
    if (bagSize < nTrain) {
      for (let i = 0; i < bagSize; i++) {
        const j = i + rng.int(nTrain - i);
        const t = bag[i];
        bag[i] = bag[j];
        bag[j] = t;
      }
      orderBag(bag, bagSize, trainRows, inBag as Uint8Array, ordered);
    }
    for (let i = 0; i < bagSize; i++) {
      const r = ordered[i];
      // sigmoid(score[r]), written out: V8 does not inline it here, and the call costs more
      // than the arithmetic.
      const s = score[r];
      let pr: number;
      if (s >= 0) pr = 1 / (1 + Math.exp(-s));
      else {
        const e = Math.exp(s);
        pr = e / (1 + e);
      }
      const w = y[r] ? cw : 1;
      grad[r] = w * (pr - y[r]);
      hess[r] = w * Math.max(pr * (1 - pr), 1e-16);
    }
    const tree = learner.fit(grad, hess, ordered, bagSize, rng, p.learningRate);
    trees.push(tree);
    learner.addLeafValues(tree, score);
    learner.addLeafValuesOf(tree, ordered, bagSize, nTrain, score);
    if (validRows.length > 0) {
      learner.addLeafValuesOf(tree, validRows, 0, validRows.length, score);
      let loss = 0;
      for (let i = 0; i < validRows.length; i++) {
        const r = validRows[i];
        const s = score[r];
        // log(1 + e^{-s}) for y=1, log(1 + e^{s}) for y=0, in a form that cannot overflow.
        const z = y[r] ? -s : s;
        const l = z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
        loss += y[r] ? cw * l : l;
      }
      if (loss < bestLoss) {
        bestLoss = loss;
        bestRounds = round + 1;
      } else if (patience > 0 && round + 1 - bestRounds >= patience) break;
    }
  }
  if (validRows.length === 0) bestRounds = trees.length;
  trees.length = bestRounds;
  return { baseScore, trees, bestRounds };
}

/**
 * Writes the drawn rows bag[0..bagSize) in ascending order to out[0..bagSize) and the others
 * after them, in the order of the ascending `trainRows`, through marks in `inBag` (all zero on
 * entry and on return): two sequential passes instead of a sort.
 */
function orderBag(
  bag: Int32Array,
  bagSize: number,
  trainRows: Int32Array,
  inBag: Uint8Array,
  out: Int32Array,
): void {
  for (let i = 0; i < bagSize; i++) inBag[bag[i]] = 1;
  let k = 0;
  let m = bagSize;
  for (let i = 0; i < trainRows.length; i++) {
    const r = trainRows[i];
    if (inBag[r]) {
      out[k++] = r;
      inBag[r] = 0;
    } else out[m++] = r;
  }
}

/** Stratified random hold-out: round(fraction·n_c) rows of each class c. */
function stratifiedHoldout(y: Uint8Array, fraction: number, rng: Rng): [Int32Array, Int32Array] {
  const byClass: number[][] = [[], []];
  for (let i = 0; i < y.length; i++) byClass[y[i] ? 1 : 0].push(i);
  const train: number[] = [];
  const valid: number[] = [];
  for (const rows of byClass) {
    rng.shuffle(rows);
    const k = Math.round(fraction * rows.length);
    valid.push(...rows.slice(0, k));
    train.push(...rows.slice(k));
  }
  const sort = (a: number[]): Int32Array => Int32Array.from(a).sort();
  return [sort(train), sort(valid)];
}

function countPositives(y: Uint8Array, rows: Int32Array): number {
  let s = 0;
  for (let i = 0; i < rows.length; i++) s += y[rows[i]];
  return s;
}

export const gbdt: Algorithm<GbdtParams> = {
  name: ALGORITHM,
  defaults: DEFAULTS,
  space: {
    learningRate: { type: "float", low: 0.005, high: 0.2, log: true },
    nRounds: { type: "int", low: 50, high: 1000, log: true },
    maxLeaves: { type: "int", low: 2, high: 32, log: true },
    maxDepth: { type: "int", low: 1, high: 8 },
    minSamplesLeaf: { type: "int", low: 2, high: 80, log: true },
    lambda: { type: "float", low: 0.01, high: 30, log: true },
    rowSubsample: { type: "float", low: 0.4, high: 1 },
    colSubsample: { type: "float", low: 0.2, high: 1 },
    minDataPerCategory: { type: "int", low: 1, high: 50, log: true },
    catSmooth: { type: "float", low: 0, high: 30 },
    classWeight: { type: "float", low: 1, high: 5 },
  },

  fit(data: LabeledTable, params: Partial<GbdtParams>, rng: Rng): GbdtModel {
    const p = resolveParams(ALGORITHM, DEFAULTS, params);
    checkParams(p);
    const all = new Int32Array(data.n);
    for (let i = 0; i < data.n; i++) all[i] = i;
    const pos = countPositives(data.y, all);
    if (pos === 0 || pos === data.n) {
      throw new AppError(
        "TRAINING_FAILED",
        `gbdt: training data has a single class (${pos} of ${data.n} positive)`,
      );
    }
    let train: Int32Array = all;
    let valid: Int32Array = new Int32Array(0);
    if (p.earlyStoppingRounds > 0 && p.validationFraction > 0) {
      [train, valid] = stratifiedHoldout(data.y, p.validationFraction, rng);
      const vPos = countPositives(data.y, valid);
      const tPos = countPositives(data.y, train);
      // Too few rows to hold any out usefully: train on everything for nRounds.
      if (vPos === 0 || vPos === valid.length || tPos === 0 || tPos === train.length) {
        train = all;
        valid = new Int32Array(0);
      }
    }
    // Weighting bad rows by c multiplies the fitted odds by c: undo it on the base score.
    const shift = Math.log(p.classWeight);
    const run = boost(data, train, valid, p, p.nRounds, rng);
    if (p.refit && valid.length > 0) {
      const rounds = Math.max(1, Math.round((run.bestRounds * data.n) / train.length));
      const full = boost(data, all, new Int32Array(0), p, Math.min(rounds, p.nRounds), rng);
      return new GbdtModel(data.features, full.baseScore - shift, full.trees, p);
    }
    return new GbdtModel(data.features, run.baseScore - shift, run.trees, p);
  },

  fromJSON(json: unknown, features: readonly FeatureSpec[]): GbdtModel {
    const { body, trees, params } = readEnsembleJSON(json, ALGORITHM, features);
    const p = readParams(ALGORITHM, DEFAULTS, params);
    const base = expectFinite(body.baseScore, `${ALGORITHM}.baseScore`);
    return new GbdtModel(features, base, trees, p);
  },
};
