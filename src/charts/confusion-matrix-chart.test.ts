import { describe, expect, it } from "vitest";
import { confusionMatrixChart } from "./confusion-matrix-chart.js";
import { byClass, checkChart, drawnText, texts } from "./chart-test-support.js";

describe("confusionMatrixChart", () => {
  it("shows each count with its row percentage, actual rows and predicted columns", () => {
    const root = checkChart(confusionMatrixChart({ matrix: { tp: 7, fp: 3, tn: 50, fn: 11 } }));
    expect(byClass(root, "count").map(drawnText)).toEqual(["50", "3", "11", "7"]); // TN FP / FN TP
    const t = texts(root);
    for (const s of [
      "94.3% of actual good",
      "5.7% of actual good",
      "61.1% of actual bad",
      "38.9% of actual bad",
      "Actual",
      "Predicted",
    ]) {
      expect(t).toContain(s);
    }
  });

  it("copes with an all-zero matrix and invalid counts", () => {
    const root = checkChart(confusionMatrixChart({ matrix: { tp: 0, fp: NaN, tn: -1, fn: 0 } }));
    expect(byClass(root, "count").map(drawnText)).toEqual(["0", "0", "0", "0"]);
    expect(texts(root)).toContain("2 missing or negative counts shown as 0.");
  });
});
