import type { Tree } from "../trees/index.js";
import { gaussLegendre } from "./quadrature.js";

/**
 * Exact path-dependent TreeSHAP (Lundberg, Erion & Lee 2018) for a sum of trees, in O(L·D) per
 * tree and row (L leaves, D distinct features on a path) instead of Algorithm 2's O(L·D²).
 *
 * The game. For a feature subset S, v(S) is the tree's output with the features of S fixed to
 * the row's values and the others integrated out by the training covers: at a split on a
 * feature in S the row's branch is taken, at any other split both branches are taken, weighted
 * by their children's cover (hessian sums for boosting, bootstrap weights for the forest)
 * normalised to sum to 1. Grouping a path's splits by feature, leaf l with value v_l and
 * distinct path features U contributes
 *   v_l · Π_{k ∈ U} (k ∈ S ? o_k : z_k),
 * where z_k is the product of the cover fractions of the path's splits on k and o_k ∈ {0, 1}
 * says whether the row satisfies all of them. A categorical split routes on its one feature
 * (set membership), so it is just another split here: "one-hot" fractions do not arise.
 *
 * The Shapley value of such a product game has a closed form: with w(s) = s!(d−s−1)!/d! =
 * ∫₀¹ t^s (1−t)^(d−s−1) dt, feature i ∈ U gets
 *   φ_i = v_l (o_i − z_i) ∫₀¹ Π_{k ∈ U∖i} (z_k (1−t) + o_k t) dt,
 * the integral of a polynomial of degree |U| − 1, which Gauss–Legendre quadrature with
 * ⌈D/2⌉ points computes exactly. The tree's sum over leaves then takes two passes over the
 * nodes, each carrying one value per quadrature point (the idea of Linear TreeShap, Yu et al.
 * 2022, here with quadrature instead of polynomial interpolation):
 * - down: G(n, t) = Π over the distinct features on the path to n of (z_k (1−t) + o_k t);
 * - up: S(n, t) = Σ over the leaves l below n of v_l G(l, t);
 * and the edge into n, split on feature k, adds Σ_q w_q D(n, t_q) S(n, t_q) to φ_k, where
 * D(n, t) = (o − z)/f − (o' − z')/f' compares k's factor f after this split with its factor f'
 * at the previous split on k along the path (o' = z' = 1 if none): along a path the terms
 * telescope to the leaf's (o_k − z_k)/f_k. Once the row has failed a split on k, every later
 * split on k below has o = o' = 0: D = 0 and G just scales by the cover fraction, so no
 * division ever meets a zero factor, whatever the covers.
 *
 * Speed. A row's explanation depends on it only through the decision at every split, so:
 * - small trees (the boosted ones: ≤ 7 splits by default) get a table, built once, of the
 *   Shapley values of the tree's features for every pattern of decisions: a row costs its
 *   decisions and one lookup per tree (Fast TreeSHAP v2, Yang 2021, precomputes per leaf along
 *   the same lines; a table over the whole pattern is simpler and smaller at these sizes);
 * - larger trees (the forest's fully grown ones, where 2^splits is out of reach) run the two
 *   passes above.
 * Both are written without data-dependent branches: on random rows a mispredicted branch per
 * node costs more than the arithmetic. Decisions use one formula for numeric and categorical
 * splits; the passes select with 0/1 factors instead of `if`. Measured on German credit (one
 * row at a time, bench/explain.bench.ts): the default gbdt (300 trees, depth 3) took 175 µs
 * per row with the passes written with branches, 28 µs with the tables; a fully grown forest
 * tree (~136 leaves, up to 16 distinct features on a path) costs ~20–28 µs in the passes, so
 * forests stay expensive: every leaf contributes to every feature on its path, whatever the row.
 *
 * Everything a row needs is allocated once per ensemble; `shap` allocates nothing. An instance
 * is not reentrant (shared scratch), which a synchronous call cannot violate.
 */
export class TreeShap {
  readonly nTrees: number;
  readonly nFeatures: number;
  /**
   * Σ over the trees of each tree's output averaged over the training covers (v(∅)): the base
   * value the Shapley values of the sum of trees start from.
   */
  readonly expectedSum: number;
  /** Largest number of distinct features on one root-to-leaf path. */
  readonly maxPathFeatures: number;
  /** How many trees are explained by table lookup (the others by the two passes). */
  readonly tabledTrees: number;

