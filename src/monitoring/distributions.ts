/**
 * Distribution functions the drift tests need, written out so results match SciPy without a
 * statistics dependency: the standard normal CDF and its complement, the chi-square survival
 * function and the limiting Kolmogorov distribution. (The finite-n Kolmogorov–Smirnov
 * distributions live in `ks-distribution.ts`.) Every function is pure and works on doubles.
 */
import { AppError } from "../core/errors.js";

const MACHINE_EPSILON = Number.EPSILON;
const SQRT_2PI = Math.sqrt(2 * Math.PI);

// 1/sqrt(2) split into the nearest double and the remainder, so z/sqrt(2) can be carried with
// twice the working precision: erfc(y) loses about 2y^2 ulps to an error in y, which would be
// ~1e-13 relative at the far end of the double range.
const SQRT1_2_HI = Math.SQRT1_2;
const SQRT1_2_LO = -4.833646656726457e-17;

// W. J. Cody, "Rational Chebyshev approximations for the error function", Math. Comp. 1969
// (CALERF, 1990 revision): near-minimax coefficients good to ~18 digits on each interval.
const ERF_A = [
  3.1611237438705655, 113.86415415105016, 377.485237685302, 3209.3775891384694, 0.18577770618460315,
];
const ERF_B = [23.601290952344122, 244.02463793444417, 1282.6165260773723, 2844.236833439171];
const ERFC_C = [
  0.5641884969886701, 8.883149794388375, 66.11919063714163, 298.6351381974001, 881.952221241769,
  1712.0476126340707, 2051.0783778260716, 1230.3393547979972, 2.1531153547440383e-8,
];
const ERFC_D = [
  15.744926110709835, 117.6939508913125, 537.1811018620099, 1621.3895745666903, 3290.7992357334597,
  4362.619090143247, 3439.3676741437216, 1230.3393548037493,
];
const ERFC_P = [
  0.30532663496123236, 0.36034489994980445, 0.12578172611122926, 0.01608378514874228,
  0.0006587491615298378, 0.016315387137302097,
];
const ERFC_Q = [
  2.568520192289822, 1.8729528499234604, 0.5279051029514285, 0.06051834131244132,
  0.0023352049762686918,
];
const ONE_OVER_SQRT_PI = 0.5641895835477563;
const ERF_SMALL = 0.46875;

/** erf(y) for |y| <= 0.46875 (Cody's first interval). */
function erfSmall(y: number): number {
  const ysq = y * y;
  let num = ERF_A[4] * ysq;
  let den = ysq;
  for (let i = 0; i < 3; i++) {
    num = (num + ERF_A[i]) * ysq;
    den = (den + ERF_B[i]) * ysq;
  }
  return (y * (num + ERF_A[3])) / (den + ERF_B[3]);
}

/** exp(y^2) * erfc(y) for y > 0.46875 (Cody's second and third intervals). */
function erfcxLarge(y: number): number {
  if (y <= 4) {
    let num = ERFC_C[8] * y;
    let den = y;
    for (let i = 0; i < 7; i++) {
      num = (num + ERFC_C[i]) * y;
      den = (den + ERFC_D[i]) * y;
    }
    return (num + ERFC_C[7]) / (den + ERFC_D[7]);
  }
  const r = 1 / (y * y);
  let num = ERFC_P[5] * r;
  let den = r;
  for (let i = 0; i < 4; i++) {
    num = (num + ERFC_P[i]) * r;
    den = (den + ERFC_Q[i]) * r;
  }
  return (ONE_OVER_SQRT_PI - (r * (num + ERFC_P[4])) / (den + ERFC_Q[4])) / y;
}

/**
 * erfc(y + tail) for y >= 0, where `tail` is a correction far below one ulp of y. exp(-y^2) is
 * formed as exp(-s^2) * exp(-(y-s)(y+s)) with s = y rounded down to 1/16 (Cody's trick: s^2 is
 * exact), and the tail enters through the small factor only.
 */
function erfcSplit(y: number, tail: number): number {
  if (y <= ERF_SMALL) return 1 - erfSmall(y + tail);
  const s = Math.trunc(y * 16) / 16;
  const del = (y - s) * (y + s) + 2 * y * tail;
  return Math.exp(-s * s) * Math.exp(-del) * erfcxLarge(y);
}

/** The exact product a*b as a double plus its rounding error (Dekker's algorithm, no FMA). */
export function twoProduct(a: number, b: number): [hi: number, lo: number] {
  const hi = a * b;
  const [ah, al] = split(a);
  const [bh, bl] = split(b);
  const lo = ah * bh - hi + ah * bl + al * bh + al * bl;
  return [hi, lo];
}

function split(a: number): [number, number] {
  // 2^27 + 1: splits a double's 53-bit significand into two 26-bit halves.
  const c = 134217729 * a;
  const hi = c - (c - a);
  return [hi, a - hi];
}

