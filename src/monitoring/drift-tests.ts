/**
 * The per-column drift tests of the drift spec (`shared/specs/drift.md`), computing the same
 * numbers as Evidently (0.7.x) and SciPy: two-sample Kolmogorov–Smirnov, chi-square goodness of
 * fit, two-proportion Z, normed Wasserstein, Jensen–Shannon distance, PSI and K–L divergence.
 * Each test takes two samples whose missing values were already dropped and says which test and
 * threshold produced its verdict.
 */
import { AppError } from "../core/errors.js";
import {
  binShares,
  fillZeroShares,
  unionKeys,
  valueCounts,
  type Sample,
  type SampleValue,
} from "./binning.js";
import { chiSquareSf, normalSf } from "./distributions.js";
import { ksTwoSamplePValue } from "./ks-distribution.js";

/** Column kinds the tests distinguish. */
export type ColumnKind = "numeric" | "categorical";

/** Test names, spelled as Evidently's `stattest` names so dashboards can keep their labels. */
export type DriftTestName =
  "ks" | "chisquare" | "z" | "wasserstein" | "jensenshannon" | "psi" | "kl_div";

/** What a test's score is and when it means drift. */
export interface DriftTestInfo {
  readonly name: DriftTestName;
  readonly label: string;
  /** A p-value (drift when small) or a distance (drift when large). */
  readonly score: "p_value" | "distance";
  readonly defaultThreshold: number;
  /** Column kinds the test accepts. */
  readonly kinds: readonly ColumnKind[];
}

/**
 * Every test with its default threshold. Drift rules (as Evidently): KS p <= threshold;
 * chi-square and Z p < threshold; every distance >= threshold.
 */
export const DRIFT_TESTS: Readonly<Record<DriftTestName, DriftTestInfo>> = {
  ks: info("ks", "two-sample Kolmogorov–Smirnov", "p_value", 0.05, ["numeric"]),
  chisquare: info("chisquare", "chi-square goodness of fit", "p_value", 0.05),
  z: info("z", "two-proportion Z", "p_value", 0.05),
  wasserstein: info("wasserstein", "normed Wasserstein distance", "distance", 0.1, ["numeric"]),
  jensenshannon: info("jensenshannon", "Jensen–Shannon distance", "distance", 0.1),
  psi: info("psi", "population stability index", "distance", 0.1),
  kl_div: info("kl_div", "Kullback–Leibler divergence", "distance", 0.1),
};

function info(
  name: DriftTestName,
  label: string,
  score: DriftTestInfo["score"],
  defaultThreshold: number,
  kinds: readonly ColumnKind[] = ["numeric", "categorical"],
): DriftTestInfo {
  return { name, label, score, defaultThreshold, kinds };
}

/** True when `name` is one of the test names. */
export function isDriftTestName(name: unknown): name is DriftTestName {
  return typeof name === "string" && Object.hasOwn(DRIFT_TESTS, name);
}

/**
 * Size of the difference, shown beside a p-value because large samples make tiny differences
 * significant: KS → the statistic D itself; chi-square → Cramér's V of the 2×k table
 * (reference/current × category), which stays in [0, 1] even when a category is new; Z →
 * Cohen's h = |2·asin√p̂1 − 2·asin√p̂2|.
 */
export interface EffectSize {
  readonly measure: "ks_d" | "cramers_v" | "cohens_h";
  readonly value: number;
}

/** The outcome of one test on one column. */
export interface DriftTestResult {
  readonly test: DriftTestName;
  /** KS: D; chi-square: χ² (Infinity for a category only in current); Z: z; distances: the score. */
  readonly statistic: number;
  /** The p-value for p-value tests (null when undefined, e.g. one shared category); null for distances. */
  readonly pValue: number | null;
  readonly threshold: number;
  readonly drift: boolean;
  readonly effectSize?: EffectSize;
  /** Why a result is degenerate (e.g. "one category on both sides: p-value undefined"). */
  readonly note?: string;
}

/**
 * Two-sided two-sample KS test; p equals `scipy.stats.ks_2samp(ref, cur).pvalue`, drift when
 * p <= threshold. The statistic is SciPy's (snapped to a multiple of 1/lcm(n1, n2) when exact).
 *
 * @example ksTest(Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), Float64Array.of(3, 4, 5, 6, 7, 8, 9, 10, 11, 12), 0.05)
 * // { test: "ks", statistic: 0.2, pValue: 0.9944575548290717, drift: false, ... }
 */
