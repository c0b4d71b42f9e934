import type { Table } from "../types.js";
import type { Tree } from "./tree.js";

/**
 * Many trees packed into flat typed arrays for scoring, in two layouts that give the same leaf
 * values summed in the same tree order, hence identical results to the last bit.
 *
 * The raw layout walks nodes on raw feature values: internal nodes of all trees share one index
 * space; a child < 0 is the leaf `~child` in the shared leaf array; categorical sets are bitsets
 * (node k tests bit x of `catWords[catStart[k] ...]`, valid for x < catBits[k]; numeric nodes have
 * catStart = -1, and send NaN left where `missingLeft` is set). It serves `treeValue`, and
 * scoring when the decision layout does not apply.
 *
 * The decision layout ({@link DecisionTrees}) turns each row into a few dozen words of decision
 * bits first, then walks the trees without branching on the data; it serves `sumRow` and
 * `addTable` for any ensemble it can hold (all that the learners here produce at this scale).
 */
export class PackedTrees {
  readonly nTrees: number;
  /** Root of each tree: an internal node, or a leaf (`~leaf`) for a single-leaf tree. */
  private readonly roots: Int32Array;
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  /** Numeric nodes: 1 when NaN goes left. */
  private readonly missingLeft: Uint8Array;
  private readonly catStart: Int32Array;
  private readonly catBits: Int32Array;
  private readonly catWords: Uint32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly leafValue: Float64Array;
  /** Highest feature index used plus one (the width a row must have). */
  private readonly width: number;
  private readonly trees: readonly Tree[];
  /** Built on first scoring: fitting needs only treeValue and should not pay for it. */
  private decisions: DecisionTrees | null | undefined;

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
    this.missingLeft = new Uint8Array(nInternal);
    this.catStart = new Int32Array(nInternal);
    this.catBits = new Int32Array(nInternal);
    this.catWords = new Uint32Array(nWords);
    this.left = new Int32Array(nInternal);
    this.right = new Int32Array(nInternal);
    this.leafValue = new Float64Array(nLeaves);
    let nodeBase = 0;
    let leafBase = 0;
    let wordBase = 0;
    let width = 0;
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
        width = Math.max(width, t.feature[k] + 1);
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
          this.missingLeft[g] = t.missingLeft[k];
        }
      }
      this.leafValue.set(t.leafValue, leafBase);
      nodeBase += t.nInternal;
      leafBase += t.nLeaves;
    }
    this.width = width;
    this.trees = trees;
  }

  private decisionLayout(): DecisionTrees | null {
    if (this.decisions === undefined) this.decisions = DecisionTrees.build(this.trees, this.width);
    return this.decisions;
  }

  /** Whether sumRow and addTable use the decision layout (else the raw one). */
  get usesDecisions(): boolean {
    return this.decisionLayout() !== null;
  }

  /** Sum over trees of the leaf values reached by one row of raw feature values. */
  sumRow(row: ArrayLike<number>): number {
    const decisions = this.decisionLayout();
    if (decisions !== null) return decisions.sumRow(row);
    const { roots, feature, threshold, missingLeft, catStart, catBits, catWords, left, right } =
      this;
    const leafValue = this.leafValue;
    let s = 0;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t];
      while (node >= 0) {
        const x = row[feature[node]];
        const cs = catStart[node];
        let goLeft: boolean;
        if (cs < 0) goLeft = x <= threshold[node] || (x !== x && missingLeft[node] === 1);
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
    const { feature, threshold, missingLeft, catStart, catBits, catWords, left, right } = this;
    let node = this.roots[t];
    while (node >= 0) {
      const x = columns[feature[node]][i];
      const cs = catStart[node];
      let goLeft: boolean;
      if (cs < 0) goLeft = x <= threshold[node] || (x !== x && missingLeft[node] === 1);
      else
        goLeft =
          x >>> 0 === x && x < catBits[node] && (catWords[cs + (x >>> 5)] & (1 << (x & 31))) !== 0;
      node = goLeft ? left[node] : right[node];
    }
    return this.leafValue[~node];
  }

  /**
   * Adds each row's sum over trees to `out` (length table.n). Rows go in blocks: a block's rows
   * stay in cache while every tree passes over them, and each row's sum still runs over the
   * trees in order from zero, exactly as in sumRow.
   */
  addTable(table: Table, out: Float64Array): void {
    const decisions = this.decisionLayout();
    if (decisions !== null) {
      decisions.addTable(table.columns, table.n, out);
      return;
    }
    const n = table.n;
    const width = this.width;
    // Row-major copy of the block: one row's values share a cache line instead of one per column.
    const rows = new Float64Array(RAW_BLOCK * width);
    const sums = new Float64Array(RAW_BLOCK);
    for (let i0 = 0; i0 < n; i0 += RAW_BLOCK) {
      const m = Math.min(RAW_BLOCK, n - i0);
      for (let f = 0; f < width; f++) {
        const col = table.columns[f];
        for (let i = 0; i < m; i++) rows[i * width + f] = col[i0 + i];
      }
      sums.fill(0);
      for (let t = 0; t < this.nTrees; t++) this.addTreeRaw(t, rows, width, m, sums);
      for (let i = 0; i < m; i++) out[i0 + i] += sums[i];
    }
  }

  private addTreeRaw(t: number, rows: Float64Array, width: number, m: number, sums: Float64Array) {
    const { feature, threshold, missingLeft, catStart, catBits, catWords, left, right } = this;
    const leafValue = this.leafValue;
    const root = this.roots[t];
    for (let i = 0; i < m; i++) {
      const base = i * width;
      let node = root;
      while (node >= 0) {
        const x = rows[base + feature[node]];
        const cs = catStart[node];
        let goLeft: boolean;
        if (cs < 0) goLeft = x <= threshold[node] || (x !== x && missingLeft[node] === 1);
        else
          goLeft =
            x >>> 0 === x &&
            x < catBits[node] &&
            (catWords[cs + (x >>> 5)] & (1 << (x & 31))) !== 0;
        node = goLeft ? left[node] : right[node];
      }
      sums[i] += leafValue[~node];
    }
  }
}

