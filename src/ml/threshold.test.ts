import { describe, expect, it } from "vitest";
import { Rng } from "../core/rng.js";
import { expectedCost } from "./metrics/index.js";
import { bayesThreshold, chooseThreshold } from "./threshold.js";
import { GERMAN_CREDIT_COSTS } from "./types.js";

describe("chooseThreshold", () => {
  it("has the Bayes threshold fp/(fp + fn) = 1/6 for German credit", () => {
    expect(bayesThreshold(GERMAN_CREDIT_COSTS)).toBeCloseTo(1 / 6, 15);
  });

  it("picks the cheapest cut, mid-way when the Bayes threshold lies outside it", () => {
    // Cuts (flag p ≥ u): 0.05 → 3, 0.1 → 2, 0.12 → 1 (one good refused), 0.3 → 6, 0.5 → 5,
    // 0.9 → 10, nobody → 15. Optimal interval (0.1, 0.12]; 1/6 is above it.
    const y = [0, 0, 1, 0, 1, 1];
    const p = [0.05, 0.1, 0.12, 0.3, 0.5, 0.9];
    const t = chooseThreshold(y, p, GERMAN_CREDIT_COSTS);
    expect(t).toBeCloseTo(0.11, 12);
    expect(expectedCost(y, p, t)).toBe(1 / 6);
  });

  it("returns the Bayes threshold itself when it is among the optimal ones", () => {
    expect(chooseThreshold([0, 0, 1, 1], [0.05, 0.1, 0.2, 0.3], GERMAN_CREDIT_COSTS)).toBe(1 / 6);
  });

  it("breaks cost ties towards the Bayes threshold", () => {
    const costs = { falseNegative: 1, falsePositive: 1 };
    // Flagging p ≥ 0.3 and flagging nobody both cost 1; 0.5 is nearer (0.1, 0.3] than (0.9, 1].
    expect(chooseThreshold([0, 1, 0], [0.1, 0.3, 0.9], costs)).toBeCloseTo(0.2, 12);
    // Mirror image: now the upper interval is nearer.
    expect(chooseThreshold([0, 1, 0], [0.1, 0.7, 0.9], costs)).toBe(0.5);
    // Flagging everybody ([0, 0.3]) ties with flagging p ≥ 0.95 ((0.9, 0.95]); the first is nearer.
    expect(chooseThreshold([1, 0, 1], [0.3, 0.9, 0.95], costs)).toBeCloseTo(0.15, 12);
    // Two cuts cost 1, [0, 0.05] and (0.75, 0.8]; the second is nearer 0.5.
    expect(chooseThreshold([1, 0, 1], [0.05, 0.75, 0.8], costs)).toBeCloseTo(0.775, 12);
  });

  it("can flag everybody or nobody", () => {
    expect(chooseThreshold([1, 1, 1], [0.3, 0.4, 0.5], GERMAN_CREDIT_COSTS)).toBe(1 / 6);
    const none = chooseThreshold([0, 0, 0], [0.3, 0.4, 0.5], GERMAN_CREDIT_COSTS);
    expect(none).toBeCloseTo(0.75, 12);
    expect(chooseThreshold([0, 0], [0.5, 1], GERMAN_CREDIT_COSTS)).toBeLessThanOrEqual(1);
  });

  it("matches a brute-force scan of the expected cost on random predictions", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + rng.int(200);
      const y = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
      // Coarse probabilities make many ties.
      const p = Float64Array.from(
        y,
        (v) => Math.round(Math.min(1, rng.next() * 0.7 + v * 0.3) * 40) / 40,
      );
      const costs = { falseNegative: 1 + rng.int(6), falsePositive: 1 + rng.int(3) };
      const best = Math.min(...[...p, 1.01].map((t) => expectedCost(y, p, t, costs)));
      const t = chooseThreshold(y, p, costs, 0);
      expect(t >= 0 && t <= 1).toBe(true);
      expect(expectedCost(y, p, t, costs)).toBeCloseTo(best, 12);
      // The default one-standard-error rule stays within one standard error of the minimum
      // (per-row costs lie in [0, fn], so their standard deviation is at most fn).
      const robust = expectedCost(y, p, chooseThreshold(y, p, costs), costs);
      expect(robust).toBeGreaterThanOrEqual(best - 1e-12);
      expect(robust).toBeLessThanOrEqual(best + costs.falseNegative / Math.sqrt(n) + 1e-12);
    }
  });
  it("does not leave the Bayes threshold for a gain within noise (one-standard-error rule)", () => {
    // 60 rows; flagging p ≥ 0.5 saves one refused good customer (cost 1) against flagging at 1/6.
    const p = Float64Array.from({ length: 60 }, (_, i) => (i < 40 ? 0.1 : i < 41 ? 0.3 : 0.6));
    const y = Uint8Array.from({ length: 60 }, (_, i) => (i >= 48 ? 1 : 0));
    const costs = { falseNegative: 5, falsePositive: 1 };
    const plain = chooseThreshold(y, p, costs, 0);
    expect(plain).toBeGreaterThan(0.3);
    expect(expectedCost(y, p, plain, costs)).toBeLessThan(expectedCost(y, p, 1 / 6, costs));
    expect(chooseThreshold(y, p, costs)).toBe(1 / 6);
  });
});
