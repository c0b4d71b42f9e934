import { describe, expect, it } from "vitest";
import {
  METRICS,
  METRIC_NAMES,
  calibrationCurve,
  confusionMatrix,
  expectedCost,
  ksStatistic,
  rocAuc,
  rocCurve,
  summarize,
} from "./index.js";

// Hand-worked case: bad rows score 0.9, 0.6, 0.3; good rows 0.7, 0.4, 0.2, 0.1, 0.05.
const y = [1, 1, 1, 0, 0, 0, 0, 0];
const p = [0.9, 0.6, 0.3, 0.7, 0.4, 0.2, 0.1, 0.05];

describe("rocAuc", () => {
  it("counts tied pairs as half", () => {
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBe(0.75);
    expect(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9])).toBe(0.875);
    expect(rocAuc([0, 1, 1, 0], [0.3, 0.3, 0.3, 0.3])).toBe(0.5);
  });

  it("is 1 for a perfect ranking, 0 for a reversed one, 12/15 on the worked case", () => {
    expect(rocAuc([0, 0, 1, 1], [1, 2, 3, 4])).toBe(1);
    expect(rocAuc([1, 1, 0, 0], [1, 2, 3, 4])).toBe(0);
    expect(rocAuc(y, p)).toBeCloseTo(12 / 15, 12);
  });

  it("is NaN with one class or a NaN score", () => {
    expect(rocAuc([1, 1], [0.2, 0.3])).toBeNaN();
    expect(rocAuc([0, 1], [NaN, 0.3])).toBeNaN();
  });
});

describe("confusion matrix and threshold metrics", () => {
  it("flags p ≥ threshold as bad", () => {
    expect(confusionMatrix(y, p, 0.5)).toEqual({ tp: 2, fp: 1, tn: 4, fn: 1 });
    expect(confusionMatrix(y, p, 0.6)).toEqual({ tp: 2, fp: 1, tn: 4, fn: 1 });
    expect(confusionMatrix(y, p, 0.61)).toEqual({ tp: 1, fp: 1, tn: 4, fn: 2 });
  });

  it("computes accuracy, recall, specificity, precision, F1 at 0.5", () => {
    expect(METRICS.accuracy.compute(y, p)).toBe(0.75);
    expect(METRICS.recall.compute(y, p)).toBeCloseTo(2 / 3, 12);
    expect(METRICS.specificity.compute(y, p)).toBe(0.8);
    expect(METRICS.precision.compute(y, p)).toBeCloseTo(2 / 3, 12);
    expect(METRICS.f1.compute(y, p)).toBeCloseTo(2 / 3, 12);
  });

  it("uses the threshold from the context", () => {
    expect(METRICS.recall.compute(y, p, { threshold: 0.25 })).toBe(1);
    // Flagged: the three bad rows and the goods at 0.7 and 0.4.
    expect(METRICS.specificity.compute(y, p, { threshold: 0.25 })).toBe(0.6);
    expect(METRICS.precision.compute(y, p, { threshold: 0.25 })).toBe(0.6);
  });

  it("gives precision and F1 0 when nobody is flagged, recall NaN without bad rows", () => {
    expect(METRICS.precision.compute(y, p, { threshold: 0.95 })).toBe(0);
    expect(METRICS.f1.compute([0, 0], [0.1, 0.2])).toBe(0);
    expect(METRICS.recall.compute([0, 0], [0.1, 0.9])).toBeNaN();
    expect(METRICS.specificity.compute([1, 1], [0.1, 0.9])).toBeNaN();
  });

  it("prices accepted bad loans at falseNegative and refused good ones at falsePositive", () => {
    // At 0.5: one bad accepted (5) and one good refused (1) over 8 applicants.
    expect(expectedCost(y, p, 0.5)).toBe(6 / 8);
    expect(METRICS.cost.compute(y, p, { threshold: 0.5 })).toBe(6 / 8);
    // At 0.25 nothing bad is accepted; the goods at 0.7 and 0.4 are refused.
    const costs = { falseNegative: 10, falsePositive: 2 };
    expect(METRICS.cost.compute(y, p, { threshold: 0.25, costs })).toBe(4 / 8);
    expect(METRICS.cost.compute(y, p, { threshold: 0.95, costs })).toBe(30 / 8);
  });
});