  // Per tree. Local node order: internal nodes in pre-order, then the leaves in pre-order, so
  // a parent always comes before its children; local N is a sentinel "previous split on the
  // feature" for edges that have none (o = 1, z = 1).
  private readonly treeStart: Int32Array;
  private readonly treeSplits: Int32Array;
  private readonly treeQ: Int32Array;
  /** Offset of the tree's 1/(z(1−t_q) + t_q) values (N + 1 nodes × Q) in `invOn`. */
  private readonly invStart: Int32Array;
  /** Offset of the tree's table in `table`, −1 for trees explained by the passes. */
  private readonly tableStart: Int32Array;
  /** The tree's distinct split features: tableFeatures[featStart[t] … featStart[t+1]). */
  private readonly featStart: Int32Array;
  private readonly tableFeatures: Int32Array;
  private readonly table: Float64Array;

  // Per split (global index treeStart[t] + local, local < splits): the decision.
  private readonly splitFeature: Int32Array;
  /** Numeric splits: go left if x ≤ threshold; categorical splits: NaN (never). */
  private readonly threshold: Float64Array;
  /** Numeric splits: 1 when NaN goes left; categorical splits: 0. */
  private readonly missingLeft: Uint8Array;
  /** First word of the split's category bitset; numeric splits point at word 0, always 0. */
  private readonly catWord: Int32Array;
  private readonly catWords: Uint32Array;
  /** Per feature: categories below the limit have their own bit; −1 for numeric features. */
  private readonly catLimit: Int32Array;

  // Per node (global index): structure and the x-independent factors of its incoming edge.
  private readonly parent: Int32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  /** Leaves: their value; internal nodes: 0. */
  private readonly leafValue: Float64Array;
  private readonly isRight: Uint8Array;
  private readonly player: Int32Array;
  private readonly fraction: Float64Array;
  /** z of the edge (product of the fractions on its feature down to here). */
  private readonly zeta: Float64Array;
  /** Local index of the previous split on the same feature, or the sentinel N. */
  private readonly prev: Int32Array;
  private readonly invOn: Float64Array;
  /** w_q (1 − z)/(z(1−t_q) + t_q) per node and point: (o − z)/f of a passed edge, weighted. */
  private readonly passWeight: Float64Array;

  private readonly ruleStart: Int32Array;
  private readonly qt: Float64Array;
  private readonly qu: Float64Array;
  private readonly qw: Float64Array;
  /** −w_q / (1 − t_q). */
  private readonly qNegWOverU: Float64Array;

  // Scratch.
  private readonly x: Float64Array;
  private readonly catCode: Int32Array;
  private readonly goLeft: Uint8Array;
  private readonly on: Uint8Array;
  private readonly reach: Uint8Array;
  private readonly g: Float64Array;

