import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { binShares, fillZeroShares, sturgesEdges, type Sample } from "./binning.js";
import {
  chiSquareTest,
  jensenShannonTest,
  klTest,
  ksStatistic,
  ksTest,
  psiTest,
  runDriftTest,
  wasserstein1,
  wassersteinTest,
  zTest,
} from "./drift-tests.js";
import {
  expectRelClose,
  largeNumericCurrent,
  largeNumericReference,
  NEW_VALUE_CURRENT,
  NEW_VALUE_REFERENCE,
  range,
} from "./drift-test-support.js";

const numeric = (values: Float64Array): Sample => ({ kind: "numeric", values });
const categorical = (values: readonly string[]): Sample => ({ kind: "categorical", values });
const repeat = (counts: Record<string, number>): string[] =>
  Object.entries(counts).flatMap(([v, n]) => Array<string>(n).fill(v));

describe("spec vector: KS, ref = 1..10, cur = 3..12", () => {
  it("gives D = 0.2 and p = 0.9944575548290717 (no drift at 0.05)", () => {
    const r = ksTest(range(1, 10), range(3, 12), 0.05);
    expect(r.test).toBe("ks");
    expectRelClose(r.statistic, 0.2);
    expectRelClose(r.pValue, 0.9944575548290717);
    expect(r.drift).toBe(false);
    expect(r.effectSize).toEqual({ measure: "ks_d", value: r.statistic });
  });

  it("flags drift when p <= threshold (KS's rule is inclusive)", () => {
    const r = ksTest(range(1, 10), range(3, 12), 0.9944575548290717);
    expect(r.drift).toBe(true);
  });
});

describe("spec vector: chi-square, ref a/b/c = 5/5/5, cur = 8/3/5", () => {
  const ref = repeat({ a: 5, b: 5, c: 5 });
  const cur = repeat({ a: 8, b: 3, c: 5 });

  it("gives statistic 2.375 and p = 0.30498276871105917", () => {
    const r = chiSquareTest(ref, cur, 0.05);
    expectRelClose(r.statistic, 2.375);
    expectRelClose(r.pValue, 0.30498276871105917);
    expect(r.drift).toBe(false);
  });

  it("reports Cramér's V of the 2×k table beside the p-value", () => {
    // scipy.stats.contingency.association([[5,5,5],[8,3,5]], method="cramer", correction=False)
    expectRelClose(chiSquareTest(ref, cur, 0.05).effectSize?.value, 0.19354569459803514);
  });

  it("uses p < threshold (strict)", () => {
    expect(chiSquareTest(ref, cur, 0.30498276871105917).drift).toBe(false);
    expect(chiSquareTest(ref, cur, 0.31).drift).toBe(true);
  });
});

describe("spec vector: Z, n1 = n2 = 100, ones 70 vs 55", () => {
  const ref = Float64Array.from({ length: 100 }, (_, i) => (i < 70 ? 1 : 0));
  const cur = Float64Array.from({ length: 100 }, (_, i) => (i < 55 ? 1 : 0));

  it("gives z = 2.1908902300206634 and p = 0.02845973691631065 (drift)", () => {
    const r = zTest(ref, cur, 0.05);
    expectRelClose(r.statistic, 2.1908902300206634);
    expectRelClose(r.pValue, 0.02845973691631065);
    expect(r.drift).toBe(true);
  });

  it("reports Cohen's h = |2·asin√0.7 − 2·asin√0.55|", () => {
    expectRelClose(zTest(ref, cur, 0.05).effectSize?.value, 0.3113494249059281);
  });

  it("maps the smallest value to 0 and every other value to 1, also for labels", () => {
    const labels = (ones: number) =>
      Array.from({ length: 100 }, (_, i) => (i < ones ? (i % 2 ? "x" : "y") : "a"));
    expectRelClose(zTest(labels(70), labels(55), 0.05).pValue, 0.02845973691631065);
  });

  it("keeps tiny p-values (2·Φ(−|z|), not 2·(1 − Φ(|z|)))", () => {
    const a = Float64Array.from({ length: 1000 }, (_, i) => (i < 900 ? 1 : 0));
    const b = Float64Array.from({ length: 1000 }, (_, i) => (i < 300 ? 1 : 0));
    const r = zTest(a, b, 0.05);
    // z = 27.38612787525831; mpmath: 2·Φ(−z) = 4.012375541416541741e-165, where
    // 2·(1 − norm.cdf(z)) is 0.
    expectRelClose(r.pValue, 4.012375541416542e-165, 1e-12);
  });

  it("gives p = 1 when both windows hold the same single value", () => {
    const r = zTest(["k", "k"], ["k"], 0.05);
    expect(r).toMatchObject({ statistic: 0, pValue: 1, drift: false });
  });
});

