import { CATEGORICAL } from "./binning.js";

/** Split-finding constraints (the loss-free part of the tree parameters). */
export interface SplitConstraints {
  readonly minSamplesLeaf: number;
  readonly minHessianLeaf: number;
  readonly lambda: number;
  readonly minGainToSplit: number;
  /** Categories with fewer rows in the node are not candidates for the left side. */
  readonly minDataPerCategory: number;
  /** Added to the hessian when ordering categories, damping the ratio of rare categories. */
  readonly catSmooth: number;
  /** Most categories a split may send left. */
  readonly maxCatThreshold: number;
}

/** Best split found for one leaf; reused across trees to avoid allocation. */
export class SplitInfo {
  feature = -1;
  gain = 0;
  /** Numeric: rows with bin ≤ thresholdBin go left. */
  thresholdBin = 0;
  /** Numeric: whether the missing bin goes left too (else right). */
  missingLeft = false;
  /** Categorical: the categories (bins) sent left, ascending, in catLeft[0..nCatLeft). */
  catLeft: Int32Array;
  nCatLeft = 0;
  leftG = 0;
  leftH = 0;
  leftC = 0;

  constructor(maxCategories: number) {
    this.catLeft = new Int32Array(Math.max(1, maxCategories));
  }

  reset(): void {
    this.feature = -1;
    this.gain = 0;
    this.nCatLeft = 0;
    this.missingLeft = false;
  }

  get valid(): boolean {
    return this.feature >= 0;
  }
}

/** Leaf objective part of the gain: G²/(H+λ). */
export function leafScore(g: number, h: number, lambda: number): number {
  const d = h + lambda;
  return d > 0 ? (g * g) / d : 0;
}

/** Scratch buffers for the categorical scan, sized for the largest categorical feature. */
export class CategoryScratch {
  readonly order: Int32Array;
  readonly ratio: Float64Array;
  constructor(maxCategories: number) {
    this.order = new Int32Array(Math.max(1, maxCategories));
    this.ratio = new Float64Array(Math.max(1, maxCategories));
  }
}

/**
 * Updates `best` if feature `f` has a better split than it holds. `sumG/sumH/count` are the
 * node totals; `parentScore` is leafScore of the node. Ties keep the earlier candidate, so the
 * result depends only on the order of the features passed in.
 */
export function findBestSplitForFeature(
  hist: Float64Array,
  f: number,
  kind: number,
  offset: number,
  nBins: number,
  sumG: number,
  sumH: number,
  count: number,
  parentScore: number,
  c: SplitConstraints,
  best: SplitInfo,
  scratch: CategoryScratch,
  binList: Int32Array | null = null,
  nList = 0,
): void {
  // Gains below this are rounding noise of the score differences, not structure.
  const minGain = Math.max(c.minGainToSplit, 1e-10 * (1 + parentScore));
  if (kind === CATEGORICAL) {
    categoricalSplit(
      hist,
      f,
      offset,
      nBins,
      sumG,
      sumH,
      count,
      parentScore,
      minGain,
      c,
      best,
      scratch,
    );
    return;
  }
  const lambda = c.lambda;
  const minLeaf = c.minSamplesLeaf;
  const minHess = c.minHessianLeaf;
  let bestGain = best.feature >= 0 ? best.gain : minGain;
  let bestT = -1;
  let bestGl = 0;
  let bestHl = 0;
  let bestCl = 0;
  let bestMissingLeft = false;
  const base = 3 * offset;
  // Value bins are 0..nBins-2, the last bin holds NaN. The first pass keeps the missing rows on
  // the right; a second pass, only when the node has missing rows, starts the left side with
  // them. Without missing rows the split is the one of the first pass alone, missing right.
  const lastThreshold = nBins - 3;
  const missing = base + 3 * (nBins - 1);
  const passes = hist[missing + 2] > 0 ? 2 : 1;
  // Either every bin in order, or only the listed (ascending, non-empty) ones.
  const nScan = binList === null ? lastThreshold + 1 : nList;
  for (let pass = 0; pass < passes; pass++) {
    let gl = pass === 0 ? 0 : hist[missing];
    let hl = pass === 0 ? 0 : hist[missing + 1];
    let cl = pass === 0 ? 0 : hist[missing + 2];
    for (let j = 0; j < nScan; j++) {
      const t = binList === null ? j : binList[j];
      if (t > lastThreshold) break;
      const idx = base + 3 * t;
      const cnt = hist[idx + 2];
      if (cnt === 0) continue;
      gl += hist[idx];
      hl += hist[idx + 1];
      cl += cnt;
      if (cl < minLeaf || hl < minHess) continue;
      const cr = count - cl;
      const hr = sumH - hl;
      if (cr < minLeaf || hr < minHess) break;
      const gr = sumG - gl;
      const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestT = t;
        bestGl = gl;
        bestHl = hl;
        bestCl = cl;
        bestMissingLeft = pass === 1;
      }
    }
  }
  if (bestT < 0) return;
  // Every threshold between the last non-empty left bin and the next non-empty bin gives the
  // same partition of the node; take the middle one so unseen values in the gap split evenly.
  let next = bestT + 1;
  if (binList === null) {
    while (next <= lastThreshold + 1 && hist[base + 3 * next + 2] === 0) next++;
  } else {
    let j = 0;
    while (j < nList && binList[j] <= bestT) j++;
    next = j < nList ? binList[j] : lastThreshold + 2;
  }
  const t = next > lastThreshold + 1 ? bestT : bestT + ((next - 1 - bestT) >> 1);
  best.feature = f;
  best.gain = bestGain;
  best.thresholdBin = t;
  best.nCatLeft = 0;
  best.missingLeft = bestMissingLeft;
  best.leftG = bestGl;
  best.leftH = bestHl;
  best.leftC = bestCl;
}

