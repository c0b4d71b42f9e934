import { describe, expect, it } from "vitest";
import { Rng } from "../core/index.js";
import { rocAuc } from "../ml/metrics/index.js";
import { rocCurveChart } from "./line-charts.js";
import {
  all,
  checkChart,
  curvePoints,
  drawnText,
  polylinePoints,
  texts,
} from "./chart-test-support.js";

describe("rocCurveChart", () => {
  it("draws one point per threshold in order and puts the AUC in the legend", () => {
    const root = checkChart(
      rocCurveChart({ scoresBad: [0.9, 0.8, 0.7, 0.6], labelsBad: [1, 0, 1, 0] }),
    );
    expect(texts(root)).toContain("Model (AUC = 0.750)");
    expect(texts(root)).toContain("Chance (AUC = 0.500)");
    expect(curvePoints(root)).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    const px = polylinePoints(root);
    expect(px[px.length - 1][1]).toBeLessThan(px[0][1]); // higher TPR is drawn higher up
  });

  it("moves tied scores together as one diagonal step", () => {
    const root = checkChart(
      rocCurveChart({ scoresBad: [0.5, 0.5, 0.2, 0.9], labelsBad: [false, true, false, true] }),
    );
    expect(curvePoints(root)).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    expect(texts(root)).toContain("Model (AUC = 0.875)");
  });

  it("draws a curve whose area is the tie-aware AUC of ml/metrics shown in the legend", () => {
    const rng = new Rng(11);
    const y = Array.from({ length: 300 }, () => (rng.next() < 0.3 ? 1 : 0));
    const score = y.map((v) => Math.round((0.3 * v + rng.next()) * 10) / 10); // 14 distinct values
    const auc = rocAuc(y, score);
    // Two more rows the chart must skip (NaN score, invalid label) before computing anything.
    const root = checkChart(
      rocCurveChart({ scoresBad: [...score, NaN, 0.5], labelsBad: [...y, 1, 2] }),
    );
    expect(texts(root).find((t) => t.startsWith("Model ("))).toBe(
      `Model (AUC = ${auc.toFixed(3)})`,
    );
    // The drawn curve, integrated by trapezoids (exact for the tie diagonals), has that area; the
    // rank-sum AUC is an independent computation. Stepping through ties (all bad rows of a tie
    // first, or all good rows first) would be off by more than 0.02 on this data.
    const pts = curvePoints(root);
    let area = 0;
    for (let i = 1; i < pts.length; i++) {
      area += ((pts[i][0] - pts[i - 1][0]) * (pts[i][1] + pts[i - 1][1])) / 2;
    }
    expect(area).toBeCloseTo(auc, 3);
  });

  it("skips NaN scores, says so, and copes with a single class", () => {
    const svg = rocCurveChart({ scoresBad: [NaN, 0.4, 0.7, NaN], labelsBad: [1, 0, 1, 0] });
    const root = checkChart(svg);
    expect(drawnText(all(root, (e) => e.name === "desc")[0])).toContain(
      "2 rows with a missing score or label skipped.",
    );
    const oneClass = checkChart(rocCurveChart({ scoresBad: [0.1, 0.2], labelsBad: [0, 0] }));
    expect(texts(oneClass)).toContain("Model (AUC n/a: needs both classes)");
    expect(texts(oneClass)).toContain("ROC needs both good and bad rows");
  });

  it("rejects labels and scores of different lengths", () => {
    expect(() => rocCurveChart({ scoresBad: [0.1], labelsBad: [0, 1] })).toThrow(RangeError);
  });
});