/** Rows per block of the raw layout. */
const RAW_BLOCK = 256;

/** Rows walking a tree in lockstep: enough independent chains of loads to keep the core busy. */
const LANES = 6;

/**
 * Word 0 of every row's decisions: bit 0 is clear (leaves point at it and so stay put), bit 1 is
 * set (a numeric node with a NaN threshold points at it: nothing is ≤ NaN).
 */
const CONSTANT_WORD = 0b10;
const ALWAYS_RIGHT = 1;
/** A node's link is (offset to its children << 16) | decision index. */
const MAX_DECISIONS = 1 << 16;
const MAX_CHILD_OFFSET = 0x7fff;
/** Largest categorical lookup table (words) before the raw layout is preferred. */
const MAX_TABLE_WORDS = 1 << 22;
/**
 * Trees are scored in runs of about this many nodes (12 bytes each), small enough to stay in L2
 * while a block of rows passes through them.
 */
const CHUNK_NODES = 8192;
/** Bytes of decisions per block of rows (rows × words per row × 4). */
const BLOCK_BYTES = 32768;

const UNUSED = 0;
const NUMERIC = 1;
const CATEGORICAL = 2;

/**
 * The trees over precomputed decisions. A numeric node's outcome depends only on its feature and
 * threshold, a categorical node's only on its feature and category set, and an ensemble has few
 * distinct ones (a few hundred for German credit, against thousands of nodes). So each row first
 * gets one bit per distinct decision, set when the row goes right:
 * - numeric feature f: bit r of its words for the r-th smallest distinct threshold t_r. The row's
 *   value x exceeds t_0 … t_{b-1} and no others (NaN exceeds all), so its bits are b ones, found
 *   with one binary search per value. Nodes that send NaN left read a second group of words of
 *   the feature (only features with such nodes have one): the same b ones for a number, none for
 *   NaN;
 * - categorical feature f: bit s for its s-th distinct set, taken from a table by category (any
 *   value no set contains — unknown category, NaN, non-integer — uses the row of `catLimit[f]`,
 *   which has every bit set).
 * Each node is one Int32, `(offset << 16) | decision`: the right child follows the left one at
 * `node + offset`, so the next node is `node + offset + bit`, without a branch on the data. Leaves
 * are 0: offset 0 and decision 0, a bit that is always clear, so a leaf leads to itself and a group
 * of rows can walk a tree in lockstep until all of them stand on leaves.
 */
