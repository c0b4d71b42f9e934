import type { Rng } from "../../core/rng.js";
import { type BinMapper, type BinnedMatrix, CATEGORICAL } from "./binning.js";
import {
  buildFeaturesHistogram,
  buildSparseHistogram,
  clearSparseHistogram,
  subtractHistogram,
} from "./histogram.js";
import {
  CategoryScratch,
  type SplitConstraints,
  SplitInfo,
  findBestSplitForFeature,
  leafScore,
  sortInts,
} from "./split.js";
import { Tree } from "./tree.js";

/** Everything the tree learner needs besides the data; it never sees the loss. */
export interface TreeParams extends SplitConstraints {
  /** Most leaves (best-first growth stops there); 0 = no limit. */
  readonly maxLeaves: number;
  /** Deepest a leaf may be (root = 0); 0 = no limit. */
  readonly maxDepth: number;
  /** Fraction of the features drawn once per tree (GBDT column subsampling). */
  readonly featureFraction: number;
  /** Features drawn per node from the tree's features (forest mtry); 0 = all of them. */
  readonly featuresPerNode: number;
}

export const DEFAULT_TREE_PARAMS: TreeParams = {
  maxLeaves: 31,
  maxDepth: 0,
  minSamplesLeaf: 20,
  minHessianLeaf: 1e-3,
  lambda: 0,
  minGainToSplit: 0,
  minDataPerCategory: 1,
  catSmooth: 0,
  maxCatThreshold: 32,
  featureFraction: 1,
  featuresPerNode: 0,
};

/** Histogram memory kept for pending leaves is bounded (in doubles) so wide data cannot blow up. */
const MAX_POOL_DOUBLES = 1 << 24;

/**
 * Histogram tree learner (LightGBM-like): pre-binned features, per-row gradient and hessian,
 * best-first growth, leaf value −G/(H+λ). One learner is built per fit and reused for every
 * tree, so growing a tree allocates only the returned Tree.
 *
 * Histograms: with all of the tree's features considered at every node, a split builds the
 * smaller child's histogram and gets the larger one by subtracting it from the parent's. With
 * per-node feature sampling the parent's histogram covers other features than the child needs,
 * so each child builds just its sampled features instead (cheaper than building all of them),
 * and a numeric feature with many more bins than the node has rows is built sparsely: only the
 * touched bins are scanned and cleared, which keeps the many small nodes of deep trees cheap.
 */
export class TreeLearner {
  private readonly mapper: BinMapper;
  private readonly binCols: readonly Uint16Array[];
  private readonly p: TreeParams;
  private readonly nFeatures: number;
  private readonly maxLeaves: number;

  private readonly rows: Int32Array;
  private readonly tmpRows: Int32Array;
  private readonly catMask: Uint8Array;
  private readonly catScratch: CategoryScratch;
  private readonly maxCategories: number;

  // Leaf state, indexed by leaf id (the Tree's leaf numbering).
  private readonly leafBegin: Int32Array;
  private readonly leafEnd: Int32Array;
  private readonly leafG: Float64Array;
  private readonly leafH: Float64Array;
  private readonly leafDepth: Int32Array;
  private readonly leafSlot: Int32Array;
  private readonly leafParent: Int32Array;
  private readonly leafIsLeft: Uint8Array;
  private readonly splits: SplitInfo[] = [];
  private readonly candidates: Int32Array;
  private nCandidates = 0;
  private nLeaves = 0;

  // Internal nodes of the tree being grown.
  private readonly nodeFeature: Int32Array;
  private readonly nodeThreshold: Float64Array;
  /** Numeric splits: the highest bin on the left. */
  private readonly nodeBin: Int32Array;
  private readonly nodeCategorical: Uint8Array;
  private readonly nodeMissingLeft: Uint8Array;
  private readonly nodeLeft: Int32Array;
  private readonly nodeRight: Int32Array;
  private readonly nodeGain: Float64Array;
  private readonly nodeCover: Float64Array;
  private catOffsets: Int32Array;
  private catValues: Int32Array;
  private nCatSets = 0;
  private nInternal = 0;

  private readonly pool: Float64Array[] = [];
  private readonly freeSlots: number[] = [];
  private readonly maxSlots: number;
  private readonly scratch: Float64Array;
  /** All zero between uses (sparse builds clear what they touched). */
  private readonly sparseHist: Float64Array;
  private readonly touched: Int32Array;
  private readonly touchedBits: Uint32Array;

