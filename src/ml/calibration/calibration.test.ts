import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { METRICS } from "../metrics/index.js";
import {
  IsotonicCalibrator,
  PlattCalibrator,
  calibratorFromJSON,
  fitCalibrator,
  fitIsotonic,
  fitPlatt,
  isotonicRegression,
} from "./index.js";

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Scores s ~ N(0, 1.5²) with labels drawn from P(bad) = σ(a·s + b). */
function synthetic(n: number, a: number, b: number, seed: number) {
  const rng = new Rng(seed);
  const s = new Float64Array(n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = 1.5 * rng.normal();
    y[i] = rng.next() < sigmoid(a * s[i] + b) ? 1 : 0;
  }
  return { s, y };
}

describe("Platt scaling", () => {
  it("recovers a known slope and intercept", () => {
    const { s, y } = synthetic(20000, 1.7, -0.8, 1);
    const cal = fitPlatt(s, y);
    expect(cal.a).toBeCloseTo(1.7, 1);
    expect(cal.b).toBeCloseTo(-0.8, 1);
    expect(Math.abs(cal.a - 1.7)).toBeLessThan(0.08);
    expect(Math.abs(cal.b + 0.8)).toBeLessThan(0.06);
  });

  it("fits the same map from probabilities as from their log-odds", () => {
    const { s, y } = synthetic(3000, 0.6, 0.3, 2);
    const raw = fitPlatt(s, y);
    const proba = fitPlatt(s.map(sigmoid), y, "proba");
    expect(proba.a).toBeCloseTo(raw.a, 6);
    expect(proba.b).toBeCloseTo(raw.b, 6);
    expect(proba.applyOne(sigmoid(0.4))).toBeCloseTo(raw.applyOne(0.4), 6);
  });

  it("uses Platt's smoothed targets, so separable scores give a finite map", () => {
    // Perfectly separated: plain maximum likelihood would send the slope to infinity.
    const cal = fitPlatt([-2, -1, 1, 2], [0, 0, 1, 1]);
    expect(Number.isFinite(cal.a)).toBe(true);
    expect(cal.a).toBeGreaterThan(0);
    // Targets 3/4 (bad) and 1/4 (good). By symmetry b = 0 and p(−s) = 1 − p(s); the slope's
    // first-order condition Σ (p − t)·s = 0 then reads 2·p(2) + p(1) = 9/4.
    expect(cal.b).toBeCloseTo(0, 8);
    const p = cal.apply([-2, -1, 1, 2]);
    expect(p[0] + p[3]).toBeCloseTo(1, 8);
    expect(2 * p[3] + p[2]).toBeCloseTo(2.25, 8);
  });
});

describe("isotonic regression", () => {
  it("pools adjacent violators into block means at block centres", () => {
    const fit = isotonicRegression([1, 2, 3, 4, 5], [1, 3, 2, 4, 3.5]);
    expect(Array.from(fit.x)).toEqual([1, 2.5, 4.5]);
    expect(Array.from(fit.y)).toEqual([1, 2.5, 3.75]);
    const cal = new IsotonicCalibrator(fit.x, fit.y);
    expect(cal.applyOne(2)).toBeCloseTo(2, 12);
    expect(cal.applyOne(0)).toBe(1);
    expect(cal.applyOne(9)).toBe(3.75);
  });

  it("pools tied inputs and merges equal means", () => {
    const fit = isotonicRegression([1, 1, 2, 3], [0, 1, 1, 1]);
    expect(Array.from(fit.x)).toEqual([1, 2.5]);
    expect(Array.from(fit.y)).toEqual([0.5, 1]);
    const weighted = isotonicRegression([1, 2], [1, 0], [3, 1]);
    expect(Array.from(weighted.y)).toEqual([0.75]);
    expect(Array.from(weighted.x)).toEqual([1.25]);
  });

  it("is monotone and lowers the Brier score of an over-confident model", () => {
    // True risk σ(s); the model reports σ(3s + 1), far too sure and biased towards bad.
    const { s, y } = synthetic(6000, 1, 0, 3);
    const fitRows = (i: number) => i % 2 === 0;
    const model = s.map((v) => sigmoid(3 * v + 1));
    const fitP = model.filter((_, i) => fitRows(i));
    const fitY = y.filter((_, i) => fitRows(i));
    const testP = model.filter((_, i) => !fitRows(i));
    const testY = y.filter((_, i) => !fitRows(i));
    const cal = fitIsotonic(fitP, fitY, "proba");
    const grid = Float64Array.from({ length: 1001 }, (_, i) => i / 1000);
    const mapped = cal.apply(grid);
    for (let i = 1; i < mapped.length; i++) expect(mapped[i]).toBeGreaterThanOrEqual(mapped[i - 1]);
    for (const v of mapped) expect(v >= 0 && v <= 1).toBe(true);
    const before = METRICS.brier.compute(testY, testP);
    const after = METRICS.brier.compute(testY, cal.apply(testP));
    expect(after).toBeLessThan(before - 0.01);
    expect(METRICS.ece.compute(testY, cal.apply(testP))).toBeLessThan(0.03);
    expect(METRICS.ece.compute(testY, testP)).toBeGreaterThan(0.1);
  });

  it("keeps infinite scores finite", () => {
    const cal = fitIsotonic([-Infinity, -1, 1, Infinity], [0, 0, 1, 1]);
    expect(cal.apply([-Infinity, -3, 0, 3, Infinity]).every((v) => Number.isFinite(v))).toBe(true);
    expect(cal.applyOne(Infinity)).toBe(1);
  });
});

describe("calibrator JSON", () => {
  it("round-trips every method and keeps the input kind", () => {
    const { s, y } = synthetic(500, 1.2, -0.5, 4);
    for (const method of ["platt", "isotonic", "none"] as const) {
      const cal = fitCalibrator(method, s, y);
      const back = calibratorFromJSON(JSON.parse(JSON.stringify(cal.toJSON())));
      expect(back.method).toBe(method);
      expect(back.input).toBe("raw");
      expect(Array.from(back.apply(s))).toEqual(Array.from(cal.apply(s)));
    }
    expect(fitCalibrator("none", [0.3], [1], "proba").applyOne(0.3)).toBe(0.3);
    expect(fitCalibrator("none", [0], [1]).applyOne(0)).toBe(0.5);
    expect(fitCalibrator("platt", s, y)).toBeInstanceOf(PlattCalibrator);
  });

  it("refuses malformed calibrators", () => {
    expect(() => calibratorFromJSON({ method: "beta" })).toThrow(/unknown method/);
    expect(() => calibratorFromJSON({ method: "platt", a: "1", b: 0 })).toThrow(/finite/);
    expect(() => calibratorFromJSON({ method: "isotonic", x: [1, 0], y: [0.1, 0.2] })).toThrow(
      /increasing/,
    );
    expect(() => calibratorFromJSON({ method: "isotonic", x: [0, 1], y: [0.3, 0.2] })).toThrow(
      /increasing/,
    );
    expect(() => calibratorFromJSON({ method: "none", input: "logit" })).toThrow(/input/);
  });
});