class DecisionTrees {
  /** Rows per block, a multiple of the lanes so that few rows take the single-row path. */
  private readonly blockRows: number;

  private constructor(
    private readonly numeric: Int32Array,
    private readonly categorical: Int32Array,
    /** Numeric feature f's distinct thresholds, ascending: cuts[cutStart[f] … cutStart[f+1]). */
    private readonly cuts: Float64Array,
    private readonly cutStart: Int32Array,
    /** Categorical feature f: categories below catLimit[f] have their own table row. */
    private readonly catLimit: Int32Array,
    private readonly tableStart: Int32Array,
    private readonly table: Int32Array,
    /** First decision word of each feature and how many it has. */
    private readonly wordStart: Int32Array,
    private readonly wordCount: Int32Array,
    /** Numeric features: first word of the NaN-goes-left group, 0 when there is none. */
    private readonly missingStart: Int32Array,
    private readonly rowWords: number,
    private readonly nodes: Int32Array,
    /** Value of each leaf node (0 for internal nodes). */
    private readonly value: Float64Array,
    private readonly roots: Int32Array,
    /** Per tree: depth of its shallowest leaf (steps every row takes) and of its deepest. */
    private readonly minDepth: Int32Array,
    private readonly maxDepth: Int32Array,
    /** Trees chunkStart[c] … chunkStart[c+1]-1 form chunk c. */
    private readonly chunkStart: Int32Array,
    /** Decisions of one row, for sumRow. */
    private readonly rowDecisions: Int32Array,
  ) {
    const groups = Math.floor(BLOCK_BYTES / (4 * rowWords * LANES));
    this.blockRows = LANES * Math.max(1, Math.min(64, groups));
  }

