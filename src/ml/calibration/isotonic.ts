import { clampScore, type CalibrationInput } from "./common.js";

export interface IsotonicJson {
  readonly method: "isotonic";
  readonly input: CalibrationInput;
  /** Block centres (strictly increasing). */
  readonly x: readonly number[];
  /** Block means (strictly increasing), in [0, 1]. */
  readonly y: readonly number[];
}

export interface IsotonicFit {
  /** Weighted mean input of each block, strictly increasing. */
  readonly x: Float64Array;
  /** Weighted mean target of each block, strictly increasing. */
  readonly y: Float64Array;
}

/**
 * Isotonic (non-decreasing) least-squares regression by pool-adjacent-violators. Equal inputs
 * are pooled first, so a tie never gets two values; blocks with equal means are merged too,
 * which leaves the fitted block means strictly increasing. NaN inputs are ignored.
 */
export function isotonicRegression(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  weights?: ArrayLike<number>,
): IsotonicFit {
  if (x.length !== y.length) throw new RangeError(`${y.length} targets but ${x.length} inputs`);
  const rows: number[] = [];
  for (let i = 0; i < x.length; i++) if (!Number.isNaN(x[i])) rows.push(i);
  if (rows.length === 0) throw new RangeError("isotonic regression needs at least one row");
  rows.sort((a, b) => x[a] - x[b]);
  // Block stack: sum of weights, of w·y and of w·x.
  const sw: number[] = [];
  const swy: number[] = [];
  const swx: number[] = [];
  let top = -1;
  let lastX = NaN;
  for (const i of rows) {
    const w = weights ? weights[i] : 1;
    if (!(w > 0)) continue;
    const xi = clampScore(x[i]);
    const yi = y[i];
    if (top >= 0 && xi === lastX) {
      sw[top] += w;
      swy[top] += w * yi;
      swx[top] += w * xi;
    } else {
      top++;
      sw[top] = w;
      swy[top] = w * yi;
      swx[top] = w * xi;
    }
    lastX = xi;
    // Pool while the previous block's mean is not below this one's.
    while (top > 0 && swy[top - 1] * sw[top] >= swy[top] * sw[top - 1]) {
      sw[top - 1] += sw[top];
      swy[top - 1] += swy[top];
      swx[top - 1] += swx[top];
      top--;
    }
  }
  const k = top + 1;
  if (k === 0) throw new RangeError("isotonic regression needs a row with positive weight");
  const outX = new Float64Array(k);
  const outY = new Float64Array(k);
  for (let b = 0; b < k; b++) {
    outX[b] = swx[b] / sw[b];
    outY[b] = swy[b] / sw[b];
  }
  return { x: outX, y: outY };
}

/**
 * Calibration map from isotonic regression: linear interpolation between block centres (so
 * nearby scores get nearby probabilities instead of a staircase), constant beyond the first and
 * last centre. Interpolating between strictly increasing points keeps it monotone.
 */
export class IsotonicCalibrator {
  readonly method = "isotonic" as const;

  constructor(
    readonly x: Float64Array,
    readonly y: Float64Array,
    readonly input: CalibrationInput = "raw",
  ) {
    if (x.length === 0 || x.length !== y.length) throw new RangeError("isotonic map needs points");
  }

  applyOne(score: number): number {
    if (Number.isNaN(score)) return NaN;
    const { x, y } = this;
    const s = clampScore(score);
    const last = x.length - 1;
    if (s <= x[0]) return y[0];
    if (s >= x[last]) return y[last];
    let lo = 0;
    let hi = last;
    // Invariant: x[lo] < s < x[hi].
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (x[mid] <= s) lo = mid;
      else hi = mid;
    }
    const t = (s - x[lo]) / (x[hi] - x[lo]);
    return y[lo] + t * (y[hi] - y[lo]);
  }

  apply(scores: ArrayLike<number>): Float64Array {
    const out = new Float64Array(scores.length);
    for (let i = 0; i < out.length; i++) out[i] = this.applyOne(scores[i]);
    return out;
  }

  toJSON(): IsotonicJson {
    return { method: "isotonic", input: this.input, x: Array.from(this.x), y: Array.from(this.y) };
  }
}

/** Fits the isotonic calibration map of labels `y` (1 = bad) on `scores`. */
export function fitIsotonic(
  scores: ArrayLike<number>,
  y: ArrayLike<number>,
  input: CalibrationInput = "raw",
): IsotonicCalibrator {
  const labels = Float64Array.from({ length: y.length }, (_, i) => (y[i] ? 1 : 0));
  const fit = isotonicRegression(scores, labels);
  return new IsotonicCalibrator(fit.x, fit.y, input);
}