export function ksTest(
  reference: Float64Array,
  current: Float64Array,
  threshold: number,
): DriftTestResult {
  const a = Float64Array.from(reference).sort();
  const b = Float64Array.from(current).sort();
  const { statistic, pValue } = ksTwoSamplePValue(a.length, b.length, ksStatistic(a, b));
  return {
    test: "ks",
    statistic,
    pValue,
    threshold,
    drift: pValue <= threshold,
    effectSize: { measure: "ks_d", value: statistic },
  };
}

/**
 * sup |F_a − F_b| over the pooled values, for sorted samples, evaluated as SciPy does (ECDF
 * values i/n1 and j/n2 as doubles, then the larger of the positive and negative extremes).
 */
export function ksStatistic(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let maxDiff = -Infinity;
  let minDiff = Infinity;
  while (i < a.length || j < b.length) {
    const x = Math.min(i < a.length ? a[i] : Infinity, j < b.length ? b[j] : Infinity);
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
    const diff = i / a.length - j / b.length;
    if (diff > maxDiff) maxDiff = diff;
    if (diff < minDiff) minDiff = diff;
  }
  const minS = Math.min(Math.max(-minDiff, 0), 1);
  return minS > maxDiff ? minS : maxDiff;
}

/**
 * Chi-square goodness of fit of the current counts against the reference shares, over the union
 * of categories: expected = ref_count × (n_cur / n_ref), dof = k − 1, drift when p < threshold.
 * A category seen only in current has expected 0, so χ² = Infinity and p = 0. With a single
 * category on both sides the p-value is undefined (SciPy: NaN): reported as null, no drift.
 *
 * @example chiSquareTest(["a", "a", "b", "b", "c", "c"], ["a", "a", "a", "b", "c", "c"], 0.05).pValue
 * // 0.6065306597126334 (χ² = 1 on 2 degrees of freedom)
 */
export function chiSquareTest(
  reference: ArrayLike<SampleValue>,
  current: ArrayLike<SampleValue>,
  threshold: number,
): DriftTestResult {
  const refCounts = valueCounts(reference);
  const curCounts = valueCounts(current);
  const keys = unionKeys(refCounts, curCounts);
  return chiSquareFromCounts(
    keys.map((k) => refCounts.get(k) ?? 0),
    keys.map((k) => curCounts.get(k) ?? 0),
    reference.length,
    current.length,
    threshold,
  );
}

/**
 * `chiSquareTest` on counts per category of the union (the streaming engine keeps counts, not
 * values): χ² of the current counts against the reference shares, and Cramér's V of the 2×k
 * table (√(χ²/N) with two rows; 0 for k = 1). Sums run in the order of the categories given.
 */
export function chiSquareFromCounts(
  ref: ArrayLike<number>,
  cur: ArrayLike<number>,
  nRef: number,
  nCur: number,
  threshold: number,
): DriftTestResult {
  const keys = ref.length;
  const total = nRef + nCur;
  let chi2 = 0;
  for (let t = 0; t < keys; t++) {
    const column = ref[t] + cur[t];
    for (const [observed, rowTotal] of [
      [ref[t], nRef],
      [cur[t], nCur],
    ]) {
      const expected = (rowTotal * column) / total;
      chi2 += (observed - expected) ** 2 / expected;
    }
  }
  const effectSize = {
    measure: "cramers_v" as const,
    value: keys < 2 ? 0 : Math.sqrt(chi2 / total),
  };
  if (keys < 2) {
    return {
      test: "chisquare",
      statistic: 0,
      pValue: null,
      threshold,
      drift: false,
      effectSize,
      note: "one category on both sides: p-value undefined",
    };
  }
  // Evidently scales by k_norm = n_cur / n_ref first; the same order gives the same doubles.
  const kNorm = nCur / nRef;
  let statistic = 0;
  for (let t = 0; t < keys; t++) {
    const expected = ref[t] * kNorm;
    statistic += (cur[t] - expected) ** 2 / expected;
  }
  const pValue = chiSquareSf(statistic, keys - 1);
  return { test: "chisquare", statistic, pValue, threshold, drift: pValue < threshold, effectSize };
}