  /** The decision form of `trees`, or null when they need more than it can hold. */
  static build(trees: readonly Tree[], nFeatures: number): DecisionTrees | null {
    const kind = new Uint8Array(nFeatures);
    const thresholds: number[][] = Array.from({ length: nFeatures }, () => []);
    // Distinct category sets by key: a bitmask when small, else the categories joined.
    const sets: Map<number | string, number>[] = Array.from({ length: nFeatures }, () => new Map());
    const catLimit = new Int32Array(nFeatures);
    const anyMissingLeft = new Uint8Array(nFeatures);
    let nNodes = 0;
    let nInternal = 0;
    for (const t of trees) {
      nNodes += 2 * t.nLeaves - 1;
      nInternal += t.nInternal;
    }
    // Index among its feature's distinct sets of each categorical node (internal nodes in order).
    const setOf = new Int32Array(nInternal);
    let g = 0;
    for (const t of trees) {
      for (let k = 0; k < t.nInternal; k++, g++) {
        const f = t.feature[k];
        const want = t.categorical[k] ? CATEGORICAL : NUMERIC;
        if (kind[f] !== UNUSED && kind[f] !== want) return null;
        kind[f] = want;
        if (want === NUMERIC) {
          if (!Number.isNaN(t.threshold[k])) thresholds[f].push(t.threshold[k]);
          // Such a node would send only NaN left: the raw layout handles that rare case.
          else if (t.missingLeft[k]) return null;
          anyMissingLeft[f] |= t.missingLeft[k];
        } else {
          const s = t.threshold[k];
          const largest = t.catValues[t.catOffsets[s + 1] - 1];
          let key: number | string = 0;
          if (largest < 31) {
            for (let j = t.catOffsets[s]; j < t.catOffsets[s + 1]; j++) key |= 1 << t.catValues[j];
          } else {
            key = t.catValues.subarray(t.catOffsets[s], t.catOffsets[s + 1]).join(",");
          }
          let id = sets[f].get(key);
          if (id === undefined) sets[f].set(key, (id = sets[f].size));
          setOf[g] = id;
          catLimit[f] = Math.max(catLimit[f], largest + 1);
        }
      }
    }

    const cutStart = new Int32Array(nFeatures + 1);
    const distinct: Float64Array[] = [];
    for (let f = 0; f < nFeatures; f++) {
      const sorted = Float64Array.from(thresholds[f]).sort();
      let d = 0;
      for (let i = 0; i < sorted.length; i++) {
        if (i === 0 || sorted[i] !== sorted[i - 1]) sorted[d++] = sorted[i];
      }
      distinct.push(sorted.subarray(0, d));
      cutStart[f + 1] = cutStart[f] + d;
    }
    const cuts = new Float64Array(cutStart[nFeatures]);
    for (let f = 0; f < nFeatures; f++) cuts.set(distinct[f], cutStart[f]);

    const wordStart = new Int32Array(nFeatures);
    const wordCount = new Int32Array(nFeatures);
    const missingStart = new Int32Array(nFeatures);
    const tableStart = new Int32Array(nFeatures);
    let words = 1;
    let tableWords = 0;
    for (let f = 0; f < nFeatures; f++) {
      const bits = kind[f] === NUMERIC ? distinct[f].length : sets[f].size;
      wordStart[f] = words;
      wordCount[f] = (bits + 31) >>> 5;
      words += wordCount[f];
      if (anyMissingLeft[f]) {
        missingStart[f] = words;
        words += wordCount[f];
      }
      if (kind[f] === CATEGORICAL) {
        tableStart[f] = tableWords;
        tableWords += (catLimit[f] + 1) * wordCount[f];
      }
    }
    if (words * 32 > MAX_DECISIONS || tableWords > MAX_TABLE_WORDS) return null;
    // Row c of a categorical feature's table: bit s set when category c is not in set s.
    const table = new Int32Array(tableWords);
    for (let f = 0; f < nFeatures; f++) {
      if (kind[f] !== CATEGORICAL) continue;
      const nw = wordCount[f];
      for (let c = 0; c <= catLimit[f]; c++)
        table.fill(-1, tableStart[f] + c * nw, tableStart[f] + (c + 1) * nw);
      for (const [key, s] of sets[f]) {
        const members =
          typeof key === "number"
            ? Array.from({ length: 31 }, (_, c) => c).filter((c) => (key >>> c) & 1)
            : key.split(",").map(Number);
        for (const c of members) table[tableStart[f] + c * nw + (s >>> 5)] &= ~(1 << (s & 31));
      }
    }

    const nodes = new Int32Array(nNodes);
    const value = new Float64Array(nNodes);
    const roots = new Int32Array(trees.length);
    const minDepth = new Int32Array(trees.length);
    const maxDepth = new Int32Array(trees.length);
    const chunks = [0];
    let chunkNodes = 0;
    // Breadth-first, two child slots at a time; queue entries are (tree child code, slot, depth).
    let queue = new Int32Array(3 * 64);
    let base = 0;
    let firstInternal = 0;
    for (let ti = 0; ti < trees.length; ti++) {
      const t = trees[ti];
      const size = 2 * t.nLeaves - 1;
      if (chunkNodes > 0 && chunkNodes + size > CHUNK_NODES) {
        chunks.push(ti);
        chunkNodes = 0;
      }
      chunkNodes += size;
      if (queue.length < 3 * size) queue = new Int32Array(3 * size);
      roots[ti] = base;
      queue[0] = t.nLeaves === 1 ? -1 : 0;
      queue[1] = base;
      queue[2] = 0;
      let tail = 3;
      let next = base + 1;
      let shallowest = Number.MAX_SAFE_INTEGER;
      let deepest = 0;
      for (let q = 0; q < tail; q += 3) {
        const code = queue[q];
        const slot = queue[q + 1];
        const depth = queue[q + 2];
        if (code < 0) {
          value[slot] = t.leafValue[~code];
          shallowest = Math.min(shallowest, depth);
          deepest = Math.max(deepest, depth);
          continue;
        }
        if (next - slot > MAX_CHILD_OFFSET) return null;
        const f = t.feature[code];
        let decision: number;
        if (t.categorical[code]) {
          decision = wordStart[f] * 32 + setOf[firstInternal + code];
        } else if (Number.isNaN(t.threshold[code])) {
          decision = ALWAYS_RIGHT;
        } else {
          const group = t.missingLeft[code] ? missingStart[f] : wordStart[f];
          decision = group * 32 + binOf(cuts, cutStart[f], cutStart[f + 1], t.threshold[code]);
        }
        nodes[slot] = ((next - slot) << 16) | decision;
        queue[tail] = t.left[code];
        queue[tail + 1] = next;
        queue[tail + 2] = depth + 1;
        queue[tail + 3] = t.right[code];
        queue[tail + 4] = next + 1;
        queue[tail + 5] = depth + 1;
        tail += 6;
        next += 2;
      }
      minDepth[ti] = shallowest;
      maxDepth[ti] = deepest;
      base = next;
      firstInternal += t.nInternal;
    }
    chunks.push(trees.length);

    // Numeric features whose thresholds are all NaN have no words: their nodes use ALWAYS_RIGHT.
    const featuresOf = (k: number) =>
      Int32Array.from(kind.keys()).filter((f) => kind[f] === k && wordCount[f] > 0);
    const rowDecisions = new Int32Array(words);
    rowDecisions[0] = CONSTANT_WORD;
    return new DecisionTrees(
      featuresOf(NUMERIC),
      featuresOf(CATEGORICAL),
      cuts,
      cutStart,
      catLimit,
      tableStart,
      table,
      wordStart,
      wordCount,
      missingStart,
      words,
      nodes,
      value,
      roots,
      minDepth,
      maxDepth,
      Int32Array.from(chunks),
      rowDecisions,
    );
  }

