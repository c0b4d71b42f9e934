import { AppError } from "../../core/errors.js";
import { sigmoid, type CalibrationInput } from "./common.js";
import { IsotonicCalibrator, fitIsotonic, type IsotonicJson } from "./isotonic.js";
import { PlattCalibrator, fitPlatt, type PlattJson } from "./platt.js";

export { type CalibrationInput, sigmoid, logit } from "./common.js";
export { PlattCalibrator, fitPlatt, type PlattJson } from "./platt.js";
export {
  IsotonicCalibrator,
  fitIsotonic,
  isotonicRegression,
  type IsotonicFit,
  type IsotonicJson,
} from "./isotonic.js";

export type CalibrationMethod = "platt" | "isotonic" | "none";
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ["platt", "isotonic", "none"];

export interface IdentityJson {
  readonly method: "none";
  readonly input: CalibrationInput;
}

export type CalibratorJson = PlattJson | IsotonicJson | IdentityJson;

/**
 * Maps a model's scores to calibrated probabilities of bad. Fit it on out-of-fold scores (a model
 * is over-confident on its own training rows) and apply it to the same kind of score (`input`).
 */
export interface Calibrator {
  readonly method: CalibrationMethod;
  readonly input: CalibrationInput;
  applyOne(score: number): number;
  apply(scores: ArrayLike<number>): Float64Array;
  toJSON(): CalibratorJson;
}

/** No calibration: σ(raw), or the probability unchanged. */
export class IdentityCalibrator implements Calibrator {
  readonly method = "none" as const;

  constructor(readonly input: CalibrationInput = "raw") {}

  applyOne(score: number): number {
    return this.input === "raw" ? sigmoid(score) : score;
  }

  apply(scores: ArrayLike<number>): Float64Array {
    const out = new Float64Array(scores.length);
    for (let i = 0; i < out.length; i++) out[i] = this.applyOne(scores[i]);
    return out;
  }

  toJSON(): IdentityJson {
    return { method: "none", input: this.input };
  }
}

/** Fits a calibrator of `method` to labels `y` (1 = bad) on out-of-fold `scores`. */
export function fitCalibrator(
  method: CalibrationMethod,
  scores: ArrayLike<number>,
  y: ArrayLike<number>,
  input: CalibrationInput = "raw",
): Calibrator {
  switch (method) {
    case "platt":
      return fitPlatt(scores, y, input);
    case "isotonic":
      return fitIsotonic(scores, y, input);
    case "none":
      return new IdentityCalibrator(input);
    default:
      throw new AppError(
        "INVALID_ARGUMENT",
        `unknown calibration method ${JSON.stringify(method)}`,
      );
  }
}

/** Reads back `calibrator.toJSON()`, checking every field. */
export function calibratorFromJSON(json: unknown): Calibrator {
  const bad = (why: string) => new AppError("MODEL_FILE_INVALID", `calibrator: ${why}`);
  if (!json || typeof json !== "object") throw bad("not an object");
  const j = json as {
    method?: unknown;
    input?: unknown;
    a?: unknown;
    b?: unknown;
    x?: unknown;
    y?: unknown;
  };
  const input = j.input ?? "raw";
  if (input !== "raw" && input !== "proba") throw bad(`unknown input ${JSON.stringify(input)}`);
  switch (j.method) {
    case "platt":
      if (!Number.isFinite(j.a) || !Number.isFinite(j.b))
        throw bad("Platt a and b must be finite numbers");
      return new PlattCalibrator(j.a as number, j.b as number, input);
    case "isotonic": {
      const { x, y } = j;
      if (!Array.isArray(x) || !Array.isArray(y) || x.length === 0 || x.length !== y.length) {
        throw bad("isotonic x and y must be non-empty arrays of equal length");
      }
      for (let i = 0; i < x.length; i++) {
        const ok: boolean =
          Number.isFinite(x[i]) &&
          Number.isFinite(y[i]) &&
          y[i] >= 0 &&
          y[i] <= 1 &&
          (i === 0 || (x[i] > x[i - 1] && y[i] >= y[i - 1]));
        if (!ok) throw bad("isotonic points must be increasing, with values in [0, 1]");
      }
      return new IsotonicCalibrator(Float64Array.from(x), Float64Array.from(y), input);
    }
    case "none":
      return new IdentityCalibrator(input);
    default:
      throw bad(`unknown method ${JSON.stringify(j.method)}`);
  }
}
