import { describe, expect, it } from "vitest";
import { DEFAULT_DATA_PATH, readDataset, defaultSpec, featureColumns } from "../data/index.js";
import type { DriftColumn } from "./columns.js";
import { ivStrength, profileData } from "./explore.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

describe("data profile", () => {
  it("gives the weight of evidence and information value of German credit's checking status", async () => {
    const { table } = await readDataset(DEFAULT_DATA_PATH);
    const columns: DriftColumn[] = GERMAN_COLUMNS.map((c, j) =>
      c.kind === "numeric"
        ? { name: c.name, kind: "numeric", values: Float64Array.from(table.columns[j]) }
        : {
            name: c.name,
            kind: "categorical",
            values: Array.from(table.columns[j], (v) => c.values[v]?.value ?? null),
          },
    );
    const profile = profileData(columns, { column: "class", values: table.y });
    expect(profile.rows).toBe(1000);
    expect(profile.label).toEqual({ column: "class", bad: 300, badRate: 0.3 });
    const checking = profile.columns.find((c) => c.column === "checking_status")!;
    // Goods and bads per status in the data: <0 139/135, 0<=X<200 164/105, >=200 49/14,
    // no checking 348/46. WoE = ln(share of goods / share of bads); IV sums (g − b)·WoE.
    const counts: Record<string, [number, number]> = {
      "<0": [139, 135],
      "0<=X<200": [164, 105],
      ">=200": [49, 14],
      "no checking": [348, 46],
    };
    let iv = 0;
    for (const bin of checking.bins) {
      const [good, bad] = counts[bin.label];
      const woe = Math.log(good / 700 / (bad / 300));
      iv += (good / 700 - bad / 300) * woe;
      expect(bin.count).toBe(good + bad);
      expect(bin.bad).toBe(bad);
      expect(bin.woe).toBeCloseTo(woe, 12);
      expect(bin.badRate).toBeCloseTo(bad / (good + bad), 12);
    }
    expect(checking.informationValue).toBeCloseTo(iv, 12);
    // The figure scorecard texts quote for this column.
    expect(checking.informationValue).toBeCloseTo(0.666, 3);
    expect(ivStrength(checking.informationValue!)).toBe("suspiciously strong");
    expect(checking.smoothed).toBe(false);
    // Most frequent first.
    expect(checking.bins[0].label).toBe("no checking");

    const duration = profile.columns.find((c) => c.column === "duration")!;
    expect(duration.stats).toMatchObject({ min: 4, max: 72, quantiles: { p50: 18 } });
    expect(duration.bins.reduce((a, b) => a + b.count, 0)).toBe(1000);
    expect(duration.bins.length).toBeLessThanOrEqual(10);
    expect(duration.informationValue).toBeGreaterThan(0.1);
  });

  it("counts missing values, smooths a bin without bads, and works without a label", () => {
    const columns: DriftColumn[] = [
      { name: "x", kind: "numeric", values: Float64Array.of(1, 2, NaN, 4, 5, 6) },
      { name: "c", kind: "categorical", values: ["a", "a", "b", null, "b", "c"] },
    ];
    const labelled = profileData(columns, { column: "y", values: [1, 0, 1, 0, NaN, 0] });
    const c = labelled.columns[1];
    expect(c).toMatchObject({ missing: 1, missingShare: 1 / 6, distinct: 3, smoothed: true });
    // "c" has only a good: smoothing keeps its WoE finite (and positive: safer than average).
    const cBin = c.bins.find((b) => b.label === "c")!;
    expect(Number.isFinite(cBin.woe)).toBe(true);
    expect(cBin.woe).toBeGreaterThan(0);
    expect(labelled.columns[0]).toMatchObject({ missing: 1, distinct: 5 });
    const plain = profileData(columns);
    expect(plain.label).toBeNull();
    expect(plain.columns[0].informationValue).toBeUndefined();
    expect(plain.columns[0].bins.every((b) => b.woe === undefined)).toBe(true);
    expect(plain.columns[0].stats?.mean).toBeCloseTo(3.6, 12);
  });
});
