import { describe, expect, it } from "vitest";
import { foldScoresChart } from "./fold-scores-chart.js";
import { byClass, checkChart, texts } from "./chart-test-support.js";

describe("foldScoresChart", () => {
  it("draws the mean as a line through its value and writes mean ± SD", () => {
    const folds = [0.7, 0.8, 0.9].map((value, fold) => ({ repeat: 0, fold, value }));
    const root = checkChart(foldScoresChart({ title: "CV", metric: "AUC", folds }));
    expect(texts(root)).toContain("Mean ± SD = 0.800 ± 0.100");
    const [mean] = byClass(root, "mean");
    const middle = byClass(root, "fold")[1];
    expect(Number(mean.attrs.y1)).toBeCloseTo(Number(middle.attrs.cy), 1);
  });
});
