import { GERMAN_CREDIT_COSTS, type CostMatrix } from "../types.js";
import { rocAuc } from "./auc.js";
import { confusionMatrix } from "./confusion.js";
import { expectedCalibrationError, ksStatistic } from "./curves.js";

export interface MetricContext {
  /** Rows with p ≥ threshold are predicted bad. Default 0.5. */
  readonly threshold?: number;
  /** For `cost`. Default: the German credit cost matrix (5 for a bad loan accepted). */
  readonly costs?: CostMatrix;
}

export interface Metric {
  readonly name: MetricName;
  readonly higherIsBetter: boolean;
  /** True when the value depends on `ctx.threshold` (a hard decision), false for score metrics. */
  readonly needsThreshold: boolean;
  /** `y` holds 1 for bad, `p` the predicted probability of bad. */
  compute(y: ArrayLike<number>, p: ArrayLike<number>, ctx?: MetricContext): number;
}

export type MetricName =
  | "auc"
  | "gini"
  | "ks"
  | "accuracy"
  | "recall"
  | "specificity"
  | "precision"
  | "f1"
  | "log_loss"
  | "brier"
  | "ece"
  | "cost";

export const DEFAULT_THRESHOLD = 0.5;

/** Probabilities are clipped to [ε, 1 − ε] so one confident mistake gives a large, finite loss. */
export const LOG_LOSS_EPS = 1e-15;

const cm = (y: ArrayLike<number>, p: ArrayLike<number>, ctx?: MetricContext) =>
  confusionMatrix(y, p, ctx?.threshold ?? DEFAULT_THRESHOLD);

/** 0/0 as NaN: a rate over an absent class is undefined, not zero. */
const ratio = (a: number, b: number): number => (b === 0 ? NaN : a / b);

function logLoss(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const n = y.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const q = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, p[i]));
    s -= y[i] ? Math.log(q) : Math.log(1 - q);
  }
  return s / n;
}

function brier(y: ArrayLike<number>, p: ArrayLike<number>): number {
  const n = y.length;
  if (n === 0) return NaN;
  let s = 0;
  for (let i = 0; i < n; i++) s += ((y[i] ? 1 : 0) - p[i]) ** 2;
  return s / n;
}

/**
 * Every evaluation metric by name. Precision and F1 follow scikit-learn's `zero_division=0`
 * (a model that flags nobody has precision 0, not undefined); recall and specificity are NaN when
 * their class is absent, like AUC.
 */
export const METRICS: Readonly<Record<MetricName, Metric>> = {
  auc: {
    name: "auc",
    higherIsBetter: true,
    needsThreshold: false,
    compute: (y, p) => rocAuc(y, p),
  },
  gini: {
    name: "gini",
    higherIsBetter: true,
    needsThreshold: false,
    compute: (y, p) => 2 * rocAuc(y, p) - 1,
  },
  ks: {
    name: "ks",
    higherIsBetter: true,
    needsThreshold: false,
    compute: (y, p) => ksStatistic(y, p),
  },
  accuracy: {
    name: "accuracy",
    higherIsBetter: true,
    needsThreshold: true,
    compute: (y, p, ctx) => {
      const m = cm(y, p, ctx);
      return ratio(m.tp + m.tn, y.length);
    },
  },
  recall: {
    name: "recall",
    higherIsBetter: true,
    needsThreshold: true,
    compute: (y, p, ctx) => {
      const m = cm(y, p, ctx);
      return ratio(m.tp, m.tp + m.fn);
    },
  },
  specificity: {
    name: "specificity",
    higherIsBetter: true,
    needsThreshold: true,
    compute: (y, p, ctx) => {
      const m = cm(y, p, ctx);
      return ratio(m.tn, m.tn + m.fp);
    },
  },
  precision: {
    name: "precision",
    higherIsBetter: true,
    needsThreshold: true,
    compute: (y, p, ctx) => {
      const m = cm(y, p, ctx);
      return m.tp + m.fp === 0 ? 0 : m.tp / (m.tp + m.fp);
    },
  },
  f1: {
    name: "f1",
    higherIsBetter: true,
    needsThreshold: true,
    compute: (y, p, ctx) => {
      const m = cm(y, p, ctx);
      const d = 2 * m.tp + m.fp + m.fn;
      return d === 0 ? 0 : (2 * m.tp) / d;
    },
  },
  log_loss: {
    name: "log_loss",
    higherIsBetter: false,
    needsThreshold: false,
    compute: (y, p) => logLoss(y, p),
  },
  brier: {
    name: "brier",
    higherIsBetter: false,
    needsThreshold: false,
    compute: (y, p) => brier(y, p),
  },
  ece: {
    name: "ece",
    higherIsBetter: false,
    needsThreshold: false,
    compute: (y, p) => expectedCalibrationError(y, p),
  },
  cost: {
    name: "cost",
    higherIsBetter: false,
    needsThreshold: true,
    compute: (y, p, ctx) => expectedCost(y, p, ctx?.threshold ?? DEFAULT_THRESHOLD, ctx?.costs),
  },
};

export const METRIC_NAMES = Object.keys(METRICS) as MetricName[];

/**
 * Mean cost per applicant of deciding at `threshold`: each accepted bad (predicted good, actually
 * bad) costs `falseNegative`, each refused good costs `falsePositive`.
 */
export function expectedCost(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  threshold: number,
  costs: CostMatrix = GERMAN_CREDIT_COSTS,
): number {
  if (y.length === 0) return NaN;
  const m = confusionMatrix(y, p, threshold);
  return (m.fn * costs.falseNegative + m.fp * costs.falsePositive) / y.length;
}
