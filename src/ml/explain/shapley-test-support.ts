/**
 * Reference implementations for the TreeSHAP tests: the path-dependent conditional expectation
 * straight from its definition (Lundberg et al. 2018, Algorithm 1) and Shapley values by
 * enumerating every feature subset, plus random trees that stress the algorithm (repeated
 * features on a path, categorical sets, zero covers, NaN and unknown categories).
 */
import type { Rng } from "../../core/rng.js";
import { Tree } from "../trees/index.js";

/**
 * E[f(x) | x_S] of one tree: at a split on a feature of S follow the row, otherwise average
 * both children by their covers (normalised; equal weights if both are 0).
 */
export function pathExpectation(tree: Tree, row: ArrayLike<number>, known: Uint8Array): number {
  if (tree.nLeaves === 1) return tree.leafValue[0];
  const walk = (code: number): number => {
    if (code < 0) return tree.leafValue[~code];
    const f = tree.feature[code];
    const l = tree.left[code];
    const r = tree.right[code];
    if (known[f]) return goesLeft(tree, code, row[f]) ? walk(l) : walk(r);
    const lc = l >= 0 ? tree.cover[l] : tree.leafCover[~l];
    const rc = r >= 0 ? tree.cover[r] : tree.leafCover[~r];
    const s = lc + rc;
    const wl = s > 0 ? lc / s : 0.5;
    const wr = s > 0 ? rc / s : 0.5;
    return wl * walk(l) + wr * walk(r);
  };
  return walk(0);
}

/** The tree's own routing (Tree.goesLeft is private): ≤ threshold, or category in the set. */
function goesLeft(tree: Tree, node: number, x: number): boolean {
  if (!tree.categorical[node]) return x <= tree.threshold[node];
  if (x >>> 0 !== x) return false;
  return tree.catSet(tree.threshold[node]).includes(x);
}

/**
 * Shapley values of v(S) = Σ_trees pathExpectation(tree, row, S) over the players `players`
 * (feature indices; the others are always unknown), by enumerating all 2^|players| subsets.
 */
export function bruteForceShapley(
  trees: readonly Tree[],
  row: ArrayLike<number>,
  nFeatures: number,
  players: readonly number[] = Array.from({ length: nFeatures }, (_, f) => f),
): { phi: Float64Array; empty: number; full: number } {
  const m = players.length;
  const value = new Float64Array(1 << m);
  const known = new Uint8Array(nFeatures);
  for (let mask = 0; mask < 1 << m; mask++) {
    known.fill(0);
    for (let j = 0; j < m; j++) if (mask & (1 << j)) known[players[j]] = 1;
    let v = 0;
    for (const t of trees) v += pathExpectation(t, row, known);
    value[mask] = v;
  }
  const fact = [1];
  for (let i = 1; i <= m; i++) fact.push(fact[i - 1] * i);
  const phi = new Float64Array(nFeatures);
  for (let j = 0; j < m; j++) {
    let s = 0;
    for (let mask = 0; mask < 1 << m; mask++) {
      if (mask & (1 << j)) continue;
      const size = popcount(mask);
      const w = (fact[size] * fact[m - size - 1]) / fact[m];
      s += w * (value[mask | (1 << j)] - value[mask]);
    }
    phi[players[j]] = s;
  }
  return { phi, empty: value[0], full: value[(1 << m) - 1] };
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

export interface RandomTreeOptions {
  readonly nFeatures: number;
  /** Categories of each categorical feature (0 = numeric). */
  readonly categories: readonly number[];
  readonly maxDepth: number;
  /** Probability that a node below the root splits. */
  readonly splitProbability: number;
}

/**
 * A random tree in the learners' layout (internal nodes numbered before their children).
 * Covers are random and inconsistent on purpose (a parent's cover is not its children's sum),
 * some are 0, thresholds come from a small grid so that rows hit them exactly.
 */
export function randomTree(rng: Rng, o: RandomTreeOptions): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const categorical: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const cover: number[] = [];
  const leafValue: number[] = [];
  const leafCover: number[] = [];
  const catOffsets = [0];
  const catValues: number[] = [];
  const randomCover = (): number => (rng.next() < 0.08 ? 0 : 1 + Math.floor(rng.next() * 50));
  const grow = (depth: number): number => {
    const split = depth === 0 || (depth < o.maxDepth && rng.next() < o.splitProbability);
    if (!split) {
      leafValue.push(Math.round((rng.next() * 4 - 2) * 1000) / 1000);
      leafCover.push(randomCover());
      return ~(leafValue.length - 1);
    }
    const k = feature.length;
    const f = rng.int(o.nFeatures);
    feature.push(f);
    const nCat = o.categories[f] ?? 0;
    if (nCat > 0) {
      const set: number[] = [];
      for (let c = 0; c < nCat; c++) if (rng.next() < 0.5) set.push(c);
      if (set.length === 0) set.push(rng.int(nCat));
      threshold.push(catOffsets.length - 1);
      catValues.push(...set);
      catOffsets.push(catValues.length);
      categorical.push(1);
    } else {
      threshold.push(rng.int(5) + 0.5 * rng.int(2));
      categorical.push(0);
    }
    left.push(0);
    right.push(0);
    cover.push(randomCover());
    left[k] = grow(depth + 1);
    right[k] = grow(depth + 1);
    return k;
  };
  grow(0);
  return new Tree(
    leafValue.length,
    Int32Array.from(feature),
    Float64Array.from(threshold),
    Uint8Array.from(categorical),
    Int32Array.from(left),
    Int32Array.from(right),
    new Float64Array(feature.length),
    Float64Array.from(cover),
    Float64Array.from(leafValue),
    Float64Array.from(leafCover),
    Int32Array.from(catOffsets),
    Int32Array.from(catValues),
  );
}

/** A random row for `randomTree`'s features: grid values, some NaN and unknown categories. */
export function randomRow(rng: Rng, categories: readonly number[]): Float64Array {
  return Float64Array.from(categories, (nCat) => {
    const u = rng.next();
    if (u < 0.05) return NaN;
    if (nCat > 0) return u < 0.1 ? nCat + 1 : rng.int(nCat);
    return rng.int(6) + 0.5 * rng.int(2) - 0.5;
  });
}