  constructor(trees: readonly Tree[], nFeatures: number, options: TreeShapOptions = {}) {
    const tableMaxSplits = options.tableMaxSplits ?? DEFAULT_TABLE_MAX_SPLITS;
    let tableBudget = options.tableBudget ?? DEFAULT_TABLE_BUDGET;
    this.nTrees = trees.length;
    this.nFeatures = nFeatures;

    // Category limits over the whole ensemble: every categorical split's bitset covers them.
    this.catLimit = new Int32Array(nFeatures).fill(-1);
    for (const t of trees) {
      for (let k = 0; k < t.nInternal; k++) {
        if (!t.categorical[k]) continue;
        const f = t.feature[k];
        const set = t.catSet(t.threshold[k]);
        const top = set.length > 0 ? set[set.length - 1] + 1 : 0;
        this.catLimit[f] = Math.max(this.catLimit[f], top);
      }
    }
    let nNodes = 0;
    let nWords = 1;
    for (const t of trees) {
      nNodes += 2 * t.nLeaves - 1;
      for (let k = 0; k < t.nInternal; k++) {
        if (t.categorical[k]) nWords += (this.catLimit[t.feature[k]] >>> 5) + 1;
      }
    }
    const T = trees.length;
    this.treeStart = new Int32Array(T + 1);
    this.treeSplits = new Int32Array(T);
    this.treeQ = new Int32Array(T);
    this.invStart = new Int32Array(T + 1);
    this.tableStart = new Int32Array(T).fill(-1);
    this.featStart = new Int32Array(T + 1);
    this.splitFeature = new Int32Array(nNodes);
    this.threshold = new Float64Array(nNodes);
    this.missingLeft = new Uint8Array(nNodes);
    this.catWord = new Int32Array(nNodes);
    this.catWords = new Uint32Array(nWords);
    this.parent = new Int32Array(nNodes);
    this.left = new Int32Array(nNodes);
    this.right = new Int32Array(nNodes);
    this.leafValue = new Float64Array(nNodes);
    this.isRight = new Uint8Array(nNodes);
    this.player = new Int32Array(nNodes);
    this.fraction = new Float64Array(nNodes);
    this.zeta = new Float64Array(nNodes);
    this.prev = new Int32Array(nNodes);

    let base = 0;
    let wordBase = 1;
    let expected = 0;
    let maxNodes = 1;
    let maxQ = 1;
    let maxPath = 0;
    const features: number[] = [];
    for (let ti = 0; ti < T; ti++) {
      const tree = trees[ti];
      this.treeStart[ti] = base;
      this.treeSplits[ti] = tree.nInternal;
      const packed = this.packTree(tree, base, wordBase);
      wordBase = packed.wordEnd;
      expected += packed.expected;
      const q = Math.max(1, Math.ceil(packed.pathFeatures / 2));
      this.treeQ[ti] = q;
      this.invStart[ti + 1] = this.invStart[ti] + 2 * tree.nLeaves * q;
      maxQ = Math.max(maxQ, q);
      maxNodes = Math.max(maxNodes, 2 * tree.nLeaves - 1);
      maxPath = Math.max(maxPath, packed.pathFeatures);
      this.featStart[ti] = features.length;
      features.push(...new Set(Array.from(tree.feature).sort((a, b) => a - b)));
      base += 2 * tree.nLeaves - 1;
    }
    this.treeStart[T] = base;
    this.featStart[T] = features.length;
    this.tableFeatures = Int32Array.from(features);
    this.expectedSum = expected;
    this.maxPathFeatures = maxPath;

    this.ruleStart = new Int32Array(maxQ + 2);
    for (let q = 1; q <= maxQ; q++) this.ruleStart[q + 1] = this.ruleStart[q] + q;
    const rules = this.ruleStart[maxQ + 1];
    this.qt = new Float64Array(rules);
    this.qu = new Float64Array(rules);
    this.qw = new Float64Array(rules);
    this.qNegWOverU = new Float64Array(rules);
    for (let q = 1; q <= maxQ; q++) {
      const rule = gaussLegendre(q);
      const o = this.ruleStart[q];
      for (let j = 0; j < q; j++) {
        this.qt[o + j] = rule.t[j];
        this.qu[o + j] = rule.u[j];
        this.qw[o + j] = rule.w[j];
        this.qNegWOverU[o + j] = -rule.w[j] / rule.u[j];
      }
    }

    // 1/(z(1−t) + t) per node and point: the inverse of an edge's factor when the row passes.
    this.invOn = new Float64Array(this.invStart[T]);
    this.passWeight = new Float64Array(this.invStart[T]);
    for (let ti = 0; ti < T; ti++) {
      const s = this.treeStart[ti];
      const n = this.treeStart[ti + 1] - s;
      const Q = this.treeQ[ti];
      const ro = this.ruleStart[Q];
      const io = this.invStart[ti];
      for (let j = 0; j <= n; j++) {
        const z = j === 0 || j === n ? 1 : this.zeta[s + j];
        for (let q = 0; q < Q; q++) {
          const inv = 1 / (z * this.qu[ro + q] + this.qt[ro + q]);
          this.invOn[io + j * Q + q] = inv;
          this.passWeight[io + j * Q + q] = this.qw[ro + q] * (1 - z) * inv;
        }
      }
    }

    this.x = new Float64Array(nFeatures);
    this.catCode = new Int32Array(nFeatures);
    this.goLeft = new Uint8Array(maxNodes);
    this.on = new Uint8Array(maxNodes + 1);
    this.reach = new Uint8Array(maxNodes);
    this.g = new Float64Array(maxNodes * maxQ);

    // Tables: every decision pattern of each small tree, run through the passes once.
    let tableSize = 0;
    for (let ti = 0; ti < T; ti++) {
      const splits = this.treeSplits[ti];
      const u = this.featStart[ti + 1] - this.featStart[ti];
      const size = (u + 1) * 2 ** splits;
      if (splits > tableMaxSplits || size > tableBudget) continue;
      this.tableStart[ti] = tableSize;
      tableSize += size;
      tableBudget -= size;
    }
    this.table = new Float64Array(tableSize);
    const phi = new Float64Array(nFeatures);
    let tabled = 0;
    for (let ti = 0; ti < T; ti++) {
      const start = this.tableStart[ti];
      if (start < 0) continue;
      tabled++;
      const splits = this.treeSplits[ti];
      const f0 = this.featStart[ti];
      const u = this.featStart[ti + 1] - f0;
      for (let pattern = 0; pattern < 2 ** splits; pattern++) {
        for (let j = 0; j < splits; j++) this.goLeft[j] = (pattern >>> j) & 1;
        phi.fill(0);
        const value = this.passes(ti, phi);
        const at = start + pattern * (u + 1);
        for (let k = 0; k < u; k++) this.table[at + k] = phi[this.tableFeatures[f0 + k]];
        this.table[at + u] = value;
      }
    }
    this.tabledTrees = tabled;
  }

