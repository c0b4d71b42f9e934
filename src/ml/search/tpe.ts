/**
 * Tree-structured Parzen Estimator (Bergstra et al., 2011), univariate as in hyperopt and
 * Optuna's default `TPESampler`: once `startupTrials` trials are done, the trials are split at
 * the `gamma(n)` best into a good and a bad group, each parameter gets one Parzen density per
 * group, l(x) from the good and g(x) from the bad, and the next value of that parameter is the
 * one of `candidates` draws from l that maximises l(x)/g(x).
 *
 * Numeric densities are mixtures of Gaussians truncated to the range, in the transformed space
 * (log for log ranges), one kernel per observation plus a wide prior kernel; each bandwidth is
 * the larger distance to its sorted neighbours, clipped to [range / min(100, 1 + kernels),
 * range] (Optuna's "magic clip", which keeps the early densities from collapsing onto one
 * point). Int values are scored by the probability mass of their unit-wide bin. Choices use
 * category frequencies smoothed by the prior. Defaults follow Optuna: 10 startup trials,
 * 24 candidates, gamma(n) = min(⌈0.1 n⌉, 25), prior weight 1, and beyond 25 observations
 * older trials get linearly smaller weights.
 */
import type { Rng } from "../../core/rng.js";
import type { Params } from "../types.js";
import {
  sampleRandom,
  type ChoiceDim,
  type Dim,
  type NumericDim,
  type ParamValue,
} from "./space.js";

export interface TpeOptions {
  /** Random trials before the model is used. Default 10. */
  readonly startupTrials?: number;
  /** Draws from l(x) per parameter among which the best l/g is kept. Default 24. */
  readonly candidates?: number;
  /** Weight of the prior kernel / smoothing of choices. Default 1. */
  readonly priorWeight?: number;
  /** Size of the good group for `n` finished trials. Default min(⌈0.1 n⌉, 25). */
  readonly gamma?: (n: number) => number;
  /**
   * Count trials whose parameters are chosen but not yet evaluated (same batch) as bad, so a
   * batch spreads out instead of repeating one point. Default true.
   */
  readonly constantLiar?: boolean;
}

/** A finished trial as the sampler sees it; NaN marks a failed evaluation (always "bad"). */
export interface Observation {
  readonly index: number;
  readonly params: Params;
  readonly value: number;
}

export const defaultGamma = (n: number): number => Math.min(Math.ceil(0.1 * n), 25);

/** Optuna's default observation weights: flat up to 25, then a ramp for the older ones. */
export function observationWeights(n: number): number[] {
  if (n < 25) return new Array<number>(n).fill(1);
  const ramp = n - 25;
  const w: number[] = [];
  for (let i = 0; i < ramp; i++)
    w.push(ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1));
  for (let i = 0; i < 25; i++) w.push(1);
  return w;
}

/**
 * Parameters for the next trial. `done` are the finished trials, `pending` the parameters
 * already chosen for the current batch. Deterministic given its arguments and the rng state.
 */
export function suggestTpe(
  dims: readonly Dim[],
  done: readonly Observation[],
  pending: readonly Params[],
  direction: "maximize" | "minimize",
  rng: Rng,
  opts: TpeOptions = {},
): Params {
  const startup = opts.startupTrials ?? 10;
  const nCandidates = opts.candidates ?? 24;
  const priorWeight = opts.priorWeight ?? 1;
  const gamma = opts.gamma ?? defaultGamma;
  if (done.length < Math.max(1, startup)) return sampleRandom(dims, rng);

  const sign = direction === "maximize" ? -1 : 1;
  const loss = (o: Observation): number => (Number.isNaN(o.value) ? Infinity : sign * o.value);
  const ranked = [...done].sort((a, b) => loss(a) - loss(b) || a.index - b.index);
  const nBelow = Math.min(done.length, Math.max(1, Math.floor(gamma(done.length))));
  const byIndex = (a: Observation, b: Observation): number => a.index - b.index;
  const below = ranked
    .slice(0, nBelow)
    .sort(byIndex)
    .map((o) => o.params);
  const above = ranked
    .slice(nBelow)
    .sort(byIndex)
    .map((o) => o.params);
  if (opts.constantLiar ?? true) above.push(...pending);
  const wBelow = observationWeights(below.length);
  const wAbove = observationWeights(above.length);

  const params: Params = {};
  for (const dim of dims) {
    const xb = below.map((p) => p[dim.name]);
    const xa = above.map((p) => p[dim.name]);
    params[dim.name] =
      dim.kind === "choice"
        ? suggestChoice(dim, xb, wBelow, xa, wAbove, priorWeight, nCandidates, rng)
        : suggestNumeric(dim, xb, wBelow, xa, wAbove, priorWeight, nCandidates, rng);
  }
  return params;
}