  private readonly allFeatures: Int32Array;
  private readonly treeFeatures: Int32Array;
  private nTreeFeatures = 0;
  private readonly nodeFeatures: Int32Array;
  private readonly denseFeatures: Int32Array;
  private readonly directMode: boolean;
  private readonly nodeFeatureCount: number;

  private grad: Float64Array = new Float64Array(0);
  private hess: Float64Array = new Float64Array(0);
  private rng: Rng | null = null;

  constructor(mapper: BinMapper, binned: BinnedMatrix, params: TreeParams) {
    validateTreeParams(params);
    this.mapper = mapper;
    this.binCols = binned.columns;
    this.p = params;
    this.nFeatures = mapper.nFeatures;
    const n = binned.n;
    this.maxLeaves =
      params.maxLeaves > 0 ? Math.min(params.maxLeaves, Math.max(1, n)) : Math.max(1, n);
    this.rows = new Int32Array(n);
    this.tmpRows = new Int32Array(n);
    let maxCat = 1;
    for (let f = 0; f < this.nFeatures; f++) {
      if (mapper.kinds[f] === CATEGORICAL) maxCat = Math.max(maxCat, mapper.nBins[f]);
    }
    this.maxCategories = maxCat;
    this.catMask = new Uint8Array(maxCat);
    this.catScratch = new CategoryScratch(maxCat);
    const L = this.maxLeaves;
    this.leafBegin = new Int32Array(L);
    this.leafEnd = new Int32Array(L);
    this.leafG = new Float64Array(L);
    this.leafH = new Float64Array(L);
    this.leafDepth = new Int32Array(L);
    this.leafSlot = new Int32Array(L);
    this.leafParent = new Int32Array(L);
    this.leafIsLeft = new Uint8Array(L);
    this.candidates = new Int32Array(L);
    const I = Math.max(1, L - 1);
    this.nodeFeature = new Int32Array(I);
    this.nodeThreshold = new Float64Array(I);
    this.nodeBin = new Int32Array(I);
    this.nodeCategorical = new Uint8Array(I);
    this.nodeMissingLeft = new Uint8Array(I);
    this.nodeLeft = new Int32Array(I);
    this.nodeRight = new Int32Array(I);
    this.nodeGain = new Float64Array(I);
    this.nodeCover = new Float64Array(I);
    this.catOffsets = new Int32Array(I + 1);
    this.catValues = new Int32Array(Math.max(16, maxCat));
    const histSize = 3 * mapper.totalBins;
    this.scratch = new Float64Array(histSize);
    this.sparseHist = new Float64Array(histSize);
    let maxBins = 1;
    for (let f = 0; f < this.nFeatures; f++) maxBins = Math.max(maxBins, mapper.nBins[f]);
    this.touched = new Int32Array(maxBins);
    this.touchedBits = new Uint32Array((maxBins + 31) >>> 5);
    this.maxSlots = Math.max(
      2,
      Math.min(L + 1, Math.floor(MAX_POOL_DOUBLES / Math.max(1, histSize))),
    );
    this.allFeatures = new Int32Array(this.nFeatures);
    for (let f = 0; f < this.nFeatures; f++) this.allFeatures[f] = f;
    this.treeFeatures = new Int32Array(this.nFeatures);
    this.nodeFeatures = new Int32Array(this.nFeatures);
    this.denseFeatures = new Int32Array(this.nFeatures);
    const perTree =
      params.featureFraction >= 1
        ? this.nFeatures
        : Math.max(
            1,
            Math.min(this.nFeatures, Math.round(params.featureFraction * this.nFeatures)),
          );
    this.nodeFeatureCount =
      params.featuresPerNode > 0 ? Math.min(params.featuresPerNode, perTree) : perTree;
    this.directMode = this.nodeFeatureCount < perTree;
  }

