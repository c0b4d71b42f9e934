import type { LabeledTable } from "./types.js";

export interface IvOptions {
  /** Quantile bins for numeric features. Default 10. */
  readonly bins?: number;
  /**
   * Pseudo-count added to the good and bad counts of every bin, so a bin with no bad (or no good)
   * row gives a finite weight of evidence instead of ±∞. Default 0.5.
   */
  readonly smoothing?: number;
}

/**
 * Information value of each feature for the label: Σ over bins (bad share − good share) ·
 * ln(bad share / good share). Numeric features are cut at their quantiles (ties kept in one
 * bin), categorical features binned by category; missing values form a bin of their own.
 * Compute it on training rows only, or the selection leaks the evaluation labels.
 */
export function informationValue(table: LabeledTable, options: IvOptions = {}): Float64Array {
  const nBins = options.bins ?? 10;
  const alpha = options.smoothing ?? 0.5;
  const iv = new Float64Array(table.features.length);
  table.features.forEach((spec, j) => {
    const bin =
      spec.kind === "categorical"
        ? categoryBins(table.columns[j])
        : quantileBins(table.columns[j], nBins);
    iv[j] = ivOfBins(bin, table.y, alpha);
  });
  return iv;
}

/**
 * Indices of the `k` features with the highest information value on `table`, best first (ties
 * by feature order). `k ≤ 0` or `k ≥` the number of features keeps every feature in table order.
 */
export function selectByIv(table: LabeledTable, k: number, options: IvOptions = {}): number[] {
  const m = table.features.length;
  if (k <= 0 || k >= m) return Array.from({ length: m }, (_, j) => j);
  const iv = informationValue(table, options);
  return Array.from({ length: m }, (_, j) => j)
    .sort((a, b) => iv[b] - iv[a] || a - b)
    .slice(0, Math.floor(k));
}

/** Bin id per row: the category index, with NaN or negative values pooled as "missing". */
function categoryBins(col: Float64Array): Int32Array {
  const out = new Int32Array(col.length);
  for (let i = 0; i < col.length; i++) out[i] = col[i] >= 0 ? col[i] : -1;
  return out;
}

/**
 * Bin id per row from quantile cut points of the non-missing values; a value equal to a cut
 * point goes to the lower bin, so heavy ties (e.g. a 1…4 scale) give fewer, unsplit bins.
 */
function quantileBins(col: Float64Array, nBins: number): Int32Array {
  const buf = new Float64Array(col.length);
  let m = 0;
  for (let i = 0; i < col.length; i++) if (!Number.isNaN(col[i])) buf[m++] = col[i];
  const sorted = buf.subarray(0, m).sort();
  const cuts: number[] = [];
  for (let b = 1; b < nBins && m > 0; b++) {
    const c = sorted[Math.min(m - 1, Math.floor((b * m) / nBins))];
    if (cuts.length === 0 || c > cuts[cuts.length - 1]) cuts.push(c);
  }
  const out = new Int32Array(col.length);
  for (let i = 0; i < col.length; i++) {
    const v = col[i];
    if (Number.isNaN(v)) {
      out[i] = -1;
      continue;
    }
    let lo = 0;
    let hi = cuts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v > cuts[mid]) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

function ivOfBins(bin: Int32Array, y: Uint8Array, alpha: number): number {
  let maxBin = 0;
  for (let i = 0; i < bin.length; i++) if (bin[i] > maxBin) maxBin = bin[i];
  // Slot 0 holds the missing bin (−1); bin b is slot b + 1.
  const good = new Float64Array(maxBin + 2);
  const bad = new Float64Array(maxBin + 2);
  for (let i = 0; i < bin.length; i++) {
    if (y[i]) bad[bin[i] + 1]++;
    else good[bin[i] + 1]++;
  }
  let totalGood = 0;
  let totalBad = 0;
  let B = 0;
  for (let s = 0; s < good.length; s++) {
    totalGood += good[s];
    totalBad += bad[s];
    if (good[s] + bad[s] > 0) B++;
  }
  if (B < 2 || totalGood === 0 || totalBad === 0) return 0;
  let iv = 0;
  for (let s = 0; s < good.length; s++) {
    if (good[s] + bad[s] === 0) continue;
    const pb = (bad[s] + alpha) / (totalBad + alpha * B);
    const pg = (good[s] + alpha) / (totalGood + alpha * B);
    iv += (pb - pg) * Math.log(pb / pg);
  }
  return iv;
}
