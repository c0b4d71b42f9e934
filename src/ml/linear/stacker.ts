import { AppError } from "../../core/errors.js";
import { fitPlatt } from "../calibration/platt.js";
import { Encoder } from "../preprocess/index.js";
import type { LabeledTable } from "../types.js";
import { FittedLogreg, encodedStd, logreg } from "./logistic.js";

/**
 * A stacker for model log-odds with every member weighted equally: the mean of the columns'
 * log-odds, calibrated by Platt scaling (p = σ(a · mean + b), fitted on `data`, which should hold
 * out-of-fold scores). Only the slope and the intercept are learned, so the members' relative
 * weights cannot chase the noise of a few hundred rows.
 *
 * Returned as the logistic model it is, p = σ(Σ (a/m) · column + b) over the m columns, so it
 * saves, reads back and explains like any logistic regression.
 */
export function fitMeanStacker(data: LabeledTable): FittedLogreg {
  const m = data.columns.length;
  if (m === 0 || data.n === 0) {
    throw new AppError("TRAINING_FAILED", "the stacker needs at least one member and one row");
  }
  for (const spec of data.features) {
    if (spec.kind !== "numeric") {
      throw new AppError("TRAINING_FAILED", `stacker input ${spec.name} is not numeric`);
    }
  }
  const mean = new Float64Array(data.n);
  for (const col of data.columns) for (let i = 0; i < data.n; i++) mean[i] += col[i];
  for (let i = 0; i < data.n; i++) mean[i] /= m;
  const platt = fitPlatt(mean, data.y);
  const w = platt.a / m;
  // The encoder standardises each column, z = (x − μ)/σ, so weight w on x is w·σ on z and the
  // intercept absorbs w·μ.
  const encoder = Encoder.fit(data);
  const coef = new Float64Array(encoder.width);
  let intercept = platt.b;
  for (const block of encoder.blocks) {
    if (block.kind !== "numeric") continue;
    coef[block.column] = w * block.std;
    intercept += w * block.mean;
  }
  const params = { ...logreg.defaults, maxFeatures: 0 };
  return new FittedLogreg(
    data.features,
    encoder,
    coef,
    intercept,
    encodedStd(encoder.transform(data), encoder.width),
    params,
    0,
    true,
  );
}
