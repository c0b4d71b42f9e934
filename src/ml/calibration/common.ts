/** What a calibrator's input is: the model's raw score (log-odds) or its probability. */
export type CalibrationInput = "raw" | "proba";

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/** Probabilities are clipped this far from 0 and 1 before taking their logit. */
export const PROBA_EPS = 1e-12;

/** Logit of a probability clipped to [ε, 1 − ε], so 0 and 1 map to finite scores. */
export function logit(p: number): number {
  const q = p < PROBA_EPS ? PROBA_EPS : p > 1 - PROBA_EPS ? 1 - PROBA_EPS : p;
  return Math.log(q / (1 - q));
}

/**
 * Keeps infinite raw scores (a model certain of a row) finite, so interpolation and the Platt
 * fit never produce ∞ − ∞; the bound is far beyond any score that changes a probability.
 */
export const SCORE_BOUND = 1e12;
export function clampScore(s: number): number {
  return s > SCORE_BOUND ? SCORE_BOUND : s < -SCORE_BOUND ? -SCORE_BOUND : s;
}
