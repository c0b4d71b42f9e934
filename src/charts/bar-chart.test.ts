import { describe, expect, it } from "vitest";
import { barChart } from "./bar-chart.js";
import { FONT, textWidth } from "./svg.js";
import { all, byClass, checkChart, drawnText } from "./chart-test-support.js";

describe("barChart", () => {
  const long =
    "purpose=domestic appliance & <repairs> and a great deal more text that will not fit";

  it("sorts horizontal bars by value and fits long labels inside the chart", () => {
    const bars = [
      { label: "duration", value: 0.1 },
      { label: long, value: 0.3 },
      { label: "age", value: 0.2 },
    ];
    const root = checkChart(
      barChart({ title: "Importance", xLabel: "Gain", bars, horizontal: true }),
    );
    const labels = all(
      root,
      (e) =>
        e.name === "text" &&
        e.attrs["text-anchor"] === "end" &&
        e.children.some((c) => typeof c !== "string" && c.name === "title"),
    );
    expect(labels.map((e) => drawnText(e))).toEqual([
      expect.stringMatching(/^purpose=domestic appliance & <repairs>.*…$/),
      "age",
      "duration",
    ]);
    for (const e of labels)
      expect(Number(e.attrs.x) - textWidth(drawnText(e), FONT.tick)).toBeGreaterThanOrEqual(0);
    expect(byClass(root, "value").map(drawnText)).toEqual(["0.300", "0.200", "0.100"]);
    // The left margin grows with the labels.
    const short = checkChart(
      barChart({ title: "I", xLabel: "G", bars: [{ label: "a", value: 1 }], horizontal: true }),
    );
    expect(Number(byClass(short, "bar")[0].attrs.x)).toBeLessThan(
      Number(byClass(root, "bar")[0].attrs.x),
    );
  });

  it("keeps vertical bars in input order and skips NaN values", () => {
    const root = checkChart(
      barChart({
        title: "Folds",
        xLabel: "Fold",
        bars: [
          { label: "1", value: 0.7 },
          { label: "2", value: NaN },
          { label: "3", value: 0.8 },
        ],
      }),
    );
    expect(byClass(root, "value").map(drawnText)).toEqual(["0.700", "0.800"]);
    expect(drawnText(all(root, (e) => e.name === "desc")[0])).toContain(
      "1 bar with a missing or non-numeric value skipped.",
    );
  });
});