  sumRow(row: ArrayLike<number>): number {
    const { nodes, value, roots, minDepth, rowDecisions: dec } = this;
    for (let u = 0; u < this.numeric.length; u++) {
      const f = this.numeric[u];
      const x = row[f];
      const b = binOf(this.cuts, this.cutStart[f], this.cutStart[f + 1], x);
      writeOnes(dec, this.wordStart[f], this.wordCount[f], b);
      const ms = this.missingStart[f];
      if (ms > 0) writeOnes(dec, ms, this.wordCount[f], b & -Number(x === x));
    }
    for (let u = 0; u < this.categorical.length; u++) {
      const f = this.categorical[u];
      const nw = this.wordCount[f];
      const src = this.tableStart[f] + categoryRow(row[f], this.catLimit[f]) * nw;
      for (let k = 0; k < nw; k++) dec[this.wordStart[f] + k] = this.table[src + k];
    }
    let s = 0;
    for (let t = 0; t < roots.length; t++) {
      let a = roots[t];
      for (let d = minDepth[t]; d > 0; d--) {
        const la = nodes[a];
        a = (a + (la >> 16) + ((dec[(la & 0xffff) >> 5] >> la) & 1)) | 0;
      }
      for (;;) {
        const la = nodes[a];
        if (la === 0) break;
        a = (a + (la >> 16) + ((dec[(la & 0xffff) >> 5] >> la) & 1)) | 0;
      }
      s += value[a];
    }
    return s;
  }

  addTable(columns: readonly Float64Array[], n: number, out: Float64Array): void {
    const rows = this.blockRows;
    const words = this.rowWords;
    const dec = new Int32Array(rows * words);
    for (let i = 0; i < rows; i++) dec[i * words] = CONSTANT_WORD;
    const sums = new Float64Array(rows);
    const { nodes, value, roots, minDepth, maxDepth, chunkStart } = this;
    for (let i0 = 0; i0 < n; i0 += rows) {
      const m = Math.min(rows, n - i0);
      this.decideBlock(columns, i0, m, dec);
      sums.fill(0);
      for (let c = 0; c + 1 < chunkStart.length; c++) {
        const t0 = chunkStart[c];
        const t1 = chunkStart[c + 1];
        addChunk(nodes, value, roots, minDepth, maxDepth, t0, t1, dec, words, m, sums);
      }
      for (let i = 0; i < m; i++) out[i0 + i] += sums[i];
    }
  }

