import type { Table } from "../types.js";
import type { Tree } from "./tree.js";

/**
 * Many trees packed into flat typed arrays for scoring. Internal nodes of all trees share one
 * index space; a child < 0 is the leaf `~child` in the shared leaf array. Categorical sets are
 * bitsets: node k tests bit x of `catWords[catStart[k] ...]`, valid for x < catBits[k]; numeric
 * nodes have catStart = -1.
 */
export class PackedTrees {
  readonly nTrees: number;
  /** Root of each tree: an internal node, or a leaf (`~leaf`) for a single-leaf tree. */
  private readonly roots: Int32Array;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly catStart: Int32Array;
  private readonly catBits: Int32Array;
  private readonly catWords: Uint32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly leafValue: Float64Array;

  constructor(trees: readonly Tree[]) {
    let nInternal = 0;
    let nLeaves = 0;
    let nWords = 0;
    for (const t of trees) {
      nInternal += t.nInternal;
      nLeaves += t.nLeaves;
      for (let c = 0; c < t.nCatSets; c++) nWords += wordsFor(t, c);
    }
    this.nTrees = trees.length;
    this.roots = new Int32Array(trees.length);
    this.feature = new Int32Array(nInternal);
    this.threshold = new Float64Array(nInternal);
    this.catStart = new Int32Array(nInternal);
    this.catBits = new Int32Array(nInternal);
    this.catWords = new Uint32Array(nWords);
    this.left = new Int32Array(nInternal);
    this.right = new Int32Array(nInternal);
    this.leafValue = new Float64Array(nLeaves);
    let nodeBase = 0;
    let leafBase = 0;
    let wordBase = 0;
    let setStart = new Int32Array(16);
    for (let ti = 0; ti < trees.length; ti++) {
      const t = trees[ti];
      if (t.nCatSets > setStart.length) setStart = new Int32Array(2 * t.nCatSets);
      for (let s = 0; s < t.nCatSets; s++) {
        setStart[s] = wordBase;
        for (let k = t.catOffsets[s]; k < t.catOffsets[s + 1]; k++) {
          const c = t.catValues[k];
          this.catWords[wordBase + (c >>> 5)] |= 1 << (c & 31);
        }
        wordBase += wordsFor(t, s);
      }
      this.roots[ti] = t.nLeaves === 1 ? -1 - leafBase : nodeBase;
      for (let k = 0; k < t.nInternal; k++) {
        const g = nodeBase + k;
        this.feature[g] = t.feature[k];
        // Internal children shift by nodeBase; leaf children ~l become ~(l + leafBase).
        const l = t.left[k];
        const r = t.right[k];
        this.left[g] = l >= 0 ? l + nodeBase : l - leafBase;
        this.right[g] = r >= 0 ? r + nodeBase : r - leafBase;
        if (t.categorical[k]) {
          const s = t.threshold[k];
          this.catStart[g] = setStart[s];
          this.catBits[g] = wordsFor(t, s) * 32;
        } else {
          this.catStart[g] = -1;
          this.threshold[g] = t.threshold[k];
        }
      }
      this.leafValue.set(t.leafValue, leafBase);
      nodeBase += t.nInternal;
      leafBase += t.nLeaves;
    }
  }

  /** Sum over trees of the leaf values reached by one row of raw feature values. */
  sumRow(row: ArrayLike<number>): number {
    const { roots, feature, threshold, catStart, catBits, catWords, left, right, leafValue } = this;
    let s = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t];
      while (node >= 0) {
        const x = row[feature[node]];
        const cs = catStart[node];
        let goLeft: boolean;
        if (cs < 0) goLeft = x <= threshold[node];
        else
          goLeft =
            x >>> 0 === x &&
            x < catBits[node] &&
            (catWords[cs + (x >>> 5)] & (1 << (x & 31))) !== 0;
        node = goLeft ? left[node] : right[node];
      }
      s += leafValue[~node];
    }
    return s;
  }

  /** Leaf value of tree `t` for row `i` of column-major data. */
  treeValue(t: number, columns: readonly Float64Array[], i: number): number {
    const { feature, threshold, catStart, catBits, catWords, left, right } = this;
    let node = this.roots[t];
    while (node >= 0) {
      const x = columns[feature[node]][i];
      const cs = catStart[node];
      let goLeft: boolean;
      if (cs < 0) goLeft = x <= threshold[node];
      else
        goLeft =
          x >>> 0 === x && x < catBits[node] && (catWords[cs + (x >>> 5)] & (1 << (x & 31))) !== 0;
      node = goLeft ? left[node] : right[node];
    }
    return this.leafValue[~node];
  }

  /**
   * Adds each row's sum over trees to `out` (length table.n). Tree by tree, so one tree's nodes
   * stay in cache while all rows pass through it; each row's sum still runs over the trees in
   * order from zero, exactly as in sumRow.
   */
  addTable(table: Table, out: Float64Array): void {
    const n = table.n;
    const cols = table.columns;
    const sums = new Float64Array(n);
    for (let t = 0; t < this.nTrees; t++) {
      for (let i = 0; i < n; i++) sums[i] += this.treeValue(t, cols, i);
    }
    for (let i = 0; i < n; i++) out[i] += sums[i];
  }
}

/** 32-bit words needed for category set `s` of tree `t` (sets are ascending). */
function wordsFor(t: Tree, s: number): number {
  const max = t.catValues[t.catOffsets[s + 1] - 1];
  return (max >>> 5) + 1;
}
