import { describe, expect, it } from "vitest";
import { calibrationChart } from "./calibration-chart.js";
import { all, byClass, checkChart, drawnText } from "./chart-test-support.js";

describe("calibrationChart", () => {
  it("shows the rows per non-empty bin and the mean predicted vs observed rate", () => {
    const svg = calibrationChart({
      probabilities: [0.05, 0.08, 0.15, 0.55, 0.58, 0.95, 1, NaN, 1.5],
      labelsBad: [0, 0, 1, 0, 1, 1, 1, 1, 0],
    });
    const root = checkChart(svg);
    expect(byClass(root, "bin-count-label").map(drawnText)).toEqual(["2", "1", "2", "2"]);
    expect(byClass(root, "bin")).toHaveLength(4);
    const desc = drawnText(all(root, (e) => e.name === "desc")[0]);
    expect(desc).toContain(
      "0.065 → 0.000 (2 rows); 0.150 → 1.000 (1 rows); 0.565 → 0.500 (2 rows); 0.975 → 1.000 (2 rows)",
    );
    expect(desc).toContain("2 rows with a missing or out-of-range probability skipped.");
    // Bar heights grow with the counts: the 1-row bin is half as tall as the 2-row bins.
    const heights = byClass(root, "bin-count").map((e) => Number(e.attrs.height));
    expect(heights[1]).toBeCloseTo(heights[0] / 2, 1);
  });
});
