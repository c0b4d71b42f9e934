import type { CostMatrix } from "./types.js";

/**
 * The threshold that a perfectly calibrated model should use: flag a row as bad when
 * p · falseNegative ≥ (1 − p) · falsePositive, i.e. p ≥ fp / (fp + fn) (1/6 for German credit).
 */
export function bayesThreshold(costs: CostMatrix): number {
  return costs.falsePositive / (costs.falsePositive + costs.falseNegative);
}

/**
 * The decision threshold (flag as bad when p ≥ threshold) with the lowest expected cost per
 * applicant on the given, out-of-fold, predictions.
 *
 * Every distinct probability u is scanned as a cut: all thresholds in (previous u, u] give the
 * same decisions and so the same cost. The empirical minimum is noisy (a few hundred rows, costs
 * of 1 and 5), so cuts whose cost lies within `standardErrors` standard errors of the minimum
 * count as optimal (the one-standard-error rule), and among them the answer leans towards the
 * Bayes threshold fp/(fp + fn), which is right for calibrated probabilities: if an optimal
 * interval contains it, the Bayes threshold itself is returned; otherwise the midpoint of the
 * optimal interval nearest to it. Both avoid returning an observed probability, where a new
 * applicant with that same score would sit on the edge. With `standardErrors = 0` the plain
 * empirical minimum is used. Returns a value in [0, 1].
 *
 * On the German credit data (5 × 10-fold CV, seeds 1 and 2; seed 0 kept for evaluation), the
 * one-standard-error rule lowered the blend's expected cost from 0.539 / 0.538 to 0.527 / 0.534
 * against the plain minimum.
 */
export function chooseThreshold(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  costs: CostMatrix,
  standardErrors = 1,
): number {
  const n = y.length;
  if (p.length !== n) throw new RangeError(`${n} labels but ${p.length} probabilities`);
  const bayes = bayesThreshold(costs);
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(p[i])) throw new RangeError(`probability ${i} is NaN`);
    values.push(i);
  }
  if (n === 0) return bayes;
  values.sort((a, b) => p[a] - p[b]);
  const u: number[] = [];
  const badAt: number[] = [];
  const goodAt: number[] = [];
  let totalBad = 0;
  for (const i of values) {
    if (u.length === 0 || p[i] !== u[u.length - 1]) {
      u.push(p[i]);
      badAt.push(0);
      goodAt.push(0);
    }
    if (y[i]) {
      badAt[u.length - 1]++;
      totalBad++;
    } else goodAt[u.length - 1]++;
  }
  const totalGood = n - totalBad;
  const K = u.length;
  // Cut k ∈ [0, K]: rows with p ≥ u[k] are flagged (k = K flags nobody). Interval (lo, hi].
  const lows: number[] = [];
  const highs: number[] = [];
  const cost: number[] = [];
  const fnAt: number[] = [];
  const fpAt: number[] = [];
  let badBelow = 0;
  let goodBelow = 0;
  for (let k = 0; k <= K; k++) {
    const lo = k === 0 ? Math.min(0, u[0]) : u[k - 1];
    const hi = k === K ? 1 : u[k];
    if (k > 0) {
      badBelow += badAt[k - 1];
      goodBelow += goodAt[k - 1];
    }
    // Flagging nobody needs a threshold above every probability; impossible within [0, 1]
    // when some probability is already 1.
    if (hi > lo || k === 0) {
      lows.push(lo);
      highs.push(hi);
      fnAt.push(badBelow);
      fpAt.push(totalGood - goodBelow);
      cost.push(badBelow * costs.falseNegative + (totalGood - goodBelow) * costs.falsePositive);
    }
  }
  let bestK = 0;
  for (let k = 1; k < cost.length; k++) if (cost[k] < cost[bestK]) bestK = k;
  const best = cost[bestK];
  // Standard error of the total cost at the best cut: per-row costs are 0, fp or fn.
  const mean = best / n;
  const meanSq =
    (fnAt[bestK] * costs.falseNegative ** 2 + fpAt[bestK] * costs.falsePositive ** 2) / n;
  const se = Math.sqrt(Math.max(0, meanSq - mean * mean) / n) * n;
  const tolerance = standardErrors * se + 1e-9 * Math.max(1, Math.abs(best));
  let answer = NaN;
  let distance = Infinity;
  for (let k = 0; k < cost.length; k++) {
    if (cost[k] > best + tolerance) continue;
    const lo = lows[k];
    const hi = highs[k];
    if ((bayes > lo || (k === 0 && bayes >= lo)) && bayes <= hi) return bayes;
    const dist = bayes <= lo ? lo - bayes : bayes - hi;
    if (dist < distance) {
      distance = dist;
      answer = (lo + hi) / 2;
    }
  }
  return Math.min(1, Math.max(0, answer));
}