  /** Decisions of rows i0 … i0+m-1, row i's words at i·rowWords. */
  private decideBlock(columns: readonly Float64Array[], i0: number, m: number, dec: Int32Array) {
    const { cuts, cutStart, wordStart, wordCount, missingStart, table, tableStart, catLimit } =
      this;
    const words = this.rowWords;
    for (let u = 0; u < this.numeric.length; u++) {
      const f = this.numeric[u];
      const col = columns[f];
      const lo = cutStart[f];
      const hi = cutStart[f + 1];
      const nw = wordCount[f];
      const ms = missingStart[f];
      if (ms === 0) {
        for (let i = 0; i < m; i++) {
          writeOnes(dec, i * words + wordStart[f], nw, binOf(cuts, lo, hi, col[i0 + i]));
        }
        continue;
      }
      for (let i = 0; i < m; i++) {
        const x = col[i0 + i];
        const b = binOf(cuts, lo, hi, x);
        writeOnes(dec, i * words + wordStart[f], nw, b);
        writeOnes(dec, i * words + ms, nw, b & -Number(x === x));
      }
    }
    for (let u = 0; u < this.categorical.length; u++) {
      const f = this.categorical[u];
      const col = columns[f];
      const nw = wordCount[f];
      const limit = catLimit[f];
      for (let i = 0; i < m; i++) {
        const src = tableStart[f] + categoryRow(col[i0 + i], limit) * nw;
        const dst = i * words + wordStart[f];
        for (let k = 0; k < nw; k++) dec[dst + k] = table[src + k];
      }
    }
  }
}

/**
 * Adds the leaf values of trees t0 … t1-1 to each row's sum, in tree order. Rows go LANES at a
 * time through all the chunk's trees (which stay in cache), their sums in registers; the first
 * minDepth steps of a tree need no check, after that the group stops once all stand on leaves.
 */
