/**
 * Area under the ROC curve by the rank-sum (Mann–Whitney) formula with average ranks for ties,
 * which equals the trapezoidal ROC area including tied scores counted as half.
 * Returns NaN when one class is absent or a score is NaN (NaN has no rank; sorting it would
 * silently give an arbitrary order).
 */
export function rocAuc(y: ArrayLike<number>, score: ArrayLike<number>): number {
  const n = y.length;
  if (score.length !== n) throw new RangeError(`${n} labels but ${score.length} scores`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (Number.isNaN(score[i])) return NaN;
    order[i] = i;
  }
  order.sort((a, b) => score[a] - score[b]);
  let nPos = 0;
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && score[order[j]] === score[order[i]]) j++;
    const avgRank = (i + 1 + j) / 2; // ranks i+1 … j
    for (let t = i; t < j; t++) {
      if (y[order[t]]) {
        nPos++;
        rankSumPos += avgRank;
      }
    }
    i = j;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