  /**
   * Lays out one tree from global node `base` (internal nodes first, both in pre-order) and its
   * category bitsets from word `wordBase`; returns v(∅), its widest path and the next word.
   */
  private packTree(
    tree: Tree,
    base: number,
    wordBase: number,
  ): { expected: number; pathFeatures: number; wordEnd: number } {
    const nInternal = tree.nInternal;
    const n = 2 * tree.nLeaves - 1;
    // Pre-order of tree codes (internal k ≥ 0, leaf ~l), parents recorded as codes' positions.
    const order: number[] = [];
    const parentPos: number[] = [];
    const stack: number[] = [0, -1];
    if (tree.nLeaves === 1) stack[0] = ~0;
    while (stack.length > 0) {
      const pos = stack.pop() as number;
      const code = stack.pop() as number;
      const here = order.length;
      order.push(code);
      parentPos.push(pos);
      if (code >= 0) stack.push(tree.right[code], here, tree.left[code], here);
    }
    // Local index of each pre-order position: internal nodes first, then leaves.
    const local = new Int32Array(n);
    let nextInternal = 0;
    let nextLeaf = nInternal;
    for (let i = 0; i < n; i++) local[i] = order[i] >= 0 ? nextInternal++ : nextLeaf++;

    let expected = 0;
    let pathFeatures = 0;
    let words = wordBase;
    const reach = new Float64Array(n);
    const pathCount = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const code = order[i];
      const j = local[i];
      const g = base + j;
      if (code >= 0) {
        const f = tree.feature[code];
        this.splitFeature[g] = f;
        if (tree.categorical[code]) {
          this.threshold[g] = NaN;
          this.catWord[g] = words;
          for (const c of tree.catSet(tree.threshold[code])) {
            this.catWords[words + (c >>> 5)] |= 1 << (c & 31);
          }
          words += (this.catLimit[f] >>> 5) + 1;
        } else {
          this.threshold[g] = tree.threshold[code];
          this.missingLeft[g] = tree.missingLeft[code];
          this.catWord[g] = 0;
        }
      } else {
        this.leafValue[g] = tree.leafValue[~code];
        this.left[g] = -1;
        this.right[g] = -1;
      }
      const pi = parentPos[i];
      if (pi < 0) {
        reach[j] = 1;
        this.parent[g] = -1;
        continue;
      }
      const p = local[pi];
      const pCode = order[pi];
      const isLeft = tree.left[pCode] === code;
      if (isLeft) this.left[base + p] = j;
      else this.right[base + p] = j;
      this.parent[g] = p;
      this.isRight[g] = isLeft ? 0 : 1;
      const k = tree.feature[pCode];
      this.player[g] = k;
      // The parent's children covers, normalised: fractions that sum to 1 even though the
      // stored covers are rounded (a child without cover simply gets weight 0).
      const lc = childCover(tree, tree.left[pCode]);
      const rc = childCover(tree, tree.right[pCode]);
      const r = lc + rc > 0 ? (isLeft ? lc : rc) / (lc + rc) : 0.5;
      this.fraction[g] = r;
      // Previous split on the same feature along the path (a nearer ancestor's edge).
      let m = n;
      for (let a = p; a > 0; a = this.parent[base + a]) {
        if (this.player[base + a] === k) {
          m = a;
          break;
        }
      }
      this.prev[g] = m;
      const zPrev = m === n ? 1 : this.zeta[base + m];
      this.zeta[g] = zPrev * r;
      reach[j] = reach[p] * r;
      pathCount[j] = pathCount[p] + (m === n ? 1 : 0);
      if (code < 0) {
        expected += this.leafValue[g] * reach[j];
        pathFeatures = Math.max(pathFeatures, pathCount[j]);
      }
    }
    if (tree.nLeaves === 1) expected = tree.leafValue[0];
    return { expected, pathFeatures, wordEnd: words };
  }

  /**
   * Adds Σ over the trees of each tree's Shapley values for `row` to `phi` (length ≥ the
   * features tested) and returns Σ over the trees of the leaf value the row reaches, summed in
   * tree order from 0 (as the models' own scoring does, so the same number to the last bit).
   * Then Σ phi added = returned sum − expectedSum, up to rounding.
   */
  shap(row: ArrayLike<number>, phi: Float64Array): number {
    const { catLimit, catCode, x } = this;
    // A private copy: the decisions read every value many times, and from a Float64Array they
    // stay monomorphic whatever the caller passes (plain array, typed array).
    for (let f = 0; f < this.nFeatures; f++) {
      const v = row[f];
      x[f] = v;
      const limit = catLimit[f];
      catCode[f] = limit < 0 ? 0 : v >>> 0 === v && v < limit ? v : limit;
    }
    const { tableStart, treeStart, treeSplits, featStart, table, tableFeatures } = this;
    const { splitFeature, threshold, missingLeft, catWord, catWords } = this;
    let sum = 0;
    for (let t = 0; t < this.nTrees; t++) {
      const at0 = tableStart[t];
      if (at0 < 0) {
        this.decide(t, x);
        sum += this.passes(t, phi);
        continue;
      }
      // Tabled tree (the common case), inlined: the decisions form the pattern directly, which
      // indexes the row of the tree's table holding its Shapley values and leaf value.
      const s = treeStart[t];
      const splits = treeSplits[t];
      let pattern = 0;
      for (let j = 0; j < splits; j++) {
        const f = splitFeature[s + j];
        const c = catCode[f];
        const v = x[f];
        pattern |=
          (Number(v <= threshold[s + j]) |
            (Number(v !== v) & missingLeft[s + j]) |
            ((catWords[catWord[s + j] + (c >>> 5)] >>> (c & 31)) & 1)) <<
          j;
      }
      const f0 = featStart[t];
      const u = featStart[t + 1] - f0;
      const at = at0 + pattern * (u + 1);
      for (let k = 0; k < u; k++) phi[tableFeatures[f0 + k]] += table[at + k];
      sum += table[at + u];
    }
    return sum;
  }

  /** The row's decision at every split of tree t, into goLeft (1 = left). */
  private decide(t: number, row: Float64Array): void {
    const s = this.treeStart[t];
    const splits = this.treeSplits[t];
    const { splitFeature, threshold, missingLeft, catWord, catWords, catCode, goLeft } = this;
    for (let j = 0; j < splits; j++) {
      const f = splitFeature[s + j];
      const c = catCode[f];
      const v = row[f];
      // Numeric: x ≤ threshold, NaN to the split's missing side. Categorical: the code's bit
      // (an unknown or NaN category has the code `limit`, in no set); the other terms are 0.
      goLeft[j] =
        Number(v <= threshold[s + j]) |
        (Number(v !== v) & missingLeft[s + j]) |
        ((catWords[catWord[s + j] + (c >>> 5)] >>> (c & 31)) & 1);
    }
  }

  /** The down and up passes over tree t with the decisions in goLeft; returns the leaf value. */
  private passes(t: number, phi: Float64Array): number {
    const s = this.treeStart[t];
    const n = this.treeStart[t + 1] - s;
    const splits = this.treeSplits[t];
    const Q = this.treeQ[t];
    const ro = this.ruleStart[Q];
    const io = this.invStart[t];
    const { parent, left, right, leafValue, isRight, player, fraction, zeta, prev } = this;
    const { invOn, passWeight, qt, qu, qNegWOverU, goLeft, on, reach, g } = this;
    on[n] = 1;
    reach[0] = 1;
    for (let q = 0; q < Q; q++) g[q] = 1;
    let value = n === 1 ? leafValue[s] : 0;

    // Down: G(j) = G(parent) × (this edge's factor / the previous one on its feature), or the
    // cover fraction once the row has failed an earlier split on it.
    for (let j = 1; j < n; j++) {
      const gj = s + j;
      const p = parent[gj];
      const dir = goLeft[p] ^ isRight[gj];
      const oPrev = on[prev[gj]];
      const o = oPrev & dir;
      on[j] = o;
      const here = reach[p] & dir;
      reach[j] = here;
      value += here * leafValue[gj];
      const z = zeta[gj];
      const r = fraction[gj];
      const pq = p * Q;
      const jq = j * Q;
      const mi = io + prev[gj] * Q;
      for (let q = 0; q < Q; q++) {
        const x = (z * qu[ro + q] + o * qt[ro + q]) * invOn[mi + q];
        g[jq + q] = g[pq + q] * (r + oPrev * (x - r));
      }
    }

    // Up: S(j) = Σ over the leaves below j of v_l G(l), in place of G(j): leaves first, then
    // the splits from the last (children come later in the local order). An edge that is live
    // (the row passed every earlier split on its feature) adds Σ_q D(j, t_q) S(j, t_q) to φ,
    // with D = (o − z)/f − (o' − z')/f' = passWeight(j) or −w/(1−t), minus passWeight(prev).
    for (let j = n - 1; j >= splits; j--) {
      const gj = s + j;
      const jq = j * Q;
      const v = leafValue[gj];
      const o = on[j];
      const ji = io + jq;
      const mi = io + prev[gj] * Q;
      let c = 0;
      for (let q = 0; q < Q; q++) {
        const sj = v * g[jq + q];
        g[jq + q] = sj;
        const nw = qNegWOverU[ro + q];
        c += (nw + o * (passWeight[ji + q] - nw) - passWeight[mi + q]) * sj;
      }
      phi[player[gj]] += on[prev[gj]] * c;
    }
    for (let j = splits - 1; j >= 1; j--) {
      const gj = s + j;
      const jq = j * Q;
      const lq = left[gj] * Q;
      const rq = right[gj] * Q;
      const o = on[j];
      const ji = io + jq;
      const mi = io + prev[gj] * Q;
      let c = 0;
      for (let q = 0; q < Q; q++) {
        const sj = g[lq + q] + g[rq + q];
        g[jq + q] = sj;
        const nw = qNegWOverU[ro + q];
        c += (nw + o * (passWeight[ji + q] - nw) - passWeight[mi + q]) * sj;
      }
      phi[player[gj]] += on[prev[gj]] * c;
    }
    return value;
  }
}

export interface TreeShapOptions {
  /** Trees with at most this many splits are explained by table lookup (0: none). */
  readonly tableMaxSplits?: number;
  /** Most numbers all tables may hold together. */
  readonly tableBudget?: number;
}

/**
 * 8 splits: 256 patterns. The boosted trees (≤ 7 splits by default) all fit; a 300-tree model
 * then takes ~2 MB of tables.
 */
const DEFAULT_TABLE_MAX_SPLITS = 8;
/** 16 MB of tables at most per ensemble. */
const DEFAULT_TABLE_BUDGET = 1 << 21;

/** Cover of a child given by its code: an internal node's cover or a leaf's. */
function childCover(tree: Tree, code: number): number {
  return code >= 0 ? tree.cover[code] : tree.leafCover[~code];
}
