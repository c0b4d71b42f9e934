/**
 * Turning two samples into comparable share vectors for the distance tests (Jensen–Shannon, PSI,
 * K–L), as Evidently's `get_binned_data` does: equal-width Sturges bins for numeric columns with
 * many distinct values, one bin per distinct value otherwise, and its zero-fill rule.
 */

/** A column after missing values were dropped. */
export type Sample =
  | { readonly kind: "numeric"; readonly values: Float64Array }
  | { readonly kind: "categorical"; readonly values: readonly string[] };

/** A value as the tests see it: a number of a numeric column or a category. */
export type SampleValue = number | string;

/** Share of each bin in each window; both vectors have one entry per bin, in the same order. */
export interface BinnedShares {
  readonly reference: Float64Array;
  readonly current: Float64Array;
  /** The bin edges (bins + 1 of them) when numeric values were binned; absent for value bins. */
  readonly edges?: Float64Array;
}

/** Numeric columns with more distinct reference values than this are binned (Evidently: 20). */
export const MAX_VALUE_BINS = 20;

/** Counts of each distinct value; numbers compare as numbers (so 0 and −0 are one value). */
export function valueCounts(values: ArrayLike<SampleValue>): Map<SampleValue, number> {
  const counts = new Map<SampleValue, number>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return counts;
}

/** Distinct values of either map: the first map's keys in order, then the second's new keys. */
export function unionKeys<K>(a: ReadonlyMap<K, number>, b: ReadonlyMap<K, number>): K[] {
  const keys = [...a.keys()];
  for (const k of b.keys()) if (!a.has(k)) keys.push(k);
  return keys;
}

/**
 * Bin both windows the way Evidently does before a distance test.
 *
 * @example binShares({ kind: "categorical", values: ["a", "a", "b"] }, { kind: "categorical", values: ["b"] })
 * // { reference: [2/3, 1/3], current: [0, 1] }
 */
export function binShares(reference: Sample, current: Sample): BinnedShares {
  if (reference.kind === "numeric" && current.kind === "numeric") {
    if (valueCounts(reference.values).size > MAX_VALUE_BINS) {
      const edges = sturgesEdges(reference.values, current.values);
      return {
        reference: histogramShares(reference.values, edges),
        current: histogramShares(current.values, edges),
        edges,
      };
    }
  }
  const refCounts = valueCounts(reference.values);
  const curCounts = valueCounts(current.values);
  const keys = unionKeys(refCounts, curCounts);
  const shares = (counts: Map<SampleValue, number>, n: number) =>
    Float64Array.from(keys, (k) => (counts.get(k) ?? 0) / n);
  return {
    reference: shares(refCounts, reference.values.length),
    current: shares(curCounts, current.values.length),
  };
}

function isIntegerValued(values: Float64Array): boolean {
  return values.every((v) => Number.isInteger(v));
}

/**
 * `np.histogram_bin_edges(concat(ref, cur), bins="sturges")`: the bin count is
 * ceil(range / (range / (log2(n) + 1))) — usually ceil(log2(n) + 1), computed NumPy's way so its
 * rounding is reproduced — and the edges are `np.linspace(min, max, bins + 1)`.
 *
 * NumPy widens bins to 1 for integer-typed data (width < 1); integer-valued columns here
 * stand for the integer dtype pandas would give them. That only changes the count when
 * log2(n) + 1 exceeds the range, i.e. for more than ~10^6 values spanning fewer than ~20.
 */
export function sturgesEdges(reference: Float64Array, current: Float64Array): Float64Array {
  let first = Infinity;
  let last = -Infinity;
  for (const values of [reference, current]) {
    for (const v of values) {
      if (v < first) first = v;
      if (v > last) last = v;
    }
  }
  if (first === last) {
    first -= 0.5;
    last += 0.5;
  }
  const n = reference.length + current.length;
  const range = last - first;
  let width = range / (Math.log2(n) + 1);
  if (width < 1 && isIntegerValued(reference) && isIntegerValued(current)) width = 1;
  const bins = Math.ceil(range / width);
  const step = range / bins;
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => i * step + first);
  edges[bins] = last;
  return edges;
}

/**
 * Shares of `values` in the bins given by `edges` (`np.histogram` with explicit edges): bin i
 * holds edges[i] <= v < edges[i+1], the last bin is closed on the right.
 */
export function histogramShares(values: Float64Array, edges: Float64Array): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(bins);
  for (const v of values) {
    // Number of the first `bins` edges that are <= v, found by binary search; minus one.
    let lo = 0;
    let hi = bins;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (edges[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && v <= edges[bins]) counts[lo - 1] += 1;
  }
  return counts.map((c) => c / values.length);
}

/**
 * Evidently's zero fill for PSI and K–L: empty bins get 1e-4, or — when the smallest non-zero
 * share is itself <= 1e-4 — that share / 10^6. Returns a new vector.
 */
export function fillZeroShares(shares: Float64Array): Float64Array {
  let smallest = Infinity;
  for (const s of shares) if (s !== 0 && s < smallest) smallest = s;
  const fill = smallest <= 1e-4 ? smallest / 1e6 : 1e-4;
  return shares.map((s) => (s === 0 ? fill : s));
}