  /**
   * Grows one tree on rows[0..nRows) with the given per-row gradients and hessians (indexed by
   * row of the binned matrix). Leaf values are −G/(H+λ)·scale, quantised to 1e-9 so that the
   * JSON form is short and reads back to exactly the same numbers.
   */
  fit(
    grad: Float64Array,
    hess: Float64Array,
    rows: Int32Array,
    nRows: number,
    rng: Rng,
    scale = 1,
  ): Tree {
    if (nRows < 1) throw new RangeError("cannot grow a tree on zero rows");
    this.grad = grad;
    this.hess = hess;
    this.rng = rng;
    let g = 0;
    let h = 0;
    for (let i = 0; i < nRows; i++) {
      const r = rows[i];
      this.rows[i] = r;
      g += grad[r];
      h += hess[r];
    }
    this.sampleTreeFeatures(rng);
    this.nInternal = 0;
    this.nCatSets = 0;
    this.nCandidates = 0;
    this.freeSlots.length = 0;
    for (let s = 0; s < this.pool.length; s++) this.freeSlots.push(this.pool.length - 1 - s);

    this.nLeaves = 1;
    this.initLeaf(0, 0, nRows, g, h, 0, -1, 0);
    if (this.canSplit(0)) {
      if (this.directMode) this.evaluateDirect(0);
      else {
        const slot = this.allocSlot();
        const hist = slot >= 0 ? this.pool[slot] : this.scratch;
        this.buildInto(hist, 0);
        this.leafSlot[0] = slot;
        this.evaluateFrom(0, hist);
      }
    }

    const unlimited = this.p.maxLeaves <= 0;
    while (this.nLeaves < this.maxLeaves && this.nCandidates > 0) {
      let pick: number;
      if (unlimited) {
        // Without a leaf budget the order of splits cannot change the tree.
        pick = --this.nCandidates;
      } else {
        pick = 0;
        for (let i = 1; i < this.nCandidates; i++) {
          const a = this.candidates[i];
          const b = this.candidates[pick];
          const ga = this.splits[a].gain;
          const gb = this.splits[b].gain;
          if (ga > gb || (ga === gb && a < b)) pick = i;
        }
        this.nCandidates--;
        const t = this.candidates[pick];
        this.candidates[pick] = this.candidates[this.nCandidates];
        this.candidates[this.nCandidates] = t;
        pick = this.nCandidates;
      }
      this.splitLeaf(this.candidates[pick]);
    }
    for (let i = 0; i < this.nCandidates; i++) this.releaseSlot(this.candidates[i]);
    this.nCandidates = 0;
    return this.buildTree(scale);
  }

  /** Adds each training row's leaf value to `scores`, for the rows the last tree was grown on. */
  addLeafValues(tree: Tree, scores: Float64Array): void {
    for (let l = 0; l < tree.nLeaves; l++) {
      const v = tree.leafValue[l];
      for (let i = this.leafBegin[l]; i < this.leafEnd[l]; i++) scores[this.rows[i]] += v;
    }
  }

  /**
   * Adds the last tree's leaf value to `scores` for other rows of the binned matrix,
   * rows[begin..end), by walking the tree on their bins: the same leaves as `tree` on raw values
   * (see BinMapper), a quarter of the memory read, and no missing-value tests.
   */
  addLeafValuesOf(
    tree: Tree,
    rows: Int32Array,
    begin: number,
    end: number,
    scores: Float64Array,
  ): void {
    const value = tree.leafValue;
    if (this.nInternal === 0) {
      for (let i = begin; i < end; i++) scores[rows[i]] += value[0];
      return;
    }
    const cols = this.binCols;
    const feature = this.nodeFeature;
    const bin = this.nodeBin;
    const categorical = this.nodeCategorical;
    const missingLeft = this.nodeMissingLeft;
    const missingBin = this.mapper.nBins;
    const left = this.nodeLeft;
    const right = this.nodeRight;
    for (let i = begin; i < end; i++) {
      const r = rows[i];
      let node = 0;
      while (node >= 0) {
        const f = feature[node];
        const b = cols[f][r];
        let goLeft: boolean;
        if (categorical[node] === 0) {
          goLeft = b === missingBin[f] - 1 ? missingLeft[node] === 1 : b <= bin[node];
        } else {
          goLeft = false;
          const s = this.nodeThreshold[node];
          for (let k = this.catOffsets[s]; k < this.catOffsets[s + 1]; k++) {
            if (this.catValues[k] === b) {
              goLeft = true;
              break;
            }
          }
        }
        node = goLeft ? left[node] : right[node];
      }
      scores[r] += value[~node];
    }
  }

  private sampleTreeFeatures(rng: Rng): void {
    const F = this.nFeatures;
    const tf = this.treeFeatures;
    tf.set(this.allFeatures);
    let k = F;
    if (this.p.featureFraction < 1) {
      k = Math.max(1, Math.min(F, Math.round(this.p.featureFraction * F)));
      partialShuffle(tf, F, k, rng);
      sortInts(tf, k);
    }
    this.nTreeFeatures = k;
  }