describe("spec vector: large numeric, R_i = i mod 97, C_i = 7i mod 113", () => {
  const R = numeric(largeNumericReference());
  const C = numeric(largeNumericCurrent());

  it("normed Wasserstein = 0.3049243673104683", () => {
    const r = wassersteinTest(R.values as Float64Array, C.values as Float64Array, 0.1);
    expectRelClose(r.statistic, 0.3049243673104683);
    expect(r).toMatchObject({ test: "wasserstein", pValue: null, drift: true });
  });

  it("bins into 13 Sturges bins on [0, 112]", () => {
    const { reference, current, edges } = binShares(R, C);
    expect(edges?.length).toBe(14);
    expect(edges?.[0]).toBe(0);
    expect(edges?.[13]).toBe(112);
    expect(reference.length).toBe(13);
    // np.histogram(R, edges) counts / 2000
    const counts = [189, 189, 168, 189, 189, 168, 188, 160, 180, 180, 160, 40, 0];
    expect(Array.from(reference, (s) => Math.round(s * 2000))).toEqual(counts);
    expect(current.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
  });

  it("JS = 0.19920518090075134, PSI = 0.632417445189919, K–L = 0.12145620625323082", () => {
    expectRelClose(jensenShannonTest(R, C, 0.1).statistic, 0.19920518090075134);
    expectRelClose(psiTest(R, C, 0.1).statistic, 0.632417445189919);
    expectRelClose(klTest(R, C, 0.1).statistic, 0.12145620625323082);
  });

  it("KS D = 0.14133…, p ≈ 2.23e-15 (exact method)", () => {
    const r = ksTest(R.values as Float64Array, C.values as Float64Array, 0.05);
    expectRelClose(r.statistic, 0.14133333333333334);
    expectRelClose(r.pValue, 2.2261270729796155e-15);
    expect(r.drift).toBe(true);
  });
});

describe("spec vector: categorical with a new value, aaaabbbccd vs aabbbcccce", () => {
  const ref = categorical(NEW_VALUE_REFERENCE);
  const cur = categorical(NEW_VALUE_CURRENT);

  it("JS = 0.3213946567929747, PSI = 1.6574283769646092, K–L = 0.8286313253497696", () => {
    expectRelClose(jensenShannonTest(ref, cur, 0.1).statistic, 0.3213946567929747);
    expectRelClose(psiTest(ref, cur, 0.1).statistic, 1.6574283769646092);
    expectRelClose(klTest(ref, cur, 0.1).statistic, 0.8286313253497696);
  });

  it("chi-square: the new category has expected 0, so χ² = Infinity, p = 0, drift", () => {
    const r = chiSquareTest(NEW_VALUE_REFERENCE, NEW_VALUE_CURRENT, 0.05);
    expect(r.statistic).toBe(Infinity);
    expect(r.pValue).toBe(0);
    expect(r.drift).toBe(true);
    // Cramér's V stays finite: association([[4,3,2,1,0],[2,3,4,0,1]], "cramer")
    expectRelClose(r.effectSize?.value, 0.408248290463863);
  });
});

describe("chi-square edge cases", () => {
  it("has no p-value and no drift with a single shared category", () => {
    const r = chiSquareTest(["a", "a"], ["a"], 0.05);
    expect(r).toMatchObject({ statistic: 0, pValue: null, drift: false });
    expect(r.note).toMatch(/p-value undefined/);
    expect(r.effectSize?.value).toBe(0);
  });

  it("counts a category missing from current with its full expected count", () => {
    const r = chiSquareTest(repeat({ a: 5, b: 5 }), repeat({ a: 10 }), 0.05);
    // expected 5/5, observed 10/0 → (25 + 25)/5 = 10 on 1 dof
    expectRelClose(r.statistic, 10);
    expectRelClose(r.pValue, 0.001565402258002549);
  });
});

describe("binning and zero fill", () => {
  it("uses one bin per distinct value when the reference has at most 20 of them", () => {
    const ref = numeric(Float64Array.from({ length: 40 }, (_, i) => i % 20));
    const cur = numeric(Float64Array.of(0, 50));
    const { reference, current, edges } = binShares(ref, cur);
    expect(edges).toBeUndefined();
    expect(reference.length).toBe(21);
    expect(current.reduce((s, v) => s + v, 0)).toBe(1);
  });

  it("computes NumPy's Sturges bin count (power-of-two sizes keep ceil(log2 n + 1))", () => {
    const values = Float64Array.from({ length: 32 }, (_, i) => i / 3);
    expect(sturgesEdges(values, values).length - 1).toBe(7);
    const ints = Float64Array.from({ length: 40 }, (_, i) => i % 25);
    expect(sturgesEdges(ints, ints).length - 1).toBe(8);
  });

  it("reproduces NumPy's rounding of range / (range / (log2 n + 1))", () => {
    // 64 values over a range of 81.32702392002724: NumPy makes 8 bins, not ceil(log2 64 + 1) = 7.
    const r = 81.32702392002724;
    const values = Float64Array.from({ length: 32 }, (_, i) => (i === 31 ? r : (i * r) / 31));
    expect(sturgesEdges(values, values).length - 1).toBe(8);
  });

  it("widens bins to 1 for integer-valued data, like NumPy for integer dtypes", () => {
    // 2^22 values over a range of 21: Sturges' width 21/23 < 1 becomes 1 → 21 bins.
    const big = Float64Array.from({ length: 1 << 21 }, (_, i) => i % 22);
    expect(sturgesEdges(big, big).length - 1).toBe(21);
    const floats = big.map((v) => v + 0.5);
    expect(sturgesEdges(floats, floats).length - 1).toBe(23);
  });

  it("fills empty bins with 1e-4, or with the smallest share / 10^6 when that is <= 1e-4", () => {
    expect(Array.from(fillZeroShares(Float64Array.of(0.5, 0, 0.5)))).toEqual([0.5, 1e-4, 0.5]);
    const small = fillZeroShares(Float64Array.of(0.99995, 0.00005, 0));
    expect(small[2]).toBe(0.00005 / 1e6);
  });
});

describe("ksStatistic and wasserstein1", () => {
  it("evaluate the ECDFs after all ties at a value", () => {
    const a = Float64Array.of(1, 1, 2, 2);
    const b = Float64Array.of(1, 2, 2, 2);
    expect(ksStatistic(a, b)).toBe(0.25);
    expect(wasserstein1(a, b)).toBe(0.25);
  });

  it("are 0 for identical samples and for constants", () => {
    expect(ksStatistic(Float64Array.of(3, 3), Float64Array.of(3))).toBe(0);
    expect(wasserstein1(Float64Array.of(3, 3), Float64Array.of(3))).toBe(0);
  });
});

describe("runDriftTest", () => {
  it("dispatches by name", () => {
    const r = runDriftTest("psi", categorical(["a", "b"]), categorical(["b", "b"]), 0.1);
    expect(r.test).toBe("psi");
    expect(r.drift).toBe(true);
  });

  it("refuses KS and Wasserstein on categorical columns", () => {
    expect(() => runDriftTest("ks", categorical(["a"]), categorical(["b"]), 0.05)).toThrow(
      AppError,
    );
    expect(() => runDriftTest("wasserstein", categorical(["a"]), categorical(["b"]), 0.1)).toThrow(
      /does not apply to categorical/,
    );
  });

  it("refuses empty samples", () => {
    expect(() => runDriftTest("z", categorical([]), categorical(["b"]), 0.05)).toThrow(
      /both sides/,
    );
  });

  it("gives a normed Wasserstein distance for a constant reference (std floor 0.001)", () => {
    const r = runDriftTest(
      "wasserstein",
      numeric(Float64Array.of(5, 5)),
      numeric(Float64Array.of(5.001)),
      0.1,
    );
    expectRelClose(r.statistic, 1, 1e-9);
  });
});
