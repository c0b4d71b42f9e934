import { describe, expect, it } from "vitest";
import { qualityReport } from "./quality.js";

describe("quality report", () => {
  // 8 decisions with outcomes: 1 = bad. Probabilities of bad, highest first by construction.
  const y = Uint8Array.of(1, 1, 0, 1, 0, 0, 1, 0);
  const p = Float64Array.of(0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1);

  it("gives the confusion, rates and per-class figures at 0.5 and at the model's threshold", () => {
    const r = qualityReport(y, p, 0.25);
    expect(r).toMatchObject({ rows: 8, bad: 4, good: 4, notes: [] });
    const [half, own] = r.atCuts;
    // At 0.5: predicted bad = 0.9, 0.8, 0.7, 0.6 → tp 3 (0.9, 0.8, 0.6), fp 1 (0.7).
    expect(half.confusion).toEqual({ tp: 3, fp: 1, tn: 3, fn: 1 });
    expect(half.accuracy).toBe(0.75);
    expect(half.precision).toBe(0.75);
    expect(half.recall).toBe(0.75);
    expect(half.f1).toBe(0.75);
    expect(half.fpr).toBe(0.25);
    expect(half.byClass.good).toEqual({ precision: 0.75, recall: 0.75, f1: 0.75, support: 4 });
    // At 0.25: six predicted bad, every bad but the one at 0.2 caught.
    expect(own.cut).toBe(0.25);
    expect(own.confusion).toEqual({ tp: 3, fp: 3, tn: 1, fn: 1 });
    expect(own.precision).toBe(0.5);
    expect(own.tnr).toBe(0.25);
  });

  it("ranks: AUC, log loss, curves and the top-share table", () => {
    const r = qualityReport(y, p);
    // Pairs (bad, good) ranked right: 0.9 and 0.8 above all four goods, 0.6 above three, 0.2
    // above one: 12 of 16.
    expect(r.rocAuc).toBeCloseTo(12 / 16, 12);
    const expectedLoss =
      -(
        Math.log(0.9) +
        Math.log(0.8) +
        Math.log(1 - 0.7) +
        Math.log(0.6) +
        Math.log(1 - 0.4) +
        Math.log(1 - 0.3) +
        Math.log(0.2) +
        Math.log(1 - 0.1)
      ) / 8;
    expect(r.logLoss).toBeCloseTo(expectedLoss, 12);
    expect(r.roc[0]).toEqual({ fpr: 0, tpr: 0, threshold: Infinity });
    expect(r.roc.at(-1)).toMatchObject({ fpr: 1, tpr: 1 });
    expect(r.precisionRecall[0]).toEqual({ recall: 0.25, precision: 1, threshold: 0.9 });
    expect(r.precisionRecall.at(-1)).toEqual({ recall: 1, precision: 0.5, threshold: 0.1 });
    expect(r.topShares).toHaveLength(20);
    const quarter = r.topShares[4];
    expect(quarter).toMatchObject({ share: 0.25, count: 2, probabilityCut: 0.8, tp: 2, fp: 0 });
    expect(quarter.lift).toBe(2);
    expect(r.topShares[19]).toMatchObject({ share: 1, count: 8, precision: 0.5, recall: 1 });
  });

  it("does not crash on one class or no rows: the figures are null and a note says why", () => {
    const oneClass = qualityReport(Uint8Array.of(0, 0, 0), Float64Array.of(0.2, 0.6, 0.1));
    expect(oneClass.rocAuc).toBeNull();
    expect(oneClass.roc).toEqual([]);
    expect(oneClass.precisionRecall).toEqual([]);
    expect(oneClass.notes).toEqual([
      "every known outcome is good: ROC AUC and the curves need both classes",
    ]);
    expect(oneClass.atCuts[0].recall).toBeNull();
    expect(oneClass.atCuts[0].accuracy).toBeCloseTo(2 / 3, 12);
    const none = qualityReport(new Uint8Array(0), new Float64Array(0));
    expect(none).toMatchObject({ rows: 0, atCuts: [], rocAuc: null, logLoss: null });
    expect(none.notes).toEqual(["no decision has a known outcome yet"]);
  });
});