  private sampleNodeFeatures(): number {
    const k = this.nodeFeatureCount;
    const nf = this.nodeFeatures;
    for (let i = 0; i < this.nTreeFeatures; i++) nf[i] = this.treeFeatures[i];
    partialShuffle(nf, this.nTreeFeatures, k, this.rng as Rng);
    sortInts(nf, k);
    return k;
  }

  private initLeaf(
    l: number,
    begin: number,
    end: number,
    g: number,
    h: number,
    depth: number,
    parent: number,
    isLeft: number,
  ): void {
    this.leafBegin[l] = begin;
    this.leafEnd[l] = end;
    this.leafG[l] = g;
    this.leafH[l] = h;
    this.leafDepth[l] = depth;
    this.leafParent[l] = parent;
    this.leafIsLeft[l] = isLeft;
    this.leafSlot[l] = -1;
    if (this.splits.length <= l) this.splits.push(new SplitInfo(this.maxCategories));
    this.splits[l].reset();
  }

  private canSplit(l: number): boolean {
    const p = this.p;
    const count = this.leafEnd[l] - this.leafBegin[l];
    return (
      (p.maxDepth <= 0 || this.leafDepth[l] < p.maxDepth) &&
      count >= 2 * Math.max(1, p.minSamplesLeaf) &&
      this.leafH[l] >= 2 * p.minHessianLeaf &&
      !this.sameRatio(l)
    );
  }

  /**
   * Whether every row of the leaf has the same gradient/hessian ratio, in which case no split
   * has positive gain (the gain is zero exactly when both sides keep the parent's ratio). Pure
   * leaves of a forest are the common case; elsewhere the scan stops at the second row.
   */
  private sameRatio(l: number): boolean {
    const rows = this.rows;
    const grad = this.grad;
    const hess = this.hess;
    const begin = this.leafBegin[l];
    const r0 = rows[begin];
    const q = grad[r0] / hess[r0];
    for (let i = begin + 1; i < this.leafEnd[l]; i++) {
      const r = rows[i];
      if (grad[r] / hess[r] !== q) return false;
    }
    return q === q;
  }

  private allocSlot(): number {
    if (this.freeSlots.length > 0) return this.freeSlots.pop() as number;
    if (this.pool.length >= this.maxSlots) return -1;
    this.pool.push(new Float64Array(3 * this.mapper.totalBins));
    return this.pool.length - 1;
  }

  private releaseSlot(l: number): void {
    const s = this.leafSlot[l];
    if (s >= 0) this.freeSlots.push(s);
    this.leafSlot[l] = -1;
  }

  private buildInto(hist: Float64Array, l: number): void {
    buildFeaturesHistogram(
      hist,
      this.mapper.offsets,
      this.mapper.nBins,
      this.treeFeatures,
      this.nTreeFeatures,
      this.binCols,
      this.grad,
      this.hess,
      this.rows,
      this.leafBegin[l],
      this.leafEnd[l],
    );
  }

  /**
   * Evaluates a leaf on freshly drawn node features, from histograms built for it alone in
   * scratch (sparsely for a numeric feature with many more bins than the leaf has rows).
   */
  private evaluateDirect(l: number): void {
    const k = this.sampleNodeFeatures();
    const features = this.nodeFeatures;
    const m = this.mapper;
    const best = this.splits[l];
    best.reset();
    const begin = this.leafBegin[l];
    const end = this.leafEnd[l];
    const count = end - begin;
    const g = this.leafG[l];
    const h = this.leafH[l];
    const parentScore = leafScore(g, h, this.p.lambda);
    const dense = this.denseFeatures;
    let nDense = 0;
    for (let j = 0; j < k; j++) {
      const f = features[j];
      if (m.kinds[f] === CATEGORICAL || 2 * count >= m.nBins[f]) dense[nDense++] = f;
    }
    if (nDense > 0) {
      buildFeaturesHistogram(
        this.scratch,
        m.offsets,
        m.nBins,
        dense,
        nDense,
        this.binCols,
        this.grad,
        this.hess,
        this.rows,
        begin,
        end,
      );
    }
    // Features are scanned in ascending order whichever way they were built, so ties between
    // equal gains resolve the same way.
    for (let j = 0; j < k; j++) {
      const f = features[j];
      const nb = m.nBins[f];
      if (m.kinds[f] === CATEGORICAL || 2 * count >= nb) {
        findBestSplitForFeature(
          this.scratch,
          f,
          m.kinds[f],
          m.offsets[f],
          nb,
          g,
          h,
          count,
          parentScore,
          this.p,
          best,
          this.catScratch,
        );
        continue;
      }
      const hist = this.sparseHist;
      const touched = this.touched;
      const nt = buildSparseHistogram(
        hist,
        m.offsets[f],
        nb,
        this.binCols[f],
        this.grad,
        this.hess,
        this.rows,
        begin,
        end,
        touched,
        this.touchedBits,
      );
      findBestSplitForFeature(
        hist,
        f,
        m.kinds[f],
        m.offsets[f],
        nb,
        g,
        h,
        count,
        parentScore,
        this.p,
        best,
        this.catScratch,
        touched,
        nt,
      );
      clearSparseHistogram(hist, m.offsets[f], touched, nt);
    }
    if (best.valid) this.candidates[this.nCandidates++] = l;
  }

