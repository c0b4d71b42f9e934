import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.js";
import { informationValue, selectByIv } from "./feature-selection.js";
import type { LabeledTable } from "./types.js";

describe("information value", () => {
  it("matches a hand computation with smoothing 0.5", () => {
    // Level 0: 8 good, 2 bad; level 1: 2 good, 8 bad. Shares with 0.5 added per bin (B = 2):
    // bad 2.5/11 and 8.5/11, good 8.5/11 and 2.5/11 → IV = 2 · (6/11) · ln(8.5/2.5).
    const level = Float64Array.from({ length: 20 }, (_, i) => (i < 10 ? 0 : 1));
    const y = Uint8Array.from({ length: 20 }, (_, i) =>
      i < 10 ? (i < 2 ? 1 : 0) : i < 12 ? 0 : 1,
    );
    const t: LabeledTable = {
      features: [{ name: "level", kind: "categorical", nCategories: 2 }],
      columns: [level],
      n: 20,
      y,
    };
    expect(informationValue(t)[0]).toBeCloseTo((12 / 11) * Math.log(3.4), 12);
    expect(informationValue(t, { smoothing: 0 })[0]).toBeCloseTo(2 * 0.6 * Math.log(4), 12);
  });

  it("bins numeric features at quantiles, keeping ties together", () => {
    // 1…4 scale: at most four bins whatever the bin count; IV is the same as categorical.
    const scale = Float64Array.from({ length: 40 }, (_, i) => 1 + (i % 4));
    const y = Uint8Array.from(scale, (v) => (v >= 3 ? 1 : 0));
    const t: LabeledTable = {
      features: [
        { name: "scale", kind: "numeric" },
        { name: "same", kind: "categorical", nCategories: 5 },
      ],
      columns: [scale, scale],
      n: 40,
      y,
    };
    const iv = informationValue(t);
    expect(iv[0]).toBeCloseTo(iv[1], 12);
    expect(iv[0]).toBeGreaterThan(1);
  });

  it("ranks an informative feature above noise and keeps all for k = 0", () => {
    const rng = new Rng(3);
    // Enough rows that the upward bias of IV on pure noise (~(bins − 1)/rows) stays small.
    const n = 2000;
    const y = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
    const noise = Float64Array.from({ length: n }, () => rng.next());
    const signal = Float64Array.from(y, (v) => v + rng.normal());
    const cat = Float64Array.from(y, (v) => (rng.next() < 0.7 ? v : 1 - v));
    const t: LabeledTable = {
      features: [
        { name: "noise", kind: "numeric" },
        { name: "signal", kind: "numeric" },
        { name: "cat", kind: "categorical", nCategories: 2 },
      ],
      columns: [noise, signal, cat],
      n,
      y,
    };
    const iv = informationValue(t);
    expect(iv[0]).toBeLessThan(0.1);
    expect(iv[1]).toBeGreaterThan(0.2);
    expect(selectByIv(t, 1)).toEqual([1]);
    expect(selectByIv(t, 2)).toEqual([1, 2]);
    expect(selectByIv(t, 0)).toEqual([0, 1, 2]);
    expect(selectByIv(t, 5)).toEqual([0, 1, 2]);
  });

  it("is zero for a constant feature and puts missing values in their own bin", () => {
    const y = Uint8Array.of(0, 1, 0, 1, 0, 1);
    const t: LabeledTable = {
      features: [
        { name: "constant", kind: "numeric" },
        { name: "missing", kind: "numeric" },
      ],
      columns: [Float64Array.of(2, 2, 2, 2, 2, 2), Float64Array.of(1, NaN, 1, NaN, 1, NaN)],
      n: 6,
      y,
    };
    const iv = informationValue(t);
    expect(iv[0]).toBe(0);
    // Two bins, (3 good, 0 bad) and (0 good, 3 bad): shares 3.5/4 against 0.5/4.
    expect(iv[1]).toBeCloseTo(2 * (3 / 4) * Math.log(7), 12);
  });

  it("bins a missing category on its own, and scores an all-missing feature zero", () => {
    // Level 0 and level 1 alike (1 bad of 2 each); every NaN row bad.
    const y = Uint8Array.of(0, 1, 0, 1, 1, 1);
    const t: LabeledTable = {
      features: [
        { name: "level", kind: "categorical", nCategories: 2 },
        { name: "blank", kind: "numeric" },
      ],
      columns: [Float64Array.of(0, 0, 1, 1, NaN, NaN), new Float64Array(6).fill(NaN)],
      n: 6,
      y,
    };
    const iv = informationValue(t, { smoothing: 0.5 });
    // B = 3 bins; bad shares 1.5/5.5, 1.5/5.5, 2.5/5.5; good shares 1.5/3.5, 1.5/3.5, 0.5/3.5.
    const pb = [1.5 / 5.5, 1.5 / 5.5, 2.5 / 5.5];
    const pg = [1.5 / 3.5, 1.5 / 3.5, 0.5 / 3.5];
    const expected = pb.reduce((a, b, s) => a + (b - pg[s]) * Math.log(b / pg[s]), 0);
    expect(iv[0]).toBeCloseTo(expected, 12);
    expect(iv[1]).toBe(0);
    expect(selectByIv(t, 1)).toEqual([0]);
  });
});
