import { clampScore, logit, sigmoid, type CalibrationInput } from "./common.js";

export interface PlattJson {
  readonly method: "platt";
  readonly input: CalibrationInput;
  /** Slope on the score. */
  readonly a: number;
  /** Intercept. */
  readonly b: number;
}

/** p = σ(a·s + b), with s the raw score (or the logit of the probability for `input: "proba"`). */
export class PlattCalibrator {
  readonly method = "platt" as const;

  constructor(
    readonly a: number,
    readonly b: number,
    readonly input: CalibrationInput = "raw",
  ) {}

  applyOne(score: number): number {
    const s = this.input === "proba" ? logit(score) : clampScore(score);
    return sigmoid(this.a * s + this.b);
  }

  apply(scores: ArrayLike<number>): Float64Array {
    const out = new Float64Array(scores.length);
    for (let i = 0; i < out.length; i++) out[i] = this.applyOne(scores[i]);
    return out;
  }

  toJSON(): PlattJson {
    return { method: "platt", input: this.input, a: this.a, b: this.b };
  }
}

/**
 * Platt scaling: a one-dimensional logistic regression of the label on the score, fitted by
 * Newton's method with a backtracking line search (Lin, Lin & Weng, 2007). The targets are
 * Platt's smoothed labels (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2) instead of 1 and 0, which keeps the
 * fit finite on separable scores and acts as a prior towards the base rate on small samples.
 * Rows with a NaN score are ignored.
 */
export function fitPlatt(
  scores: ArrayLike<number>,
  y: ArrayLike<number>,
  input: CalibrationInput = "raw",
): PlattCalibrator {
  if (scores.length !== y.length)
    throw new RangeError(`${y.length} labels but ${scores.length} scores`);
  const s: number[] = [];
  const lab: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (Number.isNaN(scores[i])) continue;
    s.push(input === "proba" ? logit(scores[i]) : clampScore(scores[i]));
    lab.push(y[i] ? 1 : 0);
  }
  const n = s.length;
  if (n === 0) throw new RangeError("Platt scaling needs at least one scored row");
  let nPos = 0;
  for (const v of lab) nPos += v;
  const nNeg = n - nPos;
  const hi = (nPos + 1) / (nPos + 2);
  const lo = 1 / (nNeg + 2);
  const t = lab.map((v) => (v ? hi : lo));

  // f(a, b) = Σ log(1 + e^{z}) − t·z with z = a·s + b: the cross-entropy against the targets.
  const objective = (a: number, b: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const z = a * s[i] + b;
      f += (z > 0 ? z : 0) + Math.log1p(Math.exp(-Math.abs(z))) - t[i] * z;
    }
    return f;
  };
  let a = 0;
  let b = Math.log((nPos + 1) / (nNeg + 1));
  let f = objective(a, b);
  for (let iter = 0; iter < 100; iter++) {
    let ga = 0;
    let gb = 0;
    let haa = 1e-12;
    let hab = 0;
    let hbb = 1e-12;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(a * s[i] + b);
      const r = p - t[i];
      const w = p * (1 - p);
      ga += r * s[i];
      gb += r;
      haa += w * s[i] * s[i];
      hab += w * s[i];
      hbb += w;
    }
    if (Math.abs(ga) < 1e-10 * n && Math.abs(gb) < 1e-10 * n) break;
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    const slope = ga * da + gb * db;
    let step = 1;
    let fNew = f;
    while (step >= 1e-10) {
      fNew = objective(a - step * da, b - step * db);
      if (fNew <= f - 1e-4 * step * slope) break;
      step /= 2;
    }
    if (step < 1e-10) break;
    a -= step * da;
    b -= step * db;
    f = fNew;
    if (
      Math.abs(step * da) < 1e-12 * (1 + Math.abs(a)) &&
      Math.abs(step * db) < 1e-12 * (1 + Math.abs(b))
    )
      break;
  }
  return new PlattCalibrator(a, b, input);
}