  private evaluateFrom(l: number, hist: Float64Array): void {
    this.findSplit(l, hist, this.treeFeatures, this.nTreeFeatures);
  }

  private findSplit(l: number, hist: Float64Array, features: Int32Array, nF: number): void {
    const best = this.splits[l];
    best.reset();
    const g = this.leafG[l];
    const h = this.leafH[l];
    const count = this.leafEnd[l] - this.leafBegin[l];
    const parentScore = leafScore(g, h, this.p.lambda);
    const m = this.mapper;
    for (let k = 0; k < nF; k++) {
      const f = features[k];
      findBestSplitForFeature(
        hist,
        f,
        m.kinds[f],
        m.offsets[f],
        m.nBins[f],
        g,
        h,
        count,
        parentScore,
        this.p,
        best,
        this.catScratch,
      );
    }
    if (best.valid) this.candidates[this.nCandidates++] = l;
    else this.releaseSlot(l);
  }

  private splitLeaf(l: number): void {
    const s = this.splits[l];
    const f = s.feature;
    const k = this.nInternal++;
    const parent = this.leafParent[l];
    if (parent >= 0) {
      if (this.leafIsLeft[l]) this.nodeLeft[parent] = k;
      else this.nodeRight[parent] = k;
    }
    this.nodeFeature[k] = f;
    this.nodeGain[k] = roundSig(s.gain, 6);
    this.nodeCover[k] = roundSig(this.leafH[l], 6);
    const begin = this.leafBegin[l];
    const end = this.leafEnd[l];
    const col = this.binCols[f];
    const rows = this.rows;
    const tmp = this.tmpRows;
    let w = begin;
    let t = 0;
    if (s.nCatLeft > 0 || this.mapper.kinds[f] === CATEGORICAL) {
      const mask = this.catMask;
      for (let i = 0; i < s.nCatLeft; i++) mask[s.catLeft[i]] = 1;
      // Branch-free: the side of a row is unpredictable, so write to both and advance one.
      for (let i = begin; i < end; i++) {
        const r = rows[i];
        const left = mask[col[r]];
        rows[w] = r;
        tmp[t] = r;
        w += left;
        t += 1 - left;
      }
      for (let i = 0; i < s.nCatLeft; i++) mask[s.catLeft[i]] = 0;
      this.nodeCategorical[k] = 1;
      this.nodeMissingLeft[k] = 0;
      this.nodeThreshold[k] = this.nCatSets;
      this.pushCatSet(s.catLeft, s.nCatLeft);
    } else {
      const thr = s.thresholdBin;
      if (s.missingLeft) {
        // The missing bin (the highest) joins the left side.
        const missing = this.mapper.nBins[f] - 1;
        for (let i = begin; i < end; i++) {
          const r = rows[i];
          const b = col[r];
          const right = ((thr - b) >>> 31) & Number(b !== missing);
          rows[w] = r;
          tmp[t] = r;
          w += 1 - right;
          t += right;
        }
      } else {
        for (let i = begin; i < end; i++) {
          const r = rows[i];
          const right = (thr - col[r]) >>> 31;
          rows[w] = r;
          tmp[t] = r;
          w += 1 - right;
          t += right;
        }
      }
      this.nodeCategorical[k] = 0;
      this.nodeMissingLeft[k] = s.missingLeft ? 1 : 0;
      this.nodeThreshold[k] = this.mapper.upper[f][thr];
      this.nodeBin[k] = thr;
    }
    const mid = w;
    for (let i = 0; i < t; i++) rows[w + i] = tmp[i];

    const r = this.nLeaves++;
    const depth = this.leafDepth[l] + 1;
    const gl = s.leftG;
    const hl = s.leftH;
    const gr = this.leafG[l] - gl;
    const hr = this.leafH[l] - hl;
    const parentSlot = this.leafSlot[l];
    this.initLeaf(l, begin, mid, gl, hl, depth, k, 1);
    this.initLeaf(r, mid, end, gr, hr, depth, k, 0);
    this.nodeLeft[k] = ~l;
    this.nodeRight[k] = ~r;

    const splitL = this.nLeaves < this.maxLeaves && this.canSplit(l);
    const splitR = this.nLeaves < this.maxLeaves && this.canSplit(r);
    if (!splitL && !splitR) {
      if (parentSlot >= 0) this.freeSlots.push(parentSlot);
      return;
    }
    if (this.directMode) {
      if (splitL) this.evaluateDirect(l);
      if (splitR) this.evaluateDirect(r);
      return;
    }
    if (parentSlot >= 0) {
      const leftSmaller = mid - begin <= end - mid;
      const small = leftSmaller ? l : r;
      const large = leftSmaller ? r : l;
      const smallSlot = this.allocSlot();
      const hs = smallSlot >= 0 ? this.pool[smallSlot] : this.scratch;
      this.buildInto(hs, small);
      const hp = this.pool[parentSlot];
      subtractHistogram(hp, hs, this.mapper.offsets, this.treeFeatures, this.nTreeFeatures);
      this.leafSlot[small] = smallSlot;
      this.leafSlot[large] = parentSlot;
      const splitSmall = leftSmaller ? splitL : splitR;
      const splitLarge = leftSmaller ? splitR : splitL;
      if (splitSmall) this.evaluateFrom(small, hs);
      else this.releaseSlot(small);
      if (splitLarge) this.evaluateFrom(large, hp);
      else this.releaseSlot(large);
      return;
    }
    for (const [leaf, go] of [
      [l, splitL],
      [r, splitR],
    ] as const) {
      if (!go) continue;
      const slot = this.allocSlot();
      const hist = slot >= 0 ? this.pool[slot] : this.scratch;
      this.buildInto(hist, leaf);
      this.leafSlot[leaf] = slot;
      this.evaluateFrom(leaf, hist);
    }
  }

