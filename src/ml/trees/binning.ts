import type { FeatureSpec, Table } from "../types.js";

/** Default number of value bins for a numeric feature (LightGBM's default). */
export const DEFAULT_MAX_BINS = 255;

/** Feature kinds as stored in typed arrays. */
export const NUMERIC = 0;
export const CATEGORICAL = 1;

/**
 * Per-row bin indices, one column per feature. Uint16 so that categorical features with more than
 * 255 categories still fit; at this data size the wider type costs nothing measurable.
 */
export interface BinnedMatrix {
  readonly n: number;
  readonly columns: readonly Uint16Array[];
}

/**
 * Maps raw feature values to bins, computed once per fit from the training rows.
 *
 * Numeric feature with B value bins: bin b holds values in (upper[b-1], upper[b]], the last value
 * bin is unbounded above, and bin B holds NaN. A split "bin ≤ t" is therefore exactly
 * "x ≤ upper[t]" on raw values, and the NaN bin goes to the side the split learned for it
 * (left or right, stored with the split; right when the node had no NaN), both in training and
 * when scoring raw rows, so a tree can be evaluated without its bin mapper.
 *
 * Categorical feature with K categories: bin c is category c and bin K collects anything else
 * (NaN, out of range, non-integer). Bin K is never put on the left of a split, so unknown
 * categories go right.
 */
export class BinMapper {
  readonly nFeatures: number;
  /** NUMERIC or CATEGORICAL per feature. */
  readonly kinds: Uint8Array;
  /** Total bins per feature, including the missing/unknown bin. */
  readonly nBins: Int32Array;
  /** Start of each feature's bins in a histogram laid out feature after feature. */
  readonly offsets: Int32Array;
  readonly totalBins: number;
  /** Numeric features: upper bounds of the value bins (length nBins-2); empty for categorical. */
  readonly upper: readonly Float64Array[];

  private constructor(kinds: Uint8Array, nBins: Int32Array, upper: Float64Array[]) {
    this.nFeatures = kinds.length;
    this.kinds = kinds;
    this.nBins = nBins;
    this.upper = upper;
    this.offsets = new Int32Array(kinds.length + 1);
    for (let f = 0; f < kinds.length; f++) this.offsets[f + 1] = this.offsets[f] + nBins[f];
    this.totalBins = this.offsets[kinds.length];
  }

  /**
   * Quantile bins from the given rows (all rows when omitted). Up to `maxBins` distinct values
   * get one bin each; beyond that, bins of roughly equal counts. Bin edges are midpoints between
   * neighbouring distinct training values, so unseen values fall on the nearer side.
   */
  static fit(table: Table, rows?: ArrayLike<number>, maxBins = DEFAULT_MAX_BINS): BinMapper {
    if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > 65534) {
      throw new RangeError(`maxBins must be an integer in [2, 65534], got ${maxBins}`);
    }
    const nF = table.features.length;
    const kinds = new Uint8Array(nF);
    const nBins = new Int32Array(nF);
    const upper: Float64Array[] = [];
    const m = rows ? rows.length : table.n;
    const values = new Float64Array(m);
    for (let f = 0; f < nF; f++) {
      const spec = table.features[f];
      if (spec.kind === "categorical") {
        const k = categoryCount(spec, f);
        kinds[f] = CATEGORICAL;
        nBins[f] = k + 1;
        upper.push(new Float64Array(0));
        continue;
      }
      const col = table.columns[f];
      let cnt = 0;
      for (let i = 0; i < m; i++) {
        const x = col[rows ? rows[i] : i];
        // Infinite values still bin (to the first or last bin) but must not become edges,
        // which have to survive JSON.
        if (Number.isFinite(x)) values[cnt++] = x;
      }
      const edges = quantileEdges(values.subarray(0, cnt).sort(), maxBins);
      kinds[f] = NUMERIC;
      nBins[f] = edges.length + 2;
      upper.push(edges);
    }
    return new BinMapper(kinds, nBins, upper);
  }

  /** Bin of one raw value of feature `f`. */
  bin(f: number, x: number): number {
    const nb = this.nBins[f];
    if (this.kinds[f] === CATEGORICAL) {
      return x >>> 0 === x && x < nb - 1 ? x : nb - 1;
    }
    if (x !== x) return nb - 1;
    const up = this.upper[f];
    let lo = 0;
    let hi = up.length; // answer in [0, up.length]; up.length is the unbounded last value bin
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (x <= up[mid]) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Bins every row of a table with this mapper. */
  transform(table: Table): BinnedMatrix {
    if (table.features.length !== this.nFeatures) {
      throw new RangeError(
        `table has ${table.features.length} features, binning expects ${this.nFeatures}`,
      );
    }
    const n = table.n;
    const columns: Uint16Array[] = [];
    for (let f = 0; f < this.nFeatures; f++) {
      const src = table.columns[f];
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = this.bin(f, src[i]);
      columns.push(out);
    }
    return { n, columns };
  }
}

function categoryCount(spec: FeatureSpec, f: number): number {
  const k = spec.nCategories;
  if (k === undefined || !Number.isInteger(k) || k < 1 || k > 65534) {
    throw new RangeError(
      `categorical feature ${f} (${spec.name}) needs nCategories in [1, 65534], got ${k}`,
    );
  }
  return k;
}

/** Upper edges of the value bins of sorted finite `v` (one fewer than the number of bins). */
function quantileEdges(v: Float64Array, maxBins: number): Float64Array {
  const n = v.length;
  if (n === 0) return new Float64Array(0);
  const distinct: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < n; i++) {
    if (i === 0 || v[i] !== v[i - 1]) {
      distinct.push(v[i]);
      counts.push(1);
    } else counts[counts.length - 1]++;
  }
  const d = distinct.length;
  const edges: number[] = [];
  if (d <= maxBins) {
    for (let i = 0; i + 1 < d; i++) edges.push(midpoint(distinct[i], distinct[i + 1]));
    return Float64Array.from(edges);
  }
  // Greedy equal-count bins; the target is recomputed on what is left so a heavy value early on
  // does not starve the remaining bins.
  let remaining = n;
  let binsLeft = maxBins;
  let inBin = 0;
  for (let i = 0; i + 1 < d; i++) {
    inBin += counts[i];
    const target = remaining / binsLeft;
    if (inBin >= target || d - 1 - i <= binsLeft - 1) {
      edges.push(midpoint(distinct[i], distinct[i + 1]));
      remaining -= inBin;
      inBin = 0;
      binsLeft--;
      if (binsLeft === 1) break;
    }
  }
  return Float64Array.from(edges);
}

/** A value strictly below `b` and not below `a` (a < b), so `a` goes left and `b` right. */
function midpoint(a: number, b: number): number {
  const m = a + (b - a) / 2;
  return m < b && Number.isFinite(m) ? m : a;
}