function compareValues(a: SampleValue, b: SampleValue): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
}

/**
 * Two-proportion Z test, Evidently's rule: if both windows hold the same single value, p = 1.
 * Otherwise the smallest value of the union maps to 0 and every other value to 1;
 * z = (p̂1 − p̂2)/√(P(1−P)(1/n1 + 1/n2)) with p̂1 the reference share of 1s, and
 * p = 2·Φ(−|z|) (not 2·(1 − Φ(|z|)), which loses tiny p-values). Drift when p < threshold.
 *
 * @example zTest(Array(100).fill(0).map((_, i) => (i < 70 ? 1 : 0)), Array(100).fill(0).map((_, i) => (i < 55 ? 1 : 0)), 0.05).pValue
 * // 0.02845973691631065
 */
export function zTest(
  reference: ArrayLike<SampleValue>,
  current: ArrayLike<SampleValue>,
  threshold: number,
): DriftTestResult {
  const refCounts = valueCounts(reference);
  const curCounts = valueCounts(current);
  const keys = unionKeys(refCounts, curCounts).sort(compareValues);
  return zFromCounts(
    keys.length === 1,
    refCounts.get(keys[0]) ?? 0,
    curCounts.get(keys[0]) ?? 0,
    reference.length,
    current.length,
    threshold,
  );
}

/**
 * `zTest` from the counts of the union's smallest value in each window (`single`: the windows
 * hold one and the same value), for code that keeps counts rather than values.
 */
export function zFromCounts(
  single: boolean,
  refAtMin: number,
  curAtMin: number,
  n1: number,
  n2: number,
  threshold: number,
): DriftTestResult {
  if (single) {
    const effectSize = { measure: "cohens_h" as const, value: 0 };
    return { test: "z", statistic: 0, pValue: 1, threshold, drift: false, effectSize };
  }
  const p1 = (n1 - refAtMin) / n1;
  const p2 = (n2 - curAtMin) / n2;
  const pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
  const statistic = (p1 - p2) / Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const pValue = 2 * normalSf(Math.abs(statistic));
  const h = Math.abs(2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2)));
  return {
    test: "z",
    statistic,
    pValue,
    threshold,
    drift: pValue < threshold,
    effectSize: { measure: "cohens_h", value: h },
  };
}

// Evidently's floor for the reference standard deviation, so constant columns do not divide by 0.
const MIN_WASSERSTEIN_NORM = 0.001;

/**
 * W1(ref, cur) / max(population std of ref, 0.001): `scipy.stats.wasserstein_distance` scaled
 * as Evidently does. Drift when the distance >= threshold.
 */
export function wassersteinTest(
  reference: Float64Array,
  current: Float64Array,
  threshold: number,
): DriftTestResult {
  const a = Float64Array.from(reference).sort();
  const b = Float64Array.from(current).sort();
  const statistic = wasserstein1(a, b) / Math.max(populationStd(reference), MIN_WASSERSTEIN_NORM);
  return { test: "wasserstein", statistic, pValue: null, threshold, drift: statistic >= threshold };
}

/** ∫ |F_a − F_b| dx for sorted samples, by walking the merged values once. */
export function wasserstein1(a: Float64Array, b: Float64Array): number {
  let i = 0;
  let j = 0;
  let total = 0;
  while (i < a.length || j < b.length) {
    const x = Math.min(i < a.length ? a[i] : Infinity, j < b.length ? b[j] : Infinity);
    while (i < a.length && a[i] <= x) i++;
    while (j < b.length && b[j] <= x) j++;
    const next = Math.min(i < a.length ? a[i] : Infinity, j < b.length ? b[j] : Infinity);
    if (next === Infinity) break;
    total += Math.abs(i / a.length - j / b.length) * (next - x);
  }
  return total;
}

/** Standard deviation with divisor n (`np.std`), two-pass. */
export function populationStd(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return Math.sqrt(squares / values.length);
}

/** x·ln(x/y) with SciPy `rel_entr`'s conventions (0 when x = 0). */
function relativeEntropy(x: number, y: number): number {
  if (x > 0 && y > 0) return x * Math.log(x / y);
  return x === 0 && y >= 0 ? 0 : Infinity;
}