/**
 * LightGBM-style categorical split: categories with enough rows are sorted by G/(H+smoothing)
 * and every prefix of that order (from both ends) is tried as the left set, which for a
 * squared-error style gain contains the best partition of those categories. Rare and unknown
 * categories stay right.
 */
function categoricalSplit(
  hist: Float64Array,
  f: number,
  offset: number,
  nBins: number,
  sumG: number,
  sumH: number,
  count: number,
  parentScore: number,
  minGain: number,
  c: SplitConstraints,
  best: SplitInfo,
  scratch: CategoryScratch,
): void {
  const base = 3 * offset;
  const nCat = nBins - 1;
  const order = scratch.order;
  const ratio = scratch.ratio;
  const minCat = Math.max(1, c.minDataPerCategory);
  const smooth = c.catSmooth + c.lambda;
  let m = 0;
  let eligibleC = 0;
  for (let k = 0; k < nCat; k++) {
    const idx = base + 3 * k;
    const cnt = hist[idx + 2];
    if (cnt < minCat) continue;
    const d = hist[idx + 1] + smooth;
    ratio[k] = d > 0 ? hist[idx] / d : 0;
    order[m++] = k;
    eligibleC += cnt;
  }
  if (m === 0) return;
  // Insertion sort: few categories, and a typed array sort cannot take the tie-break.
  for (let i = 1; i < m; i++) {
    const k = order[i];
    const r = ratio[k];
    let j = i - 1;
    while (j >= 0 && (ratio[order[j]] > r || (ratio[order[j]] === r && order[j] > k))) {
      order[j + 1] = order[j];
      j--;
    }
    order[j + 1] = k;
  }
  const restC = count - eligibleC;
  // With no rare/unknown rows in the node the descending scan only mirrors the ascending one.
  const directions = restC > 0 ? 2 : 1;
  const maxK = Math.min(c.maxCatThreshold, restC > 0 ? m : m - 1);
  const lambda = c.lambda;
  const minLeaf = c.minSamplesLeaf;
  const minHess = c.minHessianLeaf;
  let bestGain = best.feature >= 0 ? best.gain : minGain;
  let bestDir = -1;
  let bestK = 0;
  let bestGl = 0;
  let bestHl = 0;
  let bestCl = 0;
  for (let dir = 0; dir < directions; dir++) {
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let i = 0; i < maxK; i++) {
      const k = order[dir === 0 ? i : m - 1 - i];
      const idx = base + 3 * k;
      gl += hist[idx];
      hl += hist[idx + 1];
      cl += hist[idx + 2];
      if (cl < minLeaf || hl < minHess) continue;
      const cr = count - cl;
      const hr = sumH - hl;
      if (cr < minLeaf || hr < minHess) break;
      const gr = sumG - gl;
      const gain = (gl * gl) / (hl + lambda) + (gr * gr) / (hr + lambda) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestDir = dir;
        bestK = i + 1;
        bestGl = gl;
        bestHl = hl;
        bestCl = cl;
      }
    }
  }
  if (bestDir < 0) return;
  best.feature = f;
  best.gain = bestGain;
  best.thresholdBin = -1;
  best.missingLeft = false;
  best.leftG = bestGl;
  best.leftH = bestHl;
  best.leftC = bestCl;
  const out = best.catLeft;
  for (let i = 0; i < bestK; i++) out[i] = order[bestDir === 0 ? i : m - 1 - i];
  best.nCatLeft = bestK;
  // Ascending, so the stored split does not depend on the scan direction.
  sortInts(out, bestK);
}

/** In-place ascending insertion sort of a[0..n): the lists sorted here are short. */
export function sortInts(a: Int32Array, n: number): void {
  for (let i = 1; i < n; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= 0 && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}
