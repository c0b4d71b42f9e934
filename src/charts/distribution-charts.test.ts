import { describe, expect, it } from "vitest";
import { categoryComparisonChart, histogramChart } from "./distribution-charts.js";
import { all, checkChart, drawnText, texts, type XmlElement } from "./chart-test-support.js";

describe("histogramChart and categoryComparisonChart", () => {
  it("normalises each series to its share of rows", () => {
    const root = checkChart(
      histogramChart({
        title: "H",
        xLabel: "x",
        bins: 2,
        domain: [0, 2],
        series: [
          { name: "A", values: [0.5, 1.5, 1.5, 1.5, NaN] },
          { name: "B", values: [0.5, 0.5, 7] },
        ],
      }),
    );
    const tips = all(root, (e) => e.name === "rect").flatMap((e) =>
      e.children.filter((c): c is XmlElement => typeof c !== "string").map(drawnText),
    );
    expect(tips).toEqual([
      "A, 0.000 to 1.000: 25.0%",
      "A, 1.000 to 2.000: 75.0%",
      "B, 0.000 to 1.000: 66.7%",
    ]);
    expect(texts(root)).toEqual(
      expect.arrayContaining([
        "A (n = 4)",
        "B (n = 3)",
        "1 missing or non-numeric value skipped. 1 value outside the plotted range not shown.",
      ]),
    );
  });

  it("draws one bar per category and series, skipping missing shares", () => {
    const root = checkChart(
      categoryComparisonChart({
        title: "C",
        categories: ["a", "b", "c"],
        series: [
          { name: "Ref", shares: [0.2, 0.3, 0.5] },
          { name: "Cur", shares: [0.1, NaN] },
        ],
      }),
    );
    expect(
      all(root, (e) => e.name === "g" && e.attrs.class === "series").map((g) => g.children.length),
    ).toEqual([3, 1]);
    expect(drawnText(all(root, (e) => e.name === "desc")[0])).toContain(
      "2 missing, extra or non-numeric shares skipped.",
    );
  });
});
