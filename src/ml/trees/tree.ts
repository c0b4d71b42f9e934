/**
 * One fitted tree in LightGBM's layout: `nLeaves - 1` internal nodes, node 0 the root, children
 * ≥ 0 are internal nodes and negative children are leaves (`~leaf`). Numeric splits send
 * `x ≤ threshold` left, and NaN to the side the split learned for missing values (`missingLeft`,
 * right unless set); categorical splits send the categories of their set left and every other
 * value (including unknown categories and NaN) right.
 */
export class Tree {
  constructor(
    readonly nLeaves: number,
    /** Feature tested by each internal node. */
    readonly feature: Int32Array,
    /** Numeric nodes: raw threshold. Categorical nodes: index of their category set. */
    readonly threshold: Float64Array,
    /** Whether each internal node is categorical (1) or numeric (0). */
    readonly categorical: Uint8Array,
    readonly left: Int32Array,
    readonly right: Int32Array,
    /** Gain of each split (for importance). */
    readonly gain: Float64Array,
    /** Sum of hessians (GBDT) or bootstrap weights (forest) reaching each internal node. */
    readonly cover: Float64Array,
    readonly leafValue: Float64Array,
    readonly leafCover: Float64Array,
    /**
     * Category set s (the categories a categorical split sends left) is
     * catValues[catOffsets[s]..catOffsets[s+1]), ascending; one flat array keeps a tree to a
     * single allocation.
     */
    readonly catOffsets: Int32Array,
    readonly catValues: Int32Array,
    /**
     * Numeric nodes: 1 when NaN goes left (the side learned from the node's missing values),
     * 0 when it goes right. Always 0 for categorical nodes.
     */
    readonly missingLeft: Uint8Array = new Uint8Array(feature.length),
  ) {}

  /** Whether some node sends NaN left (else NaN goes right everywhere). */
  get hasMissingLeft(): boolean {
    for (let k = 0; k < this.missingLeft.length; k++) if (this.missingLeft[k] !== 0) return true;
    return false;
  }

  get nCatSets(): number {
    return this.catOffsets.length - 1;
  }

  /** Categories of set `s`, ascending. */
  catSet(s: number): Int32Array {
    return this.catValues.subarray(this.catOffsets[s], this.catOffsets[s + 1]);
  }

  get nInternal(): number {
    return this.nLeaves - 1;
  }

  /** Leaf index that a row of raw values falls into. */
  leafOfRow(row: ArrayLike<number>): number {
    if (this.nLeaves === 1) return 0;
    let node = 0;
    while (node >= 0) {
      const x = row[this.feature[node]];
      node = this.goesLeft(node, x) ? this.left[node] : this.right[node];
    }
    return ~node;
  }

  /** Leaf index of row `i` of a column-major table. */
  leafOfColumns(columns: readonly Float64Array[], i: number): number {
    if (this.nLeaves === 1) return 0;
    let node = 0;
    while (node >= 0) {
      const x = columns[this.feature[node]][i];
      node = this.goesLeft(node, x) ? this.left[node] : this.right[node];
    }
    return ~node;
  }

  private goesLeft(node: number, x: number): boolean {
    if (this.categorical[node] === 0)
      return x <= this.threshold[node] || (x !== x && this.missingLeft[node] === 1);
    if (x >>> 0 !== x) return false;
    const s = this.threshold[node];
    const values = this.catValues;
    for (let k = this.catOffsets[s]; k < this.catOffsets[s + 1]; k++)
      if (values[k] === x) return true;
    return false;
  }

  /** Depth of the deepest leaf (a single leaf has depth 0). */
  depth(): number {
    if (this.nLeaves === 1) return 0;
    let max = 0;
    const stack: number[] = [0, 1];
    while (stack.length > 0) {
      const d = stack.pop() as number;
      const node = stack.pop() as number;
      for (const child of [this.left[node], this.right[node]]) {
        if (child < 0) max = Math.max(max, d);
        else stack.push(child, d + 1);
      }
    }
    return max;
  }
}

/** Adds each internal node's gain to its feature's total. */
export function addGainByFeature(tree: Tree, totals: Float64Array): void {
  for (let k = 0; k < tree.nInternal; k++) totals[tree.feature[k]] += tree.gain[k];
}

/** Totals scaled to sum to 1 (all zeros when there is no split at all). */
export function normaliseImportance(totals: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < totals.length; i++) s += totals[i];
  const out = new Float64Array(totals.length);
  if (s > 0) for (let i = 0; i < totals.length; i++) out[i] = totals[i] / s;
  return out;
}
