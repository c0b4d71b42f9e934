import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset } from "../../data/index.js";
import { type ForestModel, forest } from "../ensembles/forest.js";
import { type GbdtModel, gbdt } from "../ensembles/gbdt.js";
import type { FeatureSpec, Table } from "../types.js";
import { PackedTrees } from "./predict.js";
import { Tree } from "./tree.js";

const german = (await readDataset(DEFAULT_DATA_PATH)).table;

/** Leaf values summed from zero in tree order, walking each tree on the raw values. */
function reference(trees: readonly Tree[], row: ArrayLike<number>): number {
  let s = 0;
  for (const t of trees) s += t.leafValue[t.leafOfRow(row)];
  return s;
}

function rowOf(table: Table, i: number): number[] {
  return table.columns.map((c) => c[i]);
}

/** Checks sumRow and addTable (adding onto `start`) against the reference, bit for bit. */
function expectSameScores(trees: readonly Tree[], table: Table, start = 0.25): void {
  const packed = new PackedTrees(trees);
  const out = new Float64Array(table.n).fill(start);
  packed.addTable(table, out);
  for (let i = 0; i < table.n; i++) {
    const row = rowOf(table, i);
    const want = reference(trees, row);
    expect(packed.sumRow(row), `row ${i}`).toBe(want);
    expect(out[i], `row ${i} of the batch`).toBe(start + want);
  }
}

/** Column-major table of the given rows. */
function tableOf(features: readonly FeatureSpec[], rows: readonly number[][]): Table {
  const columns = features.map((_, f) => Float64Array.from(rows, (r) => r[f]));
  return { features, columns, n: rows.length };
}

/** The German credit rows, repeated `times` times (blocks span the repeats). */
function tiled(times: number): Table {
  const n = german.n * times;
  const columns = german.columns.map((c) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = c[i % german.n];
    return out;
  });
  return { features: german.features, columns, n };
}

const SPEC: FeatureSpec[] = [
  { name: "a", kind: "numeric" },
  { name: "b", kind: "categorical", nCategories: 40 },
  { name: "c", kind: "numeric" },
  { name: "d", kind: "categorical", nCategories: 4 },
  { name: "e", kind: "numeric" },
];
/** Few distinct thresholds, so that many nodes share one and rows fall exactly on them. */
const GRID = [-2.5, -1, -0, 0.5, 1, 3, 7.25, 1e6];

/**
 * A random tree with `nLeaves` leaves, grown by splitting random leaves (so depths vary), numeric
 * thresholds from GRID and categorical sets that are random non-empty subsets; each numeric node
 * sends NaN left with probability `missingLeftShare`.
 */
function randomTree(
  rng: Rng,
  spec: readonly FeatureSpec[],
  nLeaves: number,
  missingLeftShare = 0,
): Tree {
  const feature: number[] = [];
  const threshold: number[] = [];
  const categorical: number[] = [];
  const left: number[] = [];
  const right: number[] = [];
  const sets: number[][] = [];
  // Where each current leaf hangs: [parent, side], or null for the root.
  let slots: ([number, 0 | 1] | null)[] = [null];
  while (slots.length < nLeaves) {
    const pick = rng.int(slots.length);
    const slot = slots[pick];
    const k = feature.length;
    if (slot !== null) (slot[1] === 0 ? left : right)[slot[0]] = k;
    const f = rng.int(spec.length);
    feature.push(f);
    left.push(0);
    right.push(0);
    const nCat = spec[f].nCategories;
    if (nCat === undefined) {
      categorical.push(0);
      threshold.push(GRID[rng.int(GRID.length)]);
    } else {
      let set = Array.from({ length: nCat }, (_, c) => c).filter(() => rng.next() < 0.4);
      if (set.length === 0) set = [rng.int(nCat)];
      categorical.push(1);
      threshold.push(sets.length);
      sets.push(set);
    }
    slots = [...slots.slice(0, pick), [k, 0], [k, 1], ...slots.slice(pick + 1)];
  }
  slots.forEach((slot, l) => {
    if (slot !== null) (slot[1] === 0 ? left : right)[slot[0]] = ~l;
  });
  const catOffsets = new Int32Array(sets.length + 1);
  sets.forEach((set, s) => (catOffsets[s + 1] = catOffsets[s] + set.length));
  const nInternal = nLeaves - 1;
  const missingLeft = new Uint8Array(nInternal);
  if (missingLeftShare > 0) {
    for (let k = 0; k < nInternal; k++)
      missingLeft[k] = Number(categorical[k] === 0 && rng.next() < missingLeftShare);
  }
  return new Tree(
    nLeaves,
    Int32Array.from(feature),
    Float64Array.from(threshold),
    Uint8Array.from(categorical),
    Int32Array.from(left),
    Int32Array.from(right),
    new Float64Array(nInternal),
    new Float64Array(nInternal),
    Float64Array.from({ length: nLeaves }, () => rng.next() - 0.5),
    new Float64Array(nLeaves),
    catOffsets,
    Int32Array.from(sets.flat()),
    missingLeft,
  );
}

