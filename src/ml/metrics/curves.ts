export interface RocPoint {
  readonly fpr: number;
  readonly tpr: number;
  /** Rows with a score ≥ threshold are predicted positive at this point. */
  readonly threshold: number;
}

/**
 * ROC curve with one point per distinct score (tied scores move together, giving the diagonal
 * segments that the tie-aware AUC integrates), from (0, 0) at threshold +∞ to (1, 1).
 * Empty when a class is absent.
 */
export function rocCurve(y: ArrayLike<number>, score: ArrayLike<number>): RocPoint[] {
  const n = y.length;
  if (score.length !== n) throw new RangeError(`${n} labels but ${score.length} scores`);
  let nPos = 0;
  for (let i = 0; i < n; i++) if (y[i]) nPos++;
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return [];
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  const points: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const s = score[order[i]];
    while (i < n && score[order[i]] === s) {
      if (y[order[i]]) tp++;
      else fp++;
      i++;
    }
    points.push({ fpr: fp / nNeg, tpr: tp / nPos, threshold: s });
  }
  return points;
}

/**
 * Kolmogorov–Smirnov statistic: the largest gap between the score distributions of the two
 * classes, i.e. max |TPR − FPR| over all thresholds. NaN when a class is absent.
 */
export function ksStatistic(y: ArrayLike<number>, score: ArrayLike<number>): number {
  const curve = rocCurve(y, score);
  if (curve.length === 0) return NaN;
  let best = 0;
  for (const pt of curve) best = Math.max(best, Math.abs(pt.tpr - pt.fpr));
  return best;
}

export interface CalibrationBin {
  readonly lower: number;
  readonly upper: number;
  readonly count: number;
  /** Mean predicted probability in the bin; NaN when the bin is empty. */
  readonly meanPredicted: number;
  /** Observed share of positives in the bin; NaN when the bin is empty. */
  readonly fractionPositive: number;
}

/** Bin index of a probability among `nBins` equal-width bins on [0, 1]; p = 1 goes to the last. */
function binOf(p: number, nBins: number): number {
  const b = Math.floor(p * nBins);
  return b < 0 ? 0 : b >= nBins ? nBins - 1 : b;
}

/**
 * Reliability diagram: `nBins` equal-width probability bins, every bin listed (empty ones with
 * count 0) so plots and the expected calibration error share one binning.
 */
export function calibrationCurve(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  nBins = 10,
): CalibrationBin[] {
  if (p.length !== y.length) throw new RangeError(`${y.length} labels but ${p.length} scores`);
  if (!Number.isInteger(nBins) || nBins < 1) throw new RangeError(`bins must be ≥ 1, got ${nBins}`);
  const count = new Float64Array(nBins);
  const sumP = new Float64Array(nBins);
  const sumY = new Float64Array(nBins);
  for (let i = 0; i < p.length; i++) {
    const b = binOf(p[i], nBins);
    count[b]++;
    sumP[b] += p[i];
    sumY[b] += y[i] ? 1 : 0;
  }
  return Array.from({ length: nBins }, (_, b) => ({
    lower: b / nBins,
    upper: (b + 1) / nBins,
    count: count[b],
    meanPredicted: count[b] > 0 ? sumP[b] / count[b] : NaN,
    fractionPositive: count[b] > 0 ? sumY[b] / count[b] : NaN,
  }));
}

/**
 * Expected calibration error: mean over bins of |observed rate − mean prediction|, weighted by the
 * share of rows in each bin (10 equal-width bins by default).
 */
export function expectedCalibrationError(
  y: ArrayLike<number>,
  p: ArrayLike<number>,
  nBins = 10,
): number {
  if (y.length === 0) return NaN;
  let ece = 0;
  for (const bin of calibrationCurve(y, p, nBins)) {
    if (bin.count > 0)
      ece += (bin.count / y.length) * Math.abs(bin.fractionPositive - bin.meanPredicted);
  }
  return ece;
}