function suggestChoice(
  dim: ChoiceDim,
  xb: readonly ParamValue[],
  wb: readonly number[],
  xa: readonly ParamValue[],
  wa: readonly number[],
  priorWeight: number,
  nCandidates: number,
  rng: Rng,
): ParamValue {
  const k = dim.values.length;
  if (k === 1) return dim.values[0];
  const freq = (xs: readonly ParamValue[], ws: readonly number[]): Float64Array => {
    const p = new Float64Array(k).fill(priorWeight / k);
    xs.forEach((x, i) => {
      const c = dim.values.indexOf(x);
      if (c >= 0) p[c] += ws[i];
    });
    const total = p.reduce((s, v) => s + v, 0);
    return p.map((v) => v / total);
  };
  const pb = freq(xb, wb);
  const pa = freq(xa, wa);
  let best = -1;
  let bestScore = -Infinity;
  for (let j = 0; j < nCandidates; j++) {
    let u = rng.next();
    let c = 0;
    while (c < k - 1 && u >= pb[c]) u -= pb[c++];
    const score = Math.log(pb[c]) - Math.log(pa[c]);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return dim.values[best];
}

/** Gaussian mixture truncated to [lo, hi]. */
interface Mixture {
  readonly mu: Float64Array;
  readonly sigma: Float64Array;
  /** Normalised weights. */
  readonly weight: Float64Array;
  /** Mass of each kernel inside [lo, hi]. */
  readonly inside: Float64Array;
}

function suggestNumeric(
  dim: NumericDim,
  xb: readonly ParamValue[],
  wb: readonly number[],
  xa: readonly ParamValue[],
  wa: readonly number[],
  priorWeight: number,
  nCandidates: number,
  rng: Rng,
): number {
  const { lo, hi } = dim;
  if (!(hi > lo)) return dim.fromInternal(lo);
  const internal = (xs: readonly ParamValue[]): number[] =>
    xs.map((x) => dim.toInternal(x as number));
  const l = parzen(internal(xb), wb, lo, hi, priorWeight);
  const g = parzen(internal(xa), wa, lo, hi, priorWeight);
  const isInt = dim.spec.type === "int";
  const score = (value: number): number => {
    if (!isInt) {
      const t = dim.toInternal(value);
      return logDensity(l, t) - logDensity(g, t);
    }
    // The bin of integer v in the internal space.
    const a = Math.max(lo, dim.toInternal(value - 0.5));
    const b = Math.min(hi, dim.toInternal(value + 0.5));
    return logMass(l, a, b) - logMass(g, a, b);
  };
  let best = NaN;
  let bestScore = -Infinity;
  for (let j = 0; j < nCandidates; j++) {
    const value = dim.fromInternal(sampleMixture(l, lo, hi, rng));
    const s = score(value);
    if (s > bestScore || Number.isNaN(best)) {
      bestScore = s;
      best = value;
    }
  }
  return best;
}

function parzen(
  obs: readonly number[],
  w: readonly number[],
  lo: number,
  hi: number,
  priorWeight: number,
): Mixture {
  const range = hi - lo;
  const priorMu = 0.5 * (lo + hi);
  // Kernels in sorted order, the prior inserted among the observations where it falls.
  const order = obs.map((_, i) => i).sort((a, b) => obs[a] - obs[b]);
  const mus: number[] = [];
  const ws: number[] = [];
  let priorAt = -1;
  for (const i of order) {
    if (priorAt < 0 && obs[i] >= priorMu) {
      priorAt = mus.length;
      mus.push(priorMu);
      ws.push(priorWeight);
    }
    mus.push(obs[i]);
    ws.push(w[i]);
  }
  if (priorAt < 0) {
    priorAt = mus.length;
    mus.push(priorMu);
    ws.push(priorWeight);
  }
  const m = mus.length;
  const padded = [lo, ...mus, hi];
  const sigma = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    sigma[k] = Math.max(padded[k + 1] - padded[k], padded[k + 2] - padded[k + 1]);
  }
  // The range ends are not data: the outermost kernels look only at their inner neighbour.
  if (m >= 3) {
    sigma[0] = padded[2] - padded[1];
    sigma[m - 1] = padded[m] - padded[m - 1];
  }
  const minSigma = range / Math.min(100, 1 + m);
  for (let k = 0; k < m; k++) sigma[k] = Math.min(range, Math.max(minSigma, sigma[k]));
  sigma[priorAt] = range;

  const total = ws.reduce((s, v) => s + v, 0);
  const mu = Float64Array.from(mus);
  const weight = Float64Array.from(ws, (v) => v / total);
  const inside = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    inside[k] = normalMass((lo - mu[k]) / sigma[k], (hi - mu[k]) / sigma[k]);
  }
  return { mu, sigma, weight, inside };
}