/** Values on, beside and away from the thresholds, and every kind of unknown category. */
function randomRow(rng: Rng, spec: readonly FeatureSpec[]): number[] {
  return spec.map((s) => {
    const u = rng.next();
    if (u < 0.05) return NaN;
    if (s.nCategories === undefined) {
      if (u < 0.1) return rng.next() < 0.5 ? Infinity : -Infinity;
      if (u < 0.5) return GRID[rng.int(GRID.length)];
      return (rng.next() - 0.5) * 20;
    }
    if (u < 0.1) return s.nCategories + rng.int(100);
    if (u < 0.13) return -1 - rng.int(3);
    if (u < 0.16) return rng.int(s.nCategories) + 0.5;
    if (u < 0.18) return -0;
    if (u < 0.2) return 2 ** 32 + rng.int(s.nCategories);
    return rng.int(s.nCategories);
  });
}

describe("packed scoring", () => {
  it("sums the same leaves as walking each tree, for gbdt on German credit", () => {
    const model = gbdt.fit(german, {}, new Rng(0)) as GbdtModel;
    expect(new PackedTrees(model.trees).usesDecisions).toBe(true);
    expectSameScores(model.trees, tiled(2));
  });

  it("sums the same leaves as walking each tree, for a forest on German credit", () => {
    const model = forest.fit(german, { nTrees: 60 }, new Rng(1)) as ForestModel;
    expect(new PackedTrees(model.trees).usesDecisions).toBe(true);
    expectSameScores(model.trees, german);
  });

  it("agrees on random trees and rows with NaN, infinities and unknown categories", () => {
    const rng = new Rng(7);
    const trees = Array.from({ length: 40 }, (_, t) => randomTree(rng, SPEC, 1 + ((t * 7) % 60)));
    expect(new PackedTrees(trees).usesDecisions).toBe(true);
    // Sizes around the lockstep groups and blocks, and a last partial group and block.
    for (const n of [0, 1, 5, 6, 7, 13, 1000, 2311]) {
      const rows = Array.from({ length: n }, () => randomRow(rng, SPEC));
      expectSameScores(trees, tableOf(SPEC, rows));
    }
  });

  it("handles single-leaf trees, an empty ensemble and NaN thresholds", () => {
    const rng = new Rng(3);
    const rows = Array.from({ length: 50 }, () => randomRow(rng, SPEC));
    const stump = randomTree(rng, SPEC, 1);
    expectSameScores([stump, randomTree(rng, SPEC, 9), stump], tableOf(SPEC, rows));
    expectSameScores([], tableOf(SPEC, rows));
    // Nothing is ≤ NaN, so such a node sends every row right.
    const t = randomTree(rng, SPEC, 12);
    for (let k = 0; k < t.nInternal; k++) if (t.categorical[k] === 0) t.threshold[k] = NaN;
    expectSameScores([t, randomTree(rng, SPEC, 5)], tableOf(SPEC, rows));
  });

  it("falls back to the raw layout for a feature split both ways, with the same results", () => {
    const rng = new Rng(11);
    const numericSpec = SPEC.map((s) => ({ name: s.name, kind: "numeric" as const }));
    // Feature 1 is categorical in the first trees and numeric in the last one.
    const trees = [randomTree(rng, SPEC, 20), randomTree(rng, SPEC, 20)];
    let mixed = randomTree(rng, numericSpec, 30);
    while (!Array.from(mixed.feature).includes(1)) mixed = randomTree(rng, numericSpec, 30);
    trees.push(mixed);
    expect(new PackedTrees(trees).usesDecisions).toBe(false);
    const rows = Array.from({ length: 700 }, () => randomRow(rng, SPEC));
    expectSameScores(trees, tableOf(SPEC, rows));
  });

  it("sends NaN to each numeric node's learned side, in both layouts", () => {
    // A stump by hand: x ≤ 1 or NaN goes left.
    const stump = new Tree(
      2,
      Int32Array.of(0),
      Float64Array.of(1),
      Uint8Array.of(0),
      Int32Array.of(~0),
      Int32Array.of(~1),
      new Float64Array(1),
      new Float64Array(1),
      Float64Array.of(-1, 1),
      new Float64Array(2),
      Int32Array.of(0),
      new Int32Array(0),
      Uint8Array.of(1),
    );
    const spec1: FeatureSpec[] = [{ name: "x", kind: "numeric" }];
    const packed = new PackedTrees([stump]);
    expect(packed.usesDecisions).toBe(true);
    expect([NaN, 0, 1, 2, Infinity, -Infinity].map((x) => packed.sumRow([x]))).toEqual([
      -1, -1, -1, 1, 1, -1,
    ]);
    expect(stump.leafValue[stump.leafOfRow([NaN])]).toBe(-1);
    expectSameScores([stump], tableOf(spec1, [[NaN], [0.5], [3]]));

    const rng = new Rng(13);
    // Some features with NaN-left nodes only, some with both sides, some without any.
    const trees = Array.from({ length: 40 }, (_, t) =>
      randomTree(rng, SPEC, 1 + ((t * 7) % 60), t % 3 === 0 ? 0 : 0.5),
    );
    expect(trees.some((t) => t.hasMissingLeft)).toBe(true);
    expect(new PackedTrees(trees).usesDecisions).toBe(true);
    for (const n of [1, 7, 1000, 2311]) {
      const rows = Array.from({ length: n }, () => randomRow(rng, SPEC));
      expectSameScores(trees, tableOf(SPEC, rows));
    }
    // Rows that are NaN everywhere reach, in every tree, the leaf of following each side.
    const nan = SPEC.map(() => NaN);
    for (const t of trees) {
      let node = t.nLeaves === 1 ? -1 : 0;
      while (node >= 0) node = t.missingLeft[node] ? t.left[node] : t.right[node];
      expect(t.leafOfRow(nan)).toBe(~node);
    }
    // The raw layout (a feature split both ways) and a NaN-left node with a NaN threshold.
    const numericSpec = SPEC.map((s) => ({ name: s.name, kind: "numeric" as const }));
    let mixed = randomTree(rng, numericSpec, 30, 0.5);
    while (!Array.from(mixed.feature).includes(1)) mixed = randomTree(rng, numericSpec, 30, 0.5);
    const raw = [randomTree(rng, SPEC, 20, 0.5), mixed];
    expect(new PackedTrees(raw).usesDecisions).toBe(false);
    const nanThreshold = randomTree(rng, SPEC, 12, 1);
    for (let k = 0; k < nanThreshold.nInternal; k++)
      if (nanThreshold.categorical[k] === 0) nanThreshold.threshold[k] = NaN;
    expect(new PackedTrees([nanThreshold]).usesDecisions).toBe(false);
    const rows = Array.from({ length: 700 }, () => randomRow(rng, SPEC));
    expectSameScores(raw, tableOf(SPEC, rows));
    expectSameScores([nanThreshold, trees[1]], tableOf(SPEC, rows));
    const packedRaw = new PackedTrees(raw);
    const table = tableOf(SPEC, rows);
    for (let i = 0; i < 200; i++) {
      for (let t = 0; t < raw.length; t++) {
        const want = raw[t].leafValue[raw[t].leafOfRow(rows[i])];
        expect(packedRaw.treeValue(t, table.columns, i)).toBe(want);
      }
    }
  });

  it("scores models fitted on data with missing values like walking their trees", () => {
    const rng = new Rng(4);
    // German credit with a fifth of the numeric values missing.
    const columns = german.columns.map((c, f) =>
      german.features[f].kind === "numeric"
        ? c.map((v) => (rng.next() < 0.2 ? NaN : v))
        : c.slice(),
    );
    const data = { ...german, columns };
    const boosted = gbdt.fit(data, { nRounds: 80 }, new Rng(0)) as GbdtModel;
    const bagged = forest.fit(data, { nTrees: 30 }, new Rng(1)) as ForestModel;
    for (const trees of [boosted.trees, bagged.trees]) {
      expect(trees.some((t) => t.hasMissingLeft)).toBe(true);
      expect(new PackedTrees(trees).usesDecisions).toBe(true);
      expectSameScores(trees, data);
    }
  });

  it("treeValue gives each tree's leaf value", () => {
    const rng = new Rng(5);
    const trees = Array.from({ length: 5 }, () => randomTree(rng, SPEC, 15));
    const table = tableOf(
      SPEC,
      Array.from({ length: 200 }, () => randomRow(rng, SPEC)),
    );
    const packed = new PackedTrees(trees);
    for (let i = 0; i < table.n; i++) {
      for (let t = 0; t < trees.length; t++) {
        const want = trees[t].leafValue[trees[t].leafOfRow(rowOf(table, i))];
        expect(packed.treeValue(t, table.columns, i)).toBe(want);
      }
    }
  });
});