describe("probability metrics", () => {
  it("computes log loss, Brier score, Gini, KS and ECE on the worked case", () => {
    expect(METRICS.log_loss.compute(y, p)).toBeCloseTo(0.4893443416501583, 12);
    // Squared errors 0.01 + 0.16 + 0.49 + 0.49 + 0.16 + 0.04 + 0.01 + 0.0025 = 1.3625.
    expect(METRICS.brier.compute(y, p)).toBeCloseTo(1.3625 / 8, 12);
    expect(METRICS.gini.compute(y, p)).toBeCloseTo(0.6, 12);
    // Best cut at 0.3: every bad above (TPR 1), two of five goods above (FPR 0.4).
    expect(METRICS.ks.compute(y, p)).toBeCloseTo(0.6, 12);
    // One row per bin: Σ|y − p| = 0.1 + 0.4 + 0.7 + 0.7 + 0.4 + 0.2 + 0.1 + 0.05 = 2.65.
    expect(METRICS.ece.compute(y, p)).toBeCloseTo(2.65 / 8, 12);
  });

  it("clips log loss so a confident mistake is large but finite", () => {
    const ll = METRICS.log_loss.compute([1, 0], [0, 0]);
    expect(ll).toBeCloseTo(-Math.log(1e-15) / 2, 6);
  });

  it("weights ECE bins by their share of rows", () => {
    // All three rows in bin [0.1, 0.2): mean prediction 0.15, observed 1/3.
    expect(METRICS.ece.compute([0, 1, 0], [0.12, 0.18, 0.15])).toBeCloseTo(1 / 3 - 0.15, 12);
    // Half the rows perfectly calibrated at 0.5, half at 0.95 with 1/2 observed.
    expect(METRICS.ece.compute([0, 1, 0, 1], [0.5, 0.5, 0.95, 0.95])).toBeCloseTo(0.225, 12);
  });

  it("has a consistent catalogue", () => {
    expect(METRIC_NAMES).toHaveLength(12);
    for (const name of METRIC_NAMES) expect(METRICS[name].name).toBe(name);
    const lower = METRIC_NAMES.filter((n) => !METRICS[n].higherIsBetter).sort();
    expect(lower).toEqual(["brier", "cost", "ece", "log_loss"]);
    const decisions = METRIC_NAMES.filter((n) => METRICS[n].needsThreshold).sort();
    expect(decisions).toEqual(["accuracy", "cost", "f1", "precision", "recall", "specificity"]);
  });
});

describe("curves", () => {
  it("lists one ROC point per distinct score, ties moving together", () => {
    const curve = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(curve.map((q) => [q.fpr, q.tpr])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    expect(curve.map((q) => q.threshold)).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
    expect(rocCurve([0, 1], [0.5, 0.5]).map((q) => [q.fpr, q.tpr])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(rocCurve([1, 1], [0.5, 0.6])).toEqual([]);
  });

  it("integrates to the AUC by the trapezoid rule", () => {
    const ys = [0, 1, 0, 1, 1, 0, 0, 1, 0, 0];
    const ps = [0.1, 0.8, 0.3, 0.3, 0.6, 0.6, 0.05, 0.9, 0.45, 0.3];
    const c = rocCurve(ys, ps);
    let area = 0;
    for (let i = 1; i < c.length; i++)
      area += ((c[i].fpr - c[i - 1].fpr) * (c[i].tpr + c[i - 1].tpr)) / 2;
    expect(area).toBeCloseTo(rocAuc(ys, ps), 12);
    // At 0.6: three of four bad rows above, one of six good rows → 3/4 − 1/6.
    expect(ksStatistic(ys, ps)).toBeCloseTo(7 / 12, 12);
  });

  it("bins probabilities into equal-width bins with p = 1 in the last", () => {
    const bins = calibrationCurve([1, 0, 1, 1], [1, 0.05, 0.95, 0.12], 10);
    expect(bins).toHaveLength(10);
    expect(bins.map((b) => b.count)).toEqual([1, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(bins[9].meanPredicted).toBeCloseTo(0.975, 12);
    expect(bins[9].fractionPositive).toBe(1);
    expect(bins[0].fractionPositive).toBe(0);
    expect(bins[1].lower).toBe(0.1);
    expect(bins[1].upper).toBe(0.2);
    expect(bins[4].meanPredicted).toBeNaN();
  });
});

describe("summarize", () => {
  it("gives the mean and sample standard deviation", () => {
    const s = summarize([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(summarize([7]).std).toBeNaN();
    expect(summarize([]).mean).toBeNaN();
  });
});
