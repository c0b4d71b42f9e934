import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../core/rng.js";
import { DEFAULT_DATA_PATH, defaultSpec, readDataset } from "../data/index.js";
import { PROFILE_ROWS, buildReferenceProfile } from "./reference-profile.js";

const GERMAN = defaultSpec();

describe("reference profile of a large training set", () => {
  let columns: Float64Array[];
  let duration: number;

  beforeAll(async () => {
    const { table } = await readDataset(DEFAULT_DATA_PATH);
    // 50,000 rows resampled from German credit.
    const rng = new Rng(4);
    const rows = Int32Array.from({ length: 50_000 }, () => rng.int(table.n));
    columns = table.columns.map((c) => Float64Array.from(rows, (r) => c[r]));
    duration = table.features.findIndex((f) => f.name === "duration");
  });

  it("profiles every row up to PROFILE_ROWS", () => {
    const small = columns.map((c) => c.slice(0, 1000));
    const profile = buildReferenceProfile(GERMAN, small, small[duration]);
    expect(profile.rows).toBe(1000);
    expect(profile.sampledFrom).toBeUndefined();
    const d = profile.columns.find((c) => c.name === "duration");
    expect(d?.kind === "numeric" && d.sorted).toEqual(
      Array.from(small[duration]).sort((a, b) => a - b),
    );
  });

  it("profiles a fixed uniform sample of PROFILE_ROWS rows, the same rows for every column", () => {
    // The model's probabilities stand in as the duration, so the same rows give the same values.
    const profile = buildReferenceProfile(GERMAN, columns, columns[duration]);
    expect(profile.rows).toBe(PROFILE_ROWS);
    expect(profile.sampledFrom).toBe(50_000);
    for (const c of profile.columns) {
      const held =
        c.kind === "numeric" ? c.sorted.length : Object.values(c.counts).reduce((a, b) => a + b, 0);
      expect(held + c.missing, c.name).toBe(PROFILE_ROWS);
    }
    const d = profile.columns.find((c) => c.name === "duration");
    expect(d?.kind === "numeric" && d.sorted).toEqual(profile.probabilityBad);
    // A uniform sample: its mean duration is within a few standard errors of the whole one.
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(profile.probabilityBad) - mean(columns[duration]))).toBeLessThan(0.4);
    // Seeded: the same data gives the same profile.
    expect(buildReferenceProfile(GERMAN, columns, columns[duration])).toEqual(profile);
  });
});