  private pushCatSet(values: Int32Array, n: number): void {
    const start = this.catOffsets[this.nCatSets];
    if (start + n > this.catValues.length) {
      const grown = new Int32Array(Math.max(2 * this.catValues.length, start + n));
      grown.set(this.catValues);
      this.catValues = grown;
    }
    for (let i = 0; i < n; i++) this.catValues[start + i] = values[i];
    this.catOffsets[++this.nCatSets] = start + n;
  }

  /**
   * The grown tree, its arrays carved out of one buffer: one backing store per tree instead of a
   * dozen keeps allocation and garbage collection small for forests of deep trees.
   */
  private buildTree(scale: number): Tree {
    const L = this.nLeaves;
    const I = this.nInternal;
    const S = this.nCatSets;
    const V = this.catOffsets[S];
    const nF64 = 3 * I + 2 * L;
    const nI32 = 3 * I + S + 1 + V;
    // Bytes: the categorical flags, then the missing-left flags.
    const buf = new ArrayBuffer(8 * nF64 + 4 * nI32 + 2 * I);
    let f64 = 0;
    const f64View = (len: number): Float64Array => {
      const v = new Float64Array(buf, 8 * f64, len);
      f64 += len;
      return v;
    };
    let i32 = 8 * nF64;
    const i32View = (len: number): Int32Array => {
      const v = new Int32Array(buf, i32, len);
      i32 += 4 * len;
      return v;
    };
    const threshold = f64View(I);
    const gain = f64View(I);
    const cover = f64View(I);
    const leafValue = f64View(L);
    const leafCover = f64View(L);
    const feature = i32View(I);
    const left = i32View(I);
    const right = i32View(I);
    const catOffsets = i32View(S + 1);
    const catValues = i32View(V);
    const categorical = new Uint8Array(buf, i32, I);
    const missingLeft = new Uint8Array(buf, i32 + I, I);
    for (let k = 0; k < I; k++) {
      threshold[k] = this.nodeThreshold[k];
      gain[k] = this.nodeGain[k];
      cover[k] = this.nodeCover[k];
      feature[k] = this.nodeFeature[k];
      left[k] = this.nodeLeft[k];
      right[k] = this.nodeRight[k];
      categorical[k] = this.nodeCategorical[k];
      missingLeft[k] = this.nodeMissingLeft[k];
    }
    for (let s = 0; s <= S; s++) catOffsets[s] = this.catOffsets[s];
    for (let v = 0; v < V; v++) catValues[v] = this.catValues[v];
    const lambda = this.p.lambda;
    for (let l = 0; l < L; l++) {
      const d = this.leafH[l] + lambda;
      leafValue[l] = quantiseLeaf(d > 0 ? (-this.leafG[l] / d) * scale : 0);
      leafCover[l] = roundSig(this.leafH[l], 6);
    }
    return new Tree(
      L,
      feature,
      threshold,
      categorical,
      left,
      right,
      gain,
      cover,
      leafValue,
      leafCover,
      catOffsets,
      catValues,
      missingLeft,
    );
  }
}