function addChunk(
  nodes: Int32Array,
  value: Float64Array,
  roots: Int32Array,
  minDepth: Int32Array,
  maxDepth: Int32Array,
  t0: number,
  t1: number,
  dec: Int32Array,
  words: number,
  m: number,
  sums: Float64Array,
): void {
  let i = 0;
  for (; i + LANES <= m; i += LANES) {
    const r0 = i * words;
    const r1 = (r0 + words) | 0;
    const r2 = (r1 + words) | 0;
    const r3 = (r2 + words) | 0;
    const r4 = (r3 + words) | 0;
    const r5 = (r4 + words) | 0;
    let s0 = sums[i];
    let s1 = sums[i + 1];
    let s2 = sums[i + 2];
    let s3 = sums[i + 3];
    let s4 = sums[i + 4];
    let s5 = sums[i + 5];
    for (let t = t0; t < t1; t++) {
      const root = roots[t];
      const fixed = minDepth[t];
      const ragged = maxDepth[t] > fixed;
      let a = root;
      let b = root;
      let c = root;
      let d = root;
      let e = root;
      let f = root;
      // Three steps per pass: boosted trees are mostly three levels deep, and every loop
      // back-edge re-checks the typed arrays.
      let step = 0;
      for (; step + 3 <= fixed; step += 3) {
        {
          const la = nodes[a];
          const lb = nodes[b];
          const lc = nodes[c];
          const ld = nodes[d];
          const le = nodes[e];
          const lf = nodes[f];
          const xa = dec[(r0 + ((la & 0xffff) >> 5)) | 0];
          const xb = dec[(r1 + ((lb & 0xffff) >> 5)) | 0];
          const xc = dec[(r2 + ((lc & 0xffff) >> 5)) | 0];
          const xd = dec[(r3 + ((ld & 0xffff) >> 5)) | 0];
          const xe = dec[(r4 + ((le & 0xffff) >> 5)) | 0];
          const xf = dec[(r5 + ((lf & 0xffff) >> 5)) | 0];
          a = (a + (la >> 16) + ((xa >> la) & 1)) | 0;
          b = (b + (lb >> 16) + ((xb >> lb) & 1)) | 0;
          c = (c + (lc >> 16) + ((xc >> lc) & 1)) | 0;
          d = (d + (ld >> 16) + ((xd >> ld) & 1)) | 0;
          e = (e + (le >> 16) + ((xe >> le) & 1)) | 0;
          f = (f + (lf >> 16) + ((xf >> lf) & 1)) | 0;
        }
        {
          const la = nodes[a];
          const lb = nodes[b];
          const lc = nodes[c];
          const ld = nodes[d];
          const le = nodes[e];
          const lf = nodes[f];
          const xa = dec[(r0 + ((la & 0xffff) >> 5)) | 0];
          const xb = dec[(r1 + ((lb & 0xffff) >> 5)) | 0];
          const xc = dec[(r2 + ((lc & 0xffff) >> 5)) | 0];
          const xd = dec[(r3 + ((ld & 0xffff) >> 5)) | 0];
          const xe = dec[(r4 + ((le & 0xffff) >> 5)) | 0];
          const xf = dec[(r5 + ((lf & 0xffff) >> 5)) | 0];
          a = (a + (la >> 16) + ((xa >> la) & 1)) | 0;
          b = (b + (lb >> 16) + ((xb >> lb) & 1)) | 0;
          c = (c + (lc >> 16) + ((xc >> lc) & 1)) | 0;
          d = (d + (ld >> 16) + ((xd >> ld) & 1)) | 0;
          e = (e + (le >> 16) + ((xe >> le) & 1)) | 0;
          f = (f + (lf >> 16) + ((xf >> lf) & 1)) | 0;
        }
        {
          const la = nodes[a];
          const lb = nodes[b];
          const lc = nodes[c];
          const ld = nodes[d];
          const le = nodes[e];
          const lf = nodes[f];
          const xa = dec[(r0 + ((la & 0xffff) >> 5)) | 0];
          const xb = dec[(r1 + ((lb & 0xffff) >> 5)) | 0];
          const xc = dec[(r2 + ((lc & 0xffff) >> 5)) | 0];
          const xd = dec[(r3 + ((ld & 0xffff) >> 5)) | 0];
          const xe = dec[(r4 + ((le & 0xffff) >> 5)) | 0];
          const xf = dec[(r5 + ((lf & 0xffff) >> 5)) | 0];
          a = (a + (la >> 16) + ((xa >> la) & 1)) | 0;
          b = (b + (lb >> 16) + ((xb >> lb) & 1)) | 0;
          c = (c + (lc >> 16) + ((xc >> lc) & 1)) | 0;
          d = (d + (ld >> 16) + ((xd >> ld) & 1)) | 0;
          e = (e + (le >> 16) + ((xe >> le) & 1)) | 0;
          f = (f + (lf >> 16) + ((xf >> lf) & 1)) | 0;
        }
      }
      for (; step < fixed; step++) {
        const la = nodes[a];
        const lb = nodes[b];
        const lc = nodes[c];
        const ld = nodes[d];
        const le = nodes[e];
        const lf = nodes[f];
        const xa = dec[(r0 + ((la & 0xffff) >> 5)) | 0];
        const xb = dec[(r1 + ((lb & 0xffff) >> 5)) | 0];
        const xc = dec[(r2 + ((lc & 0xffff) >> 5)) | 0];
        const xd = dec[(r3 + ((ld & 0xffff) >> 5)) | 0];
        const xe = dec[(r4 + ((le & 0xffff) >> 5)) | 0];
        const xf = dec[(r5 + ((lf & 0xffff) >> 5)) | 0];
        a = (a + (la >> 16) + ((xa >> la) & 1)) | 0;
        b = (b + (lb >> 16) + ((xb >> lb) & 1)) | 0;
        c = (c + (lc >> 16) + ((xc >> lc) & 1)) | 0;
        d = (d + (ld >> 16) + ((xd >> ld) & 1)) | 0;
        e = (e + (le >> 16) + ((xe >> le) & 1)) | 0;
        f = (f + (lf >> 16) + ((xf >> lf) & 1)) | 0;
      }
      while (ragged) {
        const la = nodes[a];
        const lb = nodes[b];
        const lc = nodes[c];
        const ld = nodes[d];
        const le = nodes[e];
        const lf = nodes[f];
        if ((la | lb | lc | ld | le | lf) === 0) break;
        const xa = dec[(r0 + ((la & 0xffff) >> 5)) | 0];
        const xb = dec[(r1 + ((lb & 0xffff) >> 5)) | 0];
        const xc = dec[(r2 + ((lc & 0xffff) >> 5)) | 0];
        const xd = dec[(r3 + ((ld & 0xffff) >> 5)) | 0];
        const xe = dec[(r4 + ((le & 0xffff) >> 5)) | 0];
        const xf = dec[(r5 + ((lf & 0xffff) >> 5)) | 0];
        a = (a + (la >> 16) + ((xa >> la) & 1)) | 0;
        b = (b + (lb >> 16) + ((xb >> lb) & 1)) | 0;
        c = (c + (lc >> 16) + ((xc >> lc) & 1)) | 0;
        d = (d + (ld >> 16) + ((xd >> ld) & 1)) | 0;
        e = (e + (le >> 16) + ((xe >> le) & 1)) | 0;
        f = (f + (lf >> 16) + ((xf >> lf) & 1)) | 0;
      }
      s0 += value[a];
      s1 += value[b];
      s2 += value[c];
      s3 += value[d];
      s4 += value[e];
      s5 += value[f];
    }
    sums[i] = s0;
    sums[i + 1] = s1;
    sums[i + 2] = s2;
    sums[i + 3] = s3;
    sums[i + 4] = s4;
    sums[i + 5] = s5;
  }
  for (; i < m; i++) {
    const r = i * words;
    let s = sums[i];
    for (let t = t0; t < t1; t++) {
      let a = roots[t];
      for (;;) {
        const la = nodes[a];
        if (la === 0) break;
        a = (a + (la >> 16) + ((dec[(r + ((la & 0xffff) >> 5)) | 0] >> la) & 1)) | 0;
      }
      s += value[a];
    }
    sums[i] = s;
  }
}

