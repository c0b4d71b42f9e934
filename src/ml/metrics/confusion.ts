export interface ConfusionMatrix {
  /** Predicted bad, actually bad. */
  readonly tp: number;
  /** Predicted bad, actually good. */
  readonly fp: number;
  /** Predicted good, actually good. */
  readonly tn: number;
  /** Predicted good, actually bad. */
  readonly fn: number;
}

/**
 * Counts at a decision threshold: a row is predicted bad (positive) when `p ≥ threshold`, the
 * convention of the whole platform (threshold choice, serving decisions, cost metrics).
 */
export function confusionMatrix(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  threshold: number,
): ConfusionMatrix {
  if (p.length !== y.length) throw new RangeError(`${y.length} labels but ${p.length} scores`);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < y.length; i++) {
    const bad = p[i] >= threshold;
    if (y[i]) {
      if (bad) tp++;
      else fn++;
    } else if (bad) fp++;
    else tn++;
  }
  return { tp, fp, tn, fn };
}