function sampleMixture(mix: Mixture, lo: number, hi: number, rng: Rng): number {
  let u = rng.next();
  let k = 0;
  const last = mix.weight.length - 1;
  while (k < last && u >= mix.weight[k]) u -= mix.weight[k++];
  // Every kernel has at least ~1/3 of its mass inside (centre inside, sigma ≤ range), so
  // rejection almost never needs more than a few draws.
  for (let attempt = 0; attempt < 64; attempt++) {
    const x = mix.mu[k] + mix.sigma[k] * rng.normal();
    if (x >= lo && x <= hi) return x;
  }
  return Math.min(hi, Math.max(lo, mix.mu[k]));
}

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

function logDensity(mix: Mixture, x: number): number {
  const terms = new Float64Array(mix.mu.length);
  for (let k = 0; k < terms.length; k++) {
    const z = (x - mix.mu[k]) / mix.sigma[k];
    terms[k] =
      Math.log(mix.weight[k]) - Math.log(mix.sigma[k] * mix.inside[k]) - LOG_SQRT_2PI - 0.5 * z * z;
  }
  return logSumExp(terms);
}

function logMass(mix: Mixture, a: number, b: number): number {
  let p = 0;
  for (let k = 0; k < mix.mu.length; k++) {
    const s = mix.sigma[k];
    p += (mix.weight[k] * normalMass((a - mix.mu[k]) / s, (b - mix.mu[k]) / s)) / mix.inside[k];
  }
  // The prior kernel spans the whole range, so p underflows only for a degenerate bin.
  return p > 0 ? Math.log(p) : logDensity(mix, 0.5 * (a + b)) + Math.log(Math.max(b - a, 1e-300));
}

function logSumExp(xs: Float64Array): number {
  let max = -Infinity;
  for (const x of xs) if (x > max) max = x;
  if (max === -Infinity) return max;
  let s = 0;
  for (const x of xs) s += Math.exp(x - max);
  return max + Math.log(s);
}

/** P(a ≤ Z ≤ b) for a standard normal Z, computed on the tail that avoids cancellation. */
export function normalMass(a: number, b: number): number {
  if (!(b > a)) return 0;
  const r = Math.SQRT1_2;
  if (a >= 0) return 0.5 * (erfc(a * r) - erfc(b * r));
  if (b <= 0) return 0.5 * (erfc(-b * r) - erfc(-a * r));
  return 1 - 0.5 * erfc(-a * r) - 0.5 * erfc(b * r);
}

/** Complementary error function (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