/** Bits 0 … b-1 of the `count` words at dec[start …] set, the rest clear (without branches). */
function writeOnes(dec: Int32Array, start: number, count: number, b: number): void {
  for (let k = 0; k < count; k++) {
    let ones = b - 32 * k;
    ones &= ~(ones >> 31);
    ones -= (ones - 32) & ~((ones - 32) >> 31);
    dec[start + k] = ((1 << ones) - 1) | -(ones >> 5);
  }
}

/**
 * Number of cuts[lo … hi) (ascending) that x is not ≤ to — all of them for NaN — which is the
 * count of x's right-going thresholds. Branch-free: random values would mispredict every step.
 */
function binOf(cuts: Float64Array, lo: number, hi: number, x: number): number {
  let base = lo;
  let n = hi - lo;
  while (n > 1) {
    const half = n >>> 1;
    base += half & -Number(!(x <= cuts[base + half - 1]));
    n -= half;
  }
  return base - lo + (n & Number(!(x <= cuts[base])));
}

/** Table row of a categorical value: its category below `limit`, else `limit` (in no set). */
function categoryRow(x: number, limit: number): number {
  return x >>> 0 === x && x < limit ? x : limit;
}

/** 32-bit words needed for category set `s` of tree `t` (sets are ascending). */
function wordsFor(t: Tree, s: number): number {
  const max = t.catValues[t.catOffsets[s + 1] - 1];
  return (max >>> 5) + 1;
}