function normalised(shares: Float64Array): Float64Array {
  const total = shares.reduce((s, v) => s + v, 0);
  return shares.map((v) => v / total);
}

/**
 * Jensen–Shannon distance (`scipy.spatial.distance.jensenshannon`, natural log): the square
 * root of the JS divergence of the binned shares, renormalised, no zero fill. In [0, √ln 2].
 */
export function jensenShannonTest(
  reference: Sample,
  current: Sample,
  threshold: number,
): DriftTestResult {
  const shares = binShares(reference, current);
  return distanceFromShares("jensenshannon", shares.reference, shares.current, threshold);
}

/** PSI = Σ (r − c)·ln(r/c) over the binned shares after Evidently's zero fill, not renormalised. */
export function psiTest(reference: Sample, current: Sample, threshold: number): DriftTestResult {
  const shares = binShares(reference, current);
  return distanceFromShares("psi", shares.reference, shares.current, threshold);
}

/** KL(ref ‖ cur) (`scipy.stats.entropy`) of the zero-filled shares, renormalised to sum 1. */
export function klTest(reference: Sample, current: Sample, threshold: number): DriftTestResult {
  const shares = binShares(reference, current);
  return distanceFromShares("kl_div", shares.reference, shares.current, threshold);
}

/** The three share distances from the binned shares of each window (drift when ≥ threshold). */
export function distanceFromShares(
  test: "jensenshannon" | "psi" | "kl_div",
  refShares: Float64Array,
  curShares: Float64Array,
  threshold: number,
): DriftTestResult {
  let statistic = 0;
  if (test === "jensenshannon") {
    const p = normalised(refShares);
    const q = normalised(curShares);
    let divergence = 0;
    for (let i = 0; i < p.length; i++) {
      const m = (p[i] + q[i]) / 2;
      divergence += relativeEntropy(p[i], m) + relativeEntropy(q[i], m);
    }
    statistic = Math.sqrt(divergence / 2);
  } else if (test === "psi") {
    const r = fillZeroShares(refShares);
    const c = fillZeroShares(curShares);
    for (let i = 0; i < r.length; i++) statistic += (r[i] - c[i]) * Math.log(r[i] / c[i]);
  } else {
    const p = normalised(fillZeroShares(refShares));
    const q = normalised(fillZeroShares(curShares));
    for (let i = 0; i < p.length; i++) statistic += relativeEntropy(p[i], q[i]);
  }
  return { test, statistic, pValue: null, threshold, drift: statistic >= threshold };
}

/** The values of two numeric samples (the caller has checked the kind). */
function numericPair(reference: Sample, current: Sample): [Float64Array, Float64Array] {
  if (reference.kind !== "numeric" || current.kind !== "numeric") {
    throw new AppError("INTERNAL", "numericPair: samples are not numeric");
  }
  return [reference.values, current.values];
}

/**
 * Run test `name` on two non-empty samples of the same kind. KS and Wasserstein need numeric
 * columns (INVALID_ARGUMENT otherwise).
 *
 * @example runDriftTest("psi", { kind: "categorical", values: ["a", "b"] }, { kind: "categorical", values: ["b", "b"] }, 0.1).drift // true
 */
export function runDriftTest(
  name: DriftTestName,
  reference: Sample,
  current: Sample,
  threshold: number,
): DriftTestResult {
  if (reference.kind !== current.kind || !DRIFT_TESTS[name].kinds.includes(reference.kind)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `drift test "${name}" does not apply to ${reference.kind} columns (it accepts ${DRIFT_TESTS[name].kinds.join(", ")})`,
    );
  }
  if (reference.values.length === 0 || current.values.length === 0) {
    throw new AppError("INVALID_ARGUMENT", `drift test "${name}" needs values on both sides`);
  }
  switch (name) {
    case "ks":
      return ksTest(...numericPair(reference, current), threshold);
    case "wasserstein":
      return wassersteinTest(...numericPair(reference, current), threshold);
    case "chisquare":
      return chiSquareTest(reference.values, current.values, threshold);
    case "z":
      return zTest(reference.values, current.values, threshold);
    case "jensenshannon":
      return jensenShannonTest(reference, current, threshold);
    case "psi":
      return psiTest(reference, current, threshold);
    case "kl_div":
      return klTest(reference, current, threshold);
  }
}
