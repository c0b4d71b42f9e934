import { describe, expect, it } from "vitest";
import { expectRelClose } from "./drift-test-support.js";
import { KS_EXACT_MAX_N, ksTwoSamplePValue, kstwoSf } from "./ks-distribution.js";

describe("kstwoSf (scipy.stats.kstwo.sf)", () => {
  // One reference value from SciPy 1.17 for every branch of `_kolmogn(n, d, cdf=False)`.
  it.each([
    ["Ruben–Gambino, d <= 1/n, n <= 140", 0.008, 100, 1],
    ["Ruben–Gambino, d <= 1/n, n > 140", 0.0009, 1000, 1],
    ["Ruben–Gambino, d >= 1 − 1/n", 0.995, 100, 1.5777218104421636e-230],
    ["d >= 1/2: 2·Smirnov", 0.6, 20, 2.0483011649719853e-7],
    ["n <= 140, n·d² <= 0.754693: Durbin matrix", 0.05, 100, 0.9532159710635725],
    ["n <= 140, n·d² <= 4: Pomeranz", 0.15, 100, 0.019839242125643017],
    ["n <= 140, n·d² > 4: 2·Smirnov", 0.3, 100, 1.7719869892662917e-8],
    ["n > 140, n·d² >= 370: 0", 0.2, 10_000, 0],
    ["n > 140, n·d² >= 2.2: 2·Smirnov", 0.06, 1000, 0.001428597887952891],
    ["2·Smirnov with ~3·10^5 terms", 0.004515874685026974, 300_000, 9.676751409194866e-6],
    ["n > 140, small n·d^1.5: Durbin matrix", 0.01, 1000, 0.9999496745370611],
    ["n > 140, larger n·d^1.5: Pelz–Good", 0.03, 1000, 0.3226902143914636],
    ["n > 100000: Pelz–Good", 0.003, 200_000, 0.0545369786611305],
    ["n > 10^6: Smirnov's approximation", 0.002, 2_000_000, 2.247704493692889e-7],
  ])("%s", (_branch, d, n, expected) => {
    expectRelClose(kstwoSf(d, n), expected);
  });

  it("matches SciPy where the spec's large sample would fall back to it", () => {
    // kstwo.sf(0.14133, round(2000·1500/3500) = 857)
    expectRelClose(kstwoSf(0.14133, 857), 2.1313822132281608e-15);
  });

  it("handles the ends of the support and invalid n", () => {
    expect(kstwoSf(0, 10)).toBe(1);
    expect(kstwoSf(1, 10)).toBe(0);
    expect(kstwoSf(0.5, 1.5)).toBeNaN();
    expect(kstwoSf(NaN, 10)).toBeNaN();
  });
});

describe("ksTwoSamplePValue (scipy.stats.ks_2samp, two-sided, method auto)", () => {
  it("reproduces the spec's small vector exactly (equal sizes: prob outside the square)", () => {
    const r = ksTwoSamplePValue(10, 10, 0.2);
    expect(r.method).toBe("exact");
    expect(r.statistic).toBe(0.2);
    expectRelClose(r.pValue, 0.9944575548290717);
  });

  it("uses the exact lattice-path recursion for unequal sizes up to 10000", () => {
    const r = ksTwoSamplePValue(2000, 1500, 0.14133333333333334);
    expect(r.method).toBe("exact");
    expectRelClose(r.pValue, 2.2261270729796155e-15);
  });

  it("snaps the statistic to a multiple of 1/lcm(n1, n2) as SciPy reports it", () => {
    const r = ksTwoSamplePValue(300, 300, 0.13333333333333336);
    expect(r.statistic).toBe(40 / 300);
    expectRelClose(r.pValue, 0.00958895491281293);
  });

  it("returns p = 1 when D rounds to zero lattice steps", () => {
    expect(ksTwoSamplePValue(50, 70, 0)).toEqual({ statistic: 0, pValue: 1, method: "exact" });
  });

  it(`switches to kstwo.sf(D, round(n1·n2/(n1+n2))) above ${KS_EXACT_MAX_N}`, () => {
    const r = ksTwoSamplePValue(12_000, 800, 0.118);
    expect(r.method).toBe("asymp");
    expect(r.statistic).toBe(0.118);
    expectRelClose(r.pValue, 1.4807346352691e-9);
  });

  it("rounds n1·n2/(n1+n2) half to even, as numpy.round", () => {
    // 10001·10001/20002 = 5000.5 → 5000 (kstwo.sf(D, 5001) would be 2.3037927844143447e-14).
    const r = ksTwoSamplePValue(10_001, 10_001, 0.05659434056594337);
    expectRelClose(r.pValue, 2.3186084684661747e-14);
  });
});
