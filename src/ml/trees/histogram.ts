/**
 * Gradient histograms. One histogram holds, for every bin of every feature, the sums of gradient,
 * hessian and row count, interleaved (`[g, h, c]` at `3 * (offset[f] + bin)`) so one bin is one
 * cache line fetch. Only the features being considered are ever built or read.
 */

/** `parent -= child` on the listed features: what is left is the sibling's histogram. */
export function subtractHistogram(
  parent: Float64Array,
  child: Float64Array,
  offsets: Int32Array,
  features: Int32Array,
  nFeatures: number,
): void {
  for (let k = 0; k < nFeatures; k++) {
    const f = features[k];
    const end = 3 * offsets[f + 1];
    for (let i = 3 * offsets[f]; i < end; i++) parent[i] -= child[i];
  }
}

/**
 * One feature's histogram of rows[begin..end) into bins that start out zero; lists the touched
 * bins in ascending order in `touched` and returns how many. For nodes with far fewer rows than
 * bins, scanning and clearing only these beats the dense pass over every bin. The order comes
 * from a bitmap of touched bins (`bits`, all zero on entry and on return), which is cheaper
 * than sorting.
 */
export function buildSparseHistogram(
  hist: Float64Array,
  offset: number,
  nBins: number,
  col: Uint16Array,
  grad: Float64Array,
  hess: Float64Array,
  rows: Int32Array,
  begin: number,
  end: number,
  touched: Int32Array,
  bits: Uint32Array,
): number {
  const base = 3 * offset;
  for (let i = begin; i < end; i++) {
    const r = rows[i];
    const bin = col[r];
    const b = base + 3 * bin;
    bits[bin >>> 5] |= 1 << (bin & 31);
    hist[b] += grad[r];
    hist[b + 1] += hess[r];
    hist[b + 2] += 1;
  }
  let nt = 0;
  for (let w = 0, nw = (nBins + 31) >>> 5; w < nw; w++) {
    let word = bits[w];
    if (word === 0) continue;
    bits[w] = 0;
    while (word !== 0) {
      const low = word & -word;
      touched[nt++] = (w << 5) + 31 - Math.clz32(low);
      word ^= low;
    }
  }
  return nt;
}

/** Zeroes the listed bins of one feature, restoring an all-zero histogram. */
export function clearSparseHistogram(
  hist: Float64Array,
  offset: number,
  touched: Int32Array,
  nt: number,
): void {
  const base = 3 * offset;
  for (let k = 0; k < nt; k++) {
    const b = base + 3 * touched[k];
    hist[b] = 0;
    hist[b + 1] = 0;
    hist[b + 2] = 0;
  }
}

/**
 * Histograms of several features over rows[begin..end) in one pass over the rows, clearing their
 * bins first. Row after row hits the same few bins of a categorical feature, and each update
 * waits for the previous store to the same bin; interleaving features gives independent chains.
 */
export function buildFeaturesHistogram(
  hist: Float64Array,
  offsets: Int32Array,
  nBins: Int32Array,
  features: Int32Array,
  nFeatures: number,
  binCols: readonly Uint16Array[],
  grad: Float64Array,
  hess: Float64Array,
  rows: Int32Array,
  begin: number,
  end: number,
): void {
  for (let k = 0; k < nFeatures; k++) {
    const f = features[k];
    for (let b = 3 * offsets[f], e = 3 * (offsets[f] + nBins[f]); b < e; b++) hist[b] = 0;
  }
  let k = 0;
  for (; k + 1 < nFeatures; k += 2) {
    const c0 = binCols[features[k]];
    const c1 = binCols[features[k + 1]];
    const o0 = 3 * offsets[features[k]];
    const o1 = 3 * offsets[features[k + 1]];
    for (let i = begin; i < end; i++) {
      const r = rows[i];
      const g = grad[r];
      const h = hess[r];
      const b0 = o0 + 3 * c0[r];
      const b1 = o1 + 3 * c1[r];
      hist[b0] += g;
      hist[b1] += g;
      hist[b0 + 1] += h;
      hist[b1 + 1] += h;
      hist[b0 + 2] += 1;
      hist[b1 + 2] += 1;
    }
  }
  if (k < nFeatures) {
    const c0 = binCols[features[k]];
    const o0 = 3 * offsets[features[k]];
    for (let i = begin; i < end; i++) {
      const r = rows[i];
      const b0 = o0 + 3 * c0[r];
      hist[b0] += grad[r];
      hist[b0 + 1] += hess[r];
      hist[b0 + 2] += 1;
    }
  }
}
