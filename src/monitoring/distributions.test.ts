import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { expectRelClose } from "./drift-test-support.js";
import {
  chiSquareSf,
  kolmogorovSf,
  logGamma,
  normalCdf,
  normalSf,
  twoProduct,
  upperGammaQ,
} from "./distributions.js";

describe("normalCdf / normalSf", () => {
  // True values (mpmath, 30 digits): the tails keep full relative precision, where
  // scipy.stats.norm.cdf is off by up to ~2e-13 near z = −35.
  it.each([
    [-1, 0.15865525393145705],
    [-5, 2.866515718791939e-7],
    [-8.5, 9.479534822203318e-18],
    [-10, 7.619853024160525e-24],
    [-20, 2.7536241186062337e-89],
    [-37, 5.725571222524577e-300],
  ])("Φ(%d) to a few ulps", (z, expected) => {
    expectRelClose(normalCdf(z), expected, 2e-15);
  });

  it("Φ(−10) matches the brief's reference value 7.619853024160527e-24", () => {
    expectRelClose(normalCdf(-10), 7.619853024160527e-24, 1e-15);
  });

  it("is symmetric, 1/2 at 0 and 0.025 at the 97.5% quantile", () => {
    expect(normalCdf(0)).toBe(0.5);
    expectRelClose(normalSf(1.959963984540054), 0.025, 1e-15);
    expectRelClose(normalCdf(0.3) + normalCdf(-0.3), 1, 1e-16);
    expectRelClose(normalCdf(0.3), 0.6179114221889526, 1e-15);
  });

  it("underflows gracefully and propagates NaN", () => {
    expect(normalSf(40)).toBe(0);
    expect(normalCdf(40)).toBe(1);
    expect(normalSf(NaN)).toBeNaN();
  });
});

describe("twoProduct", () => {
  it("returns the rounding error of a product exactly", () => {
    const [hi, lo] = twoProduct(0.1, 3);
    expect(hi).toBe(0.30000000000000004);
    // Exact 0.1·3 − hi, computed with Python fractions.Fraction.
    expect(lo).toBe(-2.7755575615628914e-17);
  });
});

describe("logGamma", () => {
  it.each([
    [0.5, 0.5723649429247001],
    [10.5, 13.940625219403763],
    [1000, 5905.220423209181],
  ])("logGamma(%d)", (a, expected) => {
    expectRelClose(logGamma(a), expected, 1e-14);
  });

  it("is (almost) zero at 1 and 2", () => {
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-15);
    expect(Math.abs(logGamma(2))).toBeLessThan(1e-15);
  });

  it("rejects a <= 0", () => {
    expect(() => logGamma(0)).toThrow(AppError);
  });
});

describe("chiSquareSf", () => {
  // scipy.stats.chi2.sf
  it.each([
    [3.84145882069412, 1, 0.05000000000000028],
    [2.375, 2, 0.3049827687110593],
    [10, 3, 0.01856613546304325],
    [12, 4, 0.01735126523666451],
    [150, 100, 0.0009039320423540184],
    [1e-3, 1, 0.9747728793699604],
  ])("chi2.sf(%d, %d)", (x, dof, expected) => {
    expectRelClose(chiSquareSf(x, dof), expected, 1e-13);
  });

  it("keeps relative precision in the far tail of many degrees of freedom", () => {
    // mpmath: Q(2000, 2500) = 1.6633156038804353e-25 (SciPy: 1.6633156038804178e-25).
    expectRelClose(chiSquareSf(5000, 4000), 1.6633156038804353e-25, 1e-12);
  });

  it("is 1 at x <= 0 and 0 at x = Infinity", () => {
    expect(chiSquareSf(0, 3)).toBe(1);
    expect(chiSquareSf(-1, 3)).toBe(1);
    expect(chiSquareSf(Infinity, 3)).toBe(0);
    expect(chiSquareSf(NaN, 3)).toBeNaN();
  });

  it("rejects dof <= 0", () => {
    expect(() => chiSquareSf(1, 0)).toThrow(/dof must be > 0/);
  });
});

describe("upperGammaQ", () => {
  it("equals e^−x for a = 1 on both sides of the series/fraction switch", () => {
    expectRelClose(upperGammaQ(1, 2), Math.exp(-2), 1e-15);
    expectRelClose(upperGammaQ(1, 1.5), Math.exp(-1.5), 1e-15);
    expectRelClose(upperGammaQ(1, 30), Math.exp(-30), 1e-14);
  });

  it("rejects invalid arguments", () => {
    expect(() => upperGammaQ(-1, 1)).toThrow(AppError);
    expect(() => upperGammaQ(1, -1)).toThrow(AppError);
  });
});

describe("kolmogorovSf (scipy.special.kolmogorov = kstwobign.sf)", () => {
  it.each([
    [0.5, 0.9639452436648751],
    [1, 0.26999967167735456],
    [1.36, 0.049485876755377876],
    [2, 0.0006709252557796953],
    [3, 3.045995948942526e-8],
  ])("K(%d)", (x, expected) => {
    expectRelClose(kolmogorovSf(x), expected, 1e-14);
  });

  it("is 1 at and below 0 and NaN for NaN", () => {
    expect(kolmogorovSf(0)).toBe(1);
    expect(kolmogorovSf(0.03)).toBe(1);
    expect(kolmogorovSf(NaN)).toBeNaN();
  });
});