/**
 * Upper tail of the standard normal, 1 − Φ(z) = Φ(−z), accurate to a few ulps (relative) over
 * the whole double range, so tiny p-values such as 2·Φ(−|z|) keep their digits. Computed as
 * erfc(z/√2)/2 with z/√2 carried in double-double precision.
 *
 * @example normalSf(1.959963984540054) // 0.025000000000000022
 * @example normalSf(10) // 7.619853024160525e-24
 */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return NaN;
  if (z < 0) return 1 - normalSf(-z);
  const [hi, lo] = twoProduct(z, SQRT1_2_HI);
  return 0.5 * erfcSplit(hi, lo + z * SQRT1_2_LO);
}

/**
 * Standard normal CDF Φ(z), with full relative accuracy in the lower tail.
 *
 * @example normalCdf(-1) // 0.15865525393145705
 * @example normalCdf(0) // 0.5
 */
export function normalCdf(z: number): number {
  return normalSf(-z);
}

// Lanczos approximation N = 13, g = 6.02468004077673 (Boost/Cephes `lanczos_sum_expg_scaled`):
// Γ(a) = L(a) · ((a + g − 0.5)/e)^(a − 0.5), with L a rational function of degree 12.
const LANCZOS_G = 6.02468004077673;
const LANCZOS_NUM = [
  0.006061842346248907, 0.5098416655656676, 19.519927882476175, 449.9445569063168,
  6955.999602515376, 75999.29304014542, 601859.6171681099, 3481712.154980646, 14605578.087685067,
  43338889.32467614, 86363131.2881386, 103794043.11634454, 56906521.913471565,
];
const LANCZOS_DEN = [
  1, 66, 1925, 32670, 357423, 2637558, 13339535, 45995730, 105258076, 150917976, 120543840,
  39916800, 0,
];

/** The Lanczos sum L(a) (coefficients highest power first); evaluated in 1/a when a > 1. */
function lanczosSumExpgScaled(a: number): number {
  let num = 0;
  let den = 0;
  if (a <= 1) {
    for (let i = 0; i < LANCZOS_NUM.length; i++) {
      num = num * a + LANCZOS_NUM[i];
      den = den * a + LANCZOS_DEN[i];
    }
  } else {
    const r = 1 / a;
    for (let i = LANCZOS_NUM.length - 1; i >= 0; i--) {
      num = num * r + LANCZOS_NUM[i];
      den = den * r + LANCZOS_DEN[i];
    }
  }
  return num / den;
}

/**
 * log Γ(a) for a > 0, from the Lanczos form above (absolute error a few ulps of the terms, so
 * relative accuracy is lost only near the zeros at a = 1 and a = 2).
 *
 * @example logGamma(0.5) // 0.5723649429247001 (= log √π)
 */
export function logGamma(a: number): number {
  if (!(a > 0)) throw new AppError("INVALID_ARGUMENT", `logGamma: expected a > 0, got ${a}`);
  return (a - 0.5) * (Math.log(a + LANCZOS_G - 0.5) - 1) + Math.log(lanczosSumExpgScaled(a));
}

/** log(1 + t) − t without cancellation for small |t|. */
function log1pmx(t: number): number {
  if (Math.abs(t) >= 0.5) return Math.log1p(t) - t;
  let power = t;
  let sum = 0;
  for (let n = 2; n < 500; n++) {
    power *= -t;
    const term = power / n;
    sum += term;
    if (Math.abs(term) < MACHINE_EPSILON * Math.abs(sum)) break;
  }
  return sum;
}

/**
 * x^a e^(−x) / Γ(a), the common factor of both incomplete gamma expansions. Written through
 * the Lanczos sum and log1pmx (as Cephes' igam_fac does near a ≈ x) so that the large terms
 * a·log x, x and log Γ(a) never cancel against each other.
 */
function gammaPrefactor(a: number, x: number): number {
  const fac = a + LANCZOS_G - 0.5;
  const scale = Math.sqrt(fac / Math.E) / lanczosSumExpgScaled(a);
  return scale * Math.exp(a * log1pmx((x - fac) / fac) + (x * (0.5 - LANCZOS_G)) / fac);
}

const GAMMA_MAX_ITERATIONS = 10_000;
const CF_BIG = 4503599627370496;
const CF_BIG_INVERSE = 2.220446049250313e-16;

/** Regularised lower incomplete gamma P(a, x) by its power series (DLMF 8.11.4). */
function lowerGammaSeries(a: number, x: number): number {
  const factor = gammaPrefactor(a, x);
  if (factor === 0) return 0;
  let r = a;
  let term = 1;
  let sum = 1;
  for (let i = 0; i < GAMMA_MAX_ITERATIONS; i++) {
    r += 1;
    term *= x / r;
    sum += term;
    if (term <= MACHINE_EPSILON * sum) break;
  }
  return (sum * factor) / a;
}