export function validateTreeParams(p: TreeParams): void {
  const check = (ok: boolean, what: string, v: unknown): void => {
    if (!ok) throw new RangeError(`tree parameter ${what} is invalid: ${String(v)}`);
  };
  const isInt = (v: number): boolean => Number.isInteger(v);
  check(isInt(p.maxLeaves) && p.maxLeaves >= 0, "maxLeaves (integer ≥ 0)", p.maxLeaves);
  check(isInt(p.maxDepth) && p.maxDepth >= 0, "maxDepth (integer ≥ 0)", p.maxDepth);
  check(
    isInt(p.minSamplesLeaf) && p.minSamplesLeaf >= 1,
    "minSamplesLeaf (integer ≥ 1)",
    p.minSamplesLeaf,
  );
  check(p.minHessianLeaf >= 0, "minHessianLeaf (≥ 0)", p.minHessianLeaf);
  check(p.lambda >= 0, "lambda (≥ 0)", p.lambda);
  check(p.minGainToSplit >= 0, "minGainToSplit (≥ 0)", p.minGainToSplit);
  check(
    isInt(p.minDataPerCategory) && p.minDataPerCategory >= 1,
    "minDataPerCategory (integer ≥ 1)",
    p.minDataPerCategory,
  );
  check(p.catSmooth >= 0, "catSmooth (≥ 0)", p.catSmooth);
  check(
    isInt(p.maxCatThreshold) && p.maxCatThreshold >= 1,
    "maxCatThreshold (integer ≥ 1)",
    p.maxCatThreshold,
  );
  check(
    p.featureFraction > 0 && p.featureFraction <= 1,
    "featureFraction (in (0, 1])",
    p.featureFraction,
  );
  check(
    isInt(p.featuresPerNode) && p.featuresPerNode >= 0,
    "featuresPerNode (integer ≥ 0)",
    p.featuresPerNode,
  );
}

/** First k entries of a[0..n) become a uniform random k-subset (partial Fisher–Yates). */
function partialShuffle(a: Int32Array, n: number, k: number, rng: Rng): void {
  for (let i = 0; i < k && i < n - 1; i++) {
    const j = i + rng.int(n - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/**
 * Leaf values on a 1e-9 grid: k/1e9 is the double nearest that decimal, so JSON prints it in at
 * most ten digits and parses back to the same double; 1e-9 is far below any effect on a score.
 */
export function quantiseLeaf(x: number): number {
  if (!(Math.abs(x) < 1e6)) return x;
  return Math.round(x * 1e9) / 1e9 + 0;
}

/** x rounded to `digits` significant digits, by an exact power of ten so it prints short. */
export function roundSig(x: number, digits: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const a = Math.abs(x);
  // e = floor(log10(a)) by comparisons: much cheaper than Math.log10 plus a power.
  let e = 0;
  if (a >= 1) {
    while (e < 22 && a >= POW10[e + 1]) e++;
  } else {
    while (e > -22 && a * POW10[-e] < 1) e--;
  }
  const k = digits - 1 - e;
  if (k > 22 || k < -22) return x;
  if (k <= 0) {
    const p = POW10[-k];
    return Math.round(x / p) * p;
  }
  const p = POW10[k];
  return Math.round(x * p) / p;
}

/** Exact powers of ten (10^22 is the largest exactly representable). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);