/** Regularised upper incomplete gamma Q(a, x) by its continued fraction (DLMF 8.9.2). */
function upperGammaFraction(a: number, x: number): number {
  const factor = gammaPrefactor(a, x);
  if (factor === 0) return 0;
  let y = 1 - a;
  let z = x + y + 1;
  let c = 0;
  let pkm2 = 1;
  let qkm2 = x;
  let pkm1 = x + 1;
  let qkm1 = z * x;
  let ans = pkm1 / qkm1;
  for (let i = 0; i < GAMMA_MAX_ITERATIONS; i++) {
    c += 1;
    y += 1;
    z += 2;
    const yc = y * c;
    const pk = pkm1 * z - pkm2 * yc;
    const qk = qkm1 * z - qkm2 * yc;
    let change = 1;
    if (qk !== 0) {
      const r = pk / qk;
      change = Math.abs((ans - r) / r);
      ans = r;
    }
    [pkm2, pkm1, qkm2, qkm1] = [pkm1, pk, qkm1, qk];
    // The convergents grow without bound; rescaling keeps them finite without changing p/q.
    if (Math.abs(pk) > CF_BIG) {
      pkm2 *= CF_BIG_INVERSE;
      pkm1 *= CF_BIG_INVERSE;
      qkm2 *= CF_BIG_INVERSE;
      qkm1 *= CF_BIG_INVERSE;
    }
    if (change <= MACHINE_EPSILON) break;
  }
  return ans * factor;
}

/**
 * Regularised upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a) for a > 0, x >= 0: the series
 * for P (then 1 − P, which is not small there) below x = a + 1, the continued fraction above.
 *
 * @example upperGammaQ(1, 2) // 0.1353352832366127 (= e^-2)
 */
export function upperGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `upperGammaQ: expected a > 0 and x >= 0, got ${a}, ${x}`,
    );
  }
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - lowerGammaSeries(a, x) : upperGammaFraction(a, x);
}

/**
 * Chi-square survival function P(X > x) with `dof` degrees of freedom (any dof > 0); equals
 * `scipy.stats.chi2.sf(x, dof)`. x = Infinity gives 0 (a category only in the current window).
 *
 * @example chiSquareSf(3.84145882069412, 1) // 0.05
 * @example chiSquareSf(2.375, 2) // 0.30498276871105917
 */
export function chiSquareSf(x: number, dof: number): number {
  if (!(dof > 0))
    throw new AppError("INVALID_ARGUMENT", `chiSquareSf: dof must be > 0, got ${dof}`);
  if (Number.isNaN(x)) return NaN;
  if (x <= 0) return 1;
  return upperGammaQ(dof / 2, x / 2);
}

// Below this x, K(x) < 1e-308 and the survival function is exactly 1 in doubles:
// pi / sqrt(8 · (708 + 38)), as in Cephes.
const KOLMOGOROV_TINY = Math.PI / Math.sqrt(8 * (708 + 38));
// Switch between the two theta-function series (Cephes KOLMOG_CUTOVER).
const KOLMOGOROV_CUTOVER = 0.82;

/**
 * Survival function of the limiting Kolmogorov distribution, P(√n·D_n > x) as n → ∞:
 * 2 Σ (−1)^(k−1) e^(−2k²x²). Ported from Cephes (`scipy.special.kolmogorov`,
 * `scipy.stats.kstwobign.sf`): the Jacobi-theta form for small x, the alternating series
 * (4 terms suffice) above 0.82.
 *
 * @example kolmogorovSf(1) // 0.26999967167735456
 */
export function kolmogorovSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x <= KOLMOGOROV_TINY) return 1;
  if (x <= KOLMOGOROV_CUTOVER) {
    // CDF = (√(2π)/x) · u · (1 + u^8 + u^24 + u^48), u = e^(−π²/(8x²)); terms beyond are < ulp.
    const w = SQRT_2PI / x;
    const logu8 = (-Math.PI * Math.PI) / (x * x);
    const u = Math.exp(logu8 / 8);
    const u8 = Math.exp(logu8);
    const cdf = w * u * (1 + u8 * (1 + u8 * u8 * (1 + u8 ** 3)));
    return clipProbability(1 - cdf);
  }
  // SF = 2v(1 − v³(1 − v⁵(1 − v⁷))), v = e^(−2x²).
  const v = Math.exp(-2 * x * x);
  const v3 = v ** 3;
  const sf = 2 * v * (1 - v3 * (1 - v3 * v * v * (1 - v3 * v3 * v)));
  return clipProbability(sf);
}

/** Clip to [0, 1], as SciPy does for every probability it returns. */
export function clipProbability(p: number): number {
  return Math.min(1, Math.max(0, p));
}
