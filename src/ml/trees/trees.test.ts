import { describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { rocAuc } from "../metrics/auc.js";
import type { FeatureSpec, Table } from "../types.js";
import { BinMapper } from "./binning.js";
import {
  buildFeaturesHistogram,
  buildSparseHistogram,
  clearSparseHistogram,
  subtractHistogram,
} from "./histogram.js";
import {
  DEFAULT_TREE_PARAMS,
  TreeLearner,
  type TreeParams,
  quantiseLeaf,
  roundSig,
} from "./learner.js";
import { PackedTrees } from "./predict.js";
import { type TreeJSON, treeFromJSON, treeToJSON } from "./serialize.js";
import { withMissingSides } from "./missing-test-support.js";
import { Tree } from "./tree.js";

/** Exact-fit settings: class-1 fraction leaves (grad −y, hess 1, λ 0), grown to purity. */
const PURE: TreeParams = {
  ...DEFAULT_TREE_PARAMS,
  maxLeaves: 0,
  minSamplesLeaf: 1,
  lambda: 0,
  minHessianLeaf: 0,
};

function table(features: FeatureSpec[], columns: number[][]): Table {
  return { features, columns: columns.map((c) => Float64Array.from(c)), n: columns[0].length };
}

/** Grows one tree on all rows with grad −y, hess 1. */
function growPure(t: Table, y: number[], params: TreeParams = PURE, rng = new Rng(0)): Tree {
  const mapper = BinMapper.fit(t);
  const learner = new TreeLearner(mapper, mapper.transform(t), params);
  const grad = Float64Array.from(y, (v) => -v);
  const hess = new Float64Array(y.length).fill(1);
  const rows = Int32Array.from({ length: y.length }, (_, i) => i);
  return learner.fit(grad, hess, rows, y.length, rng);
}

const value = (tree: Tree, row: number[]): number => tree.leafValue[tree.leafOfRow(row)];

describe("binning", () => {
  const spec: FeatureSpec[] = [{ name: "x", kind: "numeric" }];

  it("puts one distinct value per bin with midpoint edges and NaN last", () => {
    const m = BinMapper.fit(table(spec, [[3, 1, 2, 2, 10]]));
    expect(Array.from(m.upper[0])).toEqual([1.5, 2.5, 6.5]);
    expect(m.nBins[0]).toBe(5);
    expect([1, 1.5, 1.6, 2, 3, 6.5, 7, 1e9, -5].map((x) => m.bin(0, x))).toEqual([
      0, 0, 1, 1, 2, 2, 3, 3, 0,
    ]);
    expect(m.bin(0, NaN)).toBe(4);
  });

  it("caps the bins at maxBins with roughly equal counts", () => {
    const x = Array.from({ length: 1000 }, (_, i) => i);
    const m = BinMapper.fit(table(spec, [x]), undefined, 10);
    expect(m.upper[0].length).toBe(9);
    const binned = m.transform(table(spec, [x])).columns[0];
    const counts = new Array(10).fill(0);
    for (const b of binned) counts[b]++;
    expect(counts).toEqual(new Array(10).fill(100));
  });

  it("maps categories to their index and anything else to the unknown bin", () => {
    const cat: FeatureSpec[] = [{ name: "c", kind: "categorical", nCategories: 3 }];
    const m = BinMapper.fit(table(cat, [[0, 1, 2]]));
    expect([0, 1, 2, 3, -1, 1.5, NaN].map((x) => m.bin(0, x))).toEqual([0, 1, 2, 3, 3, 3, 3]);
  });

  it("uses only the given rows for the edges", () => {
    const m = BinMapper.fit(table(spec, [[0, 1, 2, 100]]), [0, 1]);
    expect(Array.from(m.upper[0])).toEqual([0.5]);
  });
});

describe("histograms", () => {
  const rng = new Rng(3);
  const n = 200;
  // Three features of 40, 3 and 7 bins, laid out one after the other.
  const nBins = Int32Array.of(40, 3, 7);
  const offsets = Int32Array.of(0, 40, 43, 50);
  const cols = Array.from(nBins, (nb) => Uint16Array.from({ length: n }, () => rng.int(nb)));
  const grad = Float64Array.from({ length: n }, () => rng.normal());
  const hess = Float64Array.from({ length: n }, () => rng.next());
  const all = Int32Array.of(0, 1, 2);
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const build = (begin: number, end: number, features = all): Float64Array => {
    // Stale values must be cleared by the build.
    const h = new Float64Array(150).fill(7);
    buildFeaturesHistogram(
      h,
      offsets,
      nBins,
      features,
      features.length,
      cols,
      grad,
      hess,
      rows,
      begin,
      end,
    );
    return h;
  };

  it("sums gradient, hessian and count per bin of each feature", () => {
    const h = build(5, 150);
    for (let f = 0; f < 3; f++) {
      for (let b = 0; b < nBins[f]; b++) {
        let g = 0;
        let hh = 0;
        let c = 0;
        for (let i = 5; i < 150; i++) {
          if (cols[f][i] !== b) continue;
          g += grad[i];
          hh += hess[i];
          c++;
        }
        const at = 3 * (offsets[f] + b);
        expect(h[at]).toBeCloseTo(g, 12);
        expect(h[at + 1]).toBeCloseTo(hh, 12);
        expect(h[at + 2]).toBe(c);
      }
    }
    // Features not listed are left alone.
    expect(
      build(0, n, Int32Array.of(2))
        .subarray(0, 129)
        .every((v) => v === 7),
    ).toBe(true);
  });

  it("parent minus one child is the sibling", () => {
    const parent = build(0, n);
    const left = build(0, 70);
    const right = build(70, n);
    subtractHistogram(parent, left, offsets, all, 3);
    for (let i = 0; i < 150; i++) expect(parent[i]).toBeCloseTo(right[i], 12);
    for (let b = 0; b < 50; b++) expect(parent[3 * b + 2]).toBe(right[3 * b + 2]);
  });

  it("sparse build gives the same bins as the dense one and clears back to zero", () => {
    const dense = build(10, 30, Int32Array.of(0));
    const sparse = new Float64Array(150);
    const touched = new Int32Array(40);
    const bits = new Uint32Array(2);
    const nt = buildSparseHistogram(
      sparse,
      0,
      40,
      cols[0],
      grad,
      hess,
      rows,
      10,
      30,
      touched,
      bits,
    );
    expect(Array.from(sparse.subarray(0, 120))).toEqual(Array.from(dense.subarray(0, 120)));
    const expected = Array.from(new Set(cols[0].subarray(10, 30))).sort((a, b) => a - b);
    expect(Array.from(touched.subarray(0, nt))).toEqual(expected);
    expect(Array.from(bits)).toEqual([0, 0]);
    clearSparseHistogram(sparse, 0, touched, nt);
    expect(sparse.every((v) => v === 0)).toBe(true);
  });
});

describe("tree learner", () => {
  it("fits an (unbalanced) XOR of two features exactly", () => {
    // Counts differ per corner so that the first split already has positive gain.
    const corners: [number, number, number, number][] = [
      [0, 0, 0, 10],
      [0, 1, 1, 20],
      [1, 0, 1, 30],
      [1, 1, 0, 15],
    ];
    const a: number[] = [];
    const b: number[] = [];
    const y: number[] = [];
    for (const [x1, x2, label, count] of corners) {
      for (let i = 0; i < count; i++) {
        a.push(x1);
        b.push(x2);
        y.push(label);
      }
    }
    const spec: FeatureSpec[] = [
      { name: "a", kind: "numeric" },
      { name: "b", kind: "numeric" },
    ];
    const tree = growPure(table(spec, [a, b]), y);
    expect(tree.nLeaves).toBe(4);
    expect(tree.depth()).toBe(2);
    for (const [x1, x2, label] of corners) expect(value(tree, [x1, x2])).toBe(label);
    expect(Array.from(tree.threshold).sort()).toEqual([0.5, 0.5, 0.5]);
  });

  it("separates classes with a single categorical split, unknown categories going right", () => {
    // Categories 0, 2 and 5 are bad, the others good.
    const c: number[] = [];
    const y: number[] = [];
    for (let k = 0; k < 6; k++) {
      for (let i = 0; i < 5 + k; i++) {
        c.push(k);
        y.push(k === 0 || k === 2 || k === 5 ? 1 : 0);
      }
    }
    const spec: FeatureSpec[] = [{ name: "c", kind: "categorical", nCategories: 8 }];
    const tree = growPure(table(spec, [c]), y);
    expect(tree.nLeaves).toBe(2);
    expect(tree.categorical[0]).toBe(1);
    const set = Array.from(tree.catSet(0));
    expect(set.length === 3 ? set : [0, 1, 2, 3, 4, 5].filter((k) => !set.includes(k))).toEqual([
      0, 2, 5,
    ]);
    for (let k = 0; k < 6; k++)
      expect(value(tree, [k])).toBe(k === 0 || k === 2 || k === 5 ? 1 : 0);
    // Never-seen category 7, an out-of-range code and NaN share the right leaf.
    const right = tree.leafValue[~tree.right[0]];
    for (const x of [7, 99, NaN, 2.5]) expect(value(tree, [x])).toBe(right);
  });

  it("keeps rare categories out of the left set with minDataPerCategory", () => {
    const c = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2];
    const y = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1];
    const spec: FeatureSpec[] = [{ name: "c", kind: "categorical", nCategories: 3 }];
    const tree = growPure(table(spec, [c]), y, { ...PURE, minDataPerCategory: 2 });
    expect(tree.nLeaves).toBe(2);
    const set = Array.from(tree.catSet(0));
    expect(set).not.toContain(2);
    expect(value(tree, [2])).toBe(tree.leafValue[~tree.right[0]]);
  });

  it("computes leaf values −G/(H+λ) times the scale", () => {
    const spec: FeatureSpec[] = [{ name: "x", kind: "numeric" }];
    const t = table(spec, [[0, 0, 1, 1]]);
    const mapper = BinMapper.fit(t);
    const learner = new TreeLearner(mapper, mapper.transform(t), {
      ...DEFAULT_TREE_PARAMS,
      minSamplesLeaf: 1,
      lambda: 1,
    });
    const grad = Float64Array.of(1, 2, -3, -1);
    const hess = Float64Array.of(0.5, 0.5, 1, 1);
    const tree = learner.fit(grad, hess, Int32Array.of(0, 1, 2, 3), 4, new Rng(0), 0.1);
    expect(tree.nLeaves).toBe(2);
    expect(value(tree, [0])).toBe(quantiseLeaf((-3 / 2) * 0.1));
    expect(value(tree, [1])).toBe(quantiseLeaf((4 / 3) * 0.1));
  });

  it("respects maxLeaves, maxDepth and minSamplesLeaf", () => {
    const rng = new Rng(7);
    const n = 500;
    const x = Array.from({ length: n }, () => rng.next());
    const z = Array.from({ length: n }, () => rng.next());
    const y = x.map((v, i) => (Math.sin(10 * v) + z[i] > 0.7 ? 1 : 0));
    const spec: FeatureSpec[] = [
      { name: "x", kind: "numeric" },
      { name: "z", kind: "numeric" },
    ];
    const t = table(spec, [x, z]);
    expect(growPure(t, y, { ...PURE, maxLeaves: 6 }).nLeaves).toBe(6);
    expect(growPure(t, y, { ...PURE, maxDepth: 3 }).depth()).toBe(3);
    const coarse = growPure(t, y, { ...PURE, minSamplesLeaf: 25 });
    expect(Math.min(...coarse.leafCover)).toBeGreaterThanOrEqual(25);
    expect(coarse.nLeaves).toBeGreaterThan(4);
  });

  it("grows identical trees from the same seed, and uses the seed for feature sampling", () => {
    const rng = new Rng(11);
    const n = 300;
    const cols = Array.from({ length: 6 }, () => Array.from({ length: n }, () => rng.next()));
    const y = cols[0].map((v, i) => (v + cols[3][i] + 0.3 * rng.normal() > 1 ? 1 : 0));
    const spec: FeatureSpec[] = cols.map((_, j) => ({ name: `x${j}`, kind: "numeric" }));
    const t = table(spec, cols);
    const sampled: TreeParams = { ...PURE, featuresPerNode: 2 };
    const a = JSON.stringify(treeToJSON(growPure(t, y, sampled, new Rng(5))));
    const b = JSON.stringify(treeToJSON(growPure(t, y, sampled, new Rng(5))));
    const c = JSON.stringify(treeToJSON(growPure(t, y, sampled, new Rng(6))));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });
});

describe("tree JSON and packed scoring", () => {
  const rng = new Rng(21);
  const n = 400;
  const num = Array.from({ length: n }, () => Math.round(rng.next() * 1000) / 10);
  const cat = Array.from({ length: n }, () => rng.int(5));
  const y = num.map((v, i) => ((v > 40 ? 1 : 0) ^ (cat[i] === 1 || cat[i] === 3 ? 1 : 0) ? 1 : 0));
  const spec: FeatureSpec[] = [
    { name: "num", kind: "numeric" },
    { name: "cat", kind: "categorical", nCategories: 5 },
  ];
  const t = table(spec, [num, cat]);
  const tree = growPure(t, y, { ...PURE, maxLeaves: 12 });

  it("round-trips through JSON to the same tree", () => {
    const json = JSON.parse(JSON.stringify(treeToJSON(tree))) as TreeJSON;
    const back = treeFromJSON(json, spec, "tree");
    expect(JSON.stringify(treeToJSON(back))).toBe(JSON.stringify(json));
    for (let i = 0; i < n; i++)
      expect(value(back, [num[i], cat[i]])).toBe(value(tree, [num[i], cat[i]]));
  });

  it("packed scoring equals walking each tree", () => {
    const other = growPure(
      t,
      y.map((v) => 1 - v),
      { ...PURE, maxLeaves: 5 },
    );
    const packed = new PackedTrees([tree, other]);
    for (let i = 0; i < n; i++) {
      const row = [num[i], cat[i]];
      expect(packed.sumRow(row)).toBe(value(tree, row) + value(other, row));
      expect(packed.treeValue(1, t.columns, i)).toBe(value(other, row));
    }
    for (const row of [
      [NaN, 1],
      [50, 9],
      [50, NaN],
    ]) {
      expect(packed.sumRow(row)).toBe(value(tree, row) + value(other, row));
    }
  });

  it("refuses corrupt trees with a clear error", () => {
    const good = treeToJSON(tree);
    const corrupt: [string, (j: Record<string, unknown>) => void, RegExp][] = [
      ["leaf out of range", (j) => ((j.left as number[])[0] = -999), /left\[0\]/],
      ["cycle", (j) => ((j.right as number[])[1] = 0), /must come after its parent/],
      ["short array", (j) => (j.value as number[]).pop(), /value: expected \d+ entries/],
      ["non-finite leaf", (j) => ((j.value as unknown[])[3] = null), /value\[3\]/],
      ["feature out of range", (j) => ((j.feature as number[])[0] = 7), /feature\[0\]/],
      ["category out of range", (j) => ((j.cats as number[][])[0] = [9]), /cats\[0\]/],
      ["missing field", (j) => delete j.leaves, /leaves: expected an integer/],
    ];
    for (const [what, mutate, message] of corrupt) {
      const j = JSON.parse(JSON.stringify(good)) as Record<string, unknown>;
      mutate(j);
      let err: unknown;
      try {
        treeFromJSON(j, spec, "tree");
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(AppError);
      expect((err as AppError).code, what).toBe("MODEL_FILE_INVALID");
      expect((err as AppError).message, what).toMatch(message);
    }
  });
});

describe("missing values", () => {
  const spec: FeatureSpec[] = [{ name: "x", kind: "numeric" }];
  /**
   * x in 0..99, ten rows each: 80% bad below 30, 10% bad from 30 on. Missing x is as risky as
   * low x, so the one split belongs at 29.5 with NaN on the left.
   */
  function lowRiskData(nMissing: number): { x: number[]; y: number[] } {
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const v = i % 100;
      const copy = Math.floor(i / 100);
      x.push(v);
      y.push(v < 30 ? Number(copy < 8) : Number(copy === 0));
    }
    for (let i = 0; i < nMissing; i++) {
      x.push(NaN);
      y.push(Number(i % 5 !== 0));
    }
    return { x, y };
  }

  it("learns to send NaN left when missing rows look like the low side", () => {
    const { x, y } = lowRiskData(100);
    const stump = growPure(table(spec, [x]), y, { ...PURE, maxLeaves: 2 });
    expect(stump.nLeaves).toBe(2);
    expect(stump.threshold[0]).toBe(29.5);
    expect(stump.missingLeft[0]).toBe(1);
    expect(stump.hasMissingLeft).toBe(true);
    const leftLeaf = stump.leafValue[~stump.left[0]];
    // Left: 300 low rows and 100 missing ones, 80% bad.
    expect(leftLeaf).toBeCloseTo(0.8, 9);
    expect(value(stump, [NaN])).toBe(leftLeaf);
    expect(value(stump, [10])).toBe(leftLeaf);
    expect(value(stump, [80])).toBe(stump.leafValue[~stump.right[0]]);
    // Ranking the rows with NaN: the learned side beats sending them right.
    const scores = (t: Tree) => x.map((v) => value(t, [v]));
    const right = withMissingSides(stump, new Uint8Array(1));
    expect(rocAuc(y, scores(stump))).toBeGreaterThan(rocAuc(y, scores(right)) + 0.05);
  });

  it("keeps NaN right where the node has no missing rows or they look like the high side", () => {
    const complete = lowRiskData(0);
    const t = growPure(table(spec, [complete.x]), complete.y, { ...PURE, maxLeaves: 2 });
    expect(t.missingLeft[0]).toBe(0);
    expect(t.hasMissingLeft).toBe(false);
    expect("missingLeft" in treeToJSON(t)).toBe(false);
    expect(value(t, [NaN])).toBe(t.leafValue[~t.right[0]]);
    // Missing rows 10% bad, like x ≥ 30.
    const x = [...complete.x, ...new Array(100).fill(NaN)];
    const y = [...complete.y, ...Array.from({ length: 100 }, (_, i) => Number(i % 10 === 0))];
    const high = growPure(table(spec, [x]), y, { ...PURE, maxLeaves: 2 });
    expect(high.threshold[0]).toBe(29.5);
    expect(high.missingLeft[0]).toBe(0);
  });

  it("partitions training rows exactly as the raw values route them, dense and sparse", () => {
    const rng = new Rng(17);
    const n = 600;
    const cols = Array.from({ length: 3 }, () =>
      Array.from({ length: n }, () => (rng.next() < 0.2 ? NaN : rng.next() * 10)),
    );
    // Missing values of x0 are risky, of x1 safe; x2 is noise.
    const y = cols[0].map((v, i) => {
      const a = Number.isNaN(v) ? 0.9 : v / 10;
      const b = Number.isNaN(cols[1][i]) ? 0.1 : cols[1][i] / 10;
      return Number(a + b + 0.3 * rng.normal() > 1);
    });
    const features: FeatureSpec[] = cols.map((_, j) => ({ name: `x${j}`, kind: "numeric" }));
    const t = table(features, cols);
    // All features at every node (histogram subtraction), and 2 of 3 per node, which builds
    // small nodes' histograms sparsely (x has ~480 distinct values: 255 bins).
    for (const params of [PURE, { ...PURE, featuresPerNode: 2 }, { ...PURE, maxLeaves: 20 }]) {
      const mapper = BinMapper.fit(t);
      const learner = new TreeLearner(mapper, mapper.transform(t), params);
      const grad = Float64Array.from(y, (v) => -v);
      const hess = new Float64Array(n).fill(1);
      const rows = Int32Array.from({ length: n }, (_, i) => i);
      const tree = learner.fit(grad, hess, rows, n, new Rng(3));
      expect(tree.hasMissingLeft).toBe(true);
      const scores = new Float64Array(n);
      learner.addLeafValues(tree, scores);
      for (let i = 0; i < n; i++) {
        const r = [cols[0][i], cols[1][i], cols[2][i]];
        expect(scores[i], `row ${i}`).toBe(value(tree, r));
        expect(tree.leafOfColumns(t.columns, i)).toBe(tree.leafOfRow(r));
      }
    }
  });

  it("scores rows it was not grown on by their bins exactly as the raw values route them", () => {
    const rng = new Rng(23);
    const n = 800;
    // x0 numeric with missing values (as safe as low x0), c a category 0..5 (2 and 4 risky, 5 never seen
    // in the training rows), x2 noise.
    const x0 = Array.from({ length: n }, () => (rng.next() < 0.2 ? NaN : rng.next() * 10));
    const c = Array.from({ length: n }, (_, i) => (i < 600 ? rng.int(5) : rng.int(6)));
    const x2 = Array.from({ length: n }, () => rng.next());
    const y = x0.map((v, i) => {
      const a = Number.isNaN(v) ? 0.1 : v / 10;
      return Number(a + (c[i] === 2 || c[i] === 4 ? 0.5 : 0) + 0.3 * rng.normal() > 1);
    });
    const features: FeatureSpec[] = [
      { name: "x0", kind: "numeric" },
      { name: "c", kind: "categorical", nCategories: 6 },
      { name: "x2", kind: "numeric" },
    ];
    const t = table(features, [x0, c, x2]);
    const train = Int32Array.from({ length: 600 }, (_, i) => i);
    const other = Int32Array.from({ length: n - 600 }, (_, i) => 600 + i);
    const mapper = BinMapper.fit(t, train);
    const learner = new TreeLearner(mapper, mapper.transform(t), { ...PURE, maxLeaves: 12 });
    const grad = Float64Array.from(y, (v) => -v);
    const hess = new Float64Array(n).fill(1);
    const tree = learner.fit(grad, hess, train, train.length, new Rng(5));
    expect(tree.hasMissingLeft).toBe(true);
    expect(Array.from(tree.categorical)).toContain(1);
    const scores = new Float64Array(n).fill(0.25);
    learner.addLeafValuesOf(tree, other, 0, other.length, scores);
    for (let i = 0; i < n; i++) {
      const want = i < 600 ? 0.25 : 0.25 + tree.leafValue[tree.leafOfColumns(t.columns, i)];
      expect(scores[i], `row ${i}`).toBe(want);
    }
  });

  it("round-trips missing sides through JSON; JSON without them reads as all right", () => {
    const { x, y } = lowRiskData(100);
    const z = x.map((v, i) => (i % 7 === 0 ? NaN : (v * 37) % 11));
    const c = x.map((_, i) => i % 3);
    const features: FeatureSpec[] = [
      { name: "x", kind: "numeric" },
      { name: "z", kind: "numeric" },
      { name: "c", kind: "categorical", nCategories: 3 },
    ];
    const tree = growPure(table(features, [x, z, c]), y, { ...PURE, maxLeaves: 10 });
    expect(tree.hasMissingLeft).toBe(true);
    const text = JSON.stringify(treeToJSON(tree));
    const json = JSON.parse(text) as TreeJSON;
    expect(json.missingLeft).toEqual(Array.from(tree.missingLeft));
    const back = treeFromJSON(json, features, "tree");
    expect(JSON.stringify(treeToJSON(back))).toBe(text);
    const rows = [
      [NaN, NaN, NaN],
      [NaN, 3, 1],
      [10, NaN, 2],
      [80, NaN, 0],
      [NaN, 5, 7],
    ];
    for (const r of rows) expect(value(back, r)).toBe(value(tree, r));
    // The older form, without the field: every node sends NaN right.
    const old = { ...json } as Record<string, unknown>;
    delete old.missingLeft;
    const right = treeFromJSON(old, features, "tree");
    expect(Array.from(right.missingLeft)).toEqual(new Array(tree.nInternal).fill(0));
    expect(JSON.stringify(treeToJSON(right))).toBe(JSON.stringify(old));
    const allRight = withMissingSides(tree, new Uint8Array(tree.nInternal));
    for (const r of rows) expect(value(right, r)).toBe(value(allRight, r));
    expect(value(right, [NaN, 1, 0])).not.toBe(value(tree, [NaN, 1, 0]));
  });

  it("refuses bad missing sides with a clear error", () => {
    const features: FeatureSpec[] = [
      { name: "x", kind: "numeric" },
      { name: "c", kind: "categorical", nCategories: 3 },
    ];
    const x = [1, 2, 3, 4, NaN, NaN, 1, 2, 3, 4, NaN, NaN];
    const c = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    const y = [1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1];
    const good = treeToJSON(growPure(table(features, [x, c]), y));
    const catNode = good.feature.indexOf(1);
    expect(catNode).toBeGreaterThanOrEqual(0);
    const ones = (): number[] => new Array(good.feature.length).fill(0);
    const bad: [string, unknown, RegExp][] = [
      ["not an array", 1, /missingLeft: expected an array/],
      ["wrong length", [0], /missingLeft: expected \d+ entries/],
      ["not 0 or 1", ones().map((_, k) => (k === 0 ? 2 : 0)), /missingLeft\[0\]/],
      [
        "on a categorical split",
        ones().map((_, k) => (k === catNode ? 1 : 0)),
        /categorical split sends missing values right/,
      ],
    ];
    for (const [what, field, message] of bad) {
      const j = { ...good, missingLeft: field };
      let err: unknown;
      try {
        treeFromJSON(j, features, "tree");
      } catch (e) {
        err = e;
      }
      expect(err, what).toBeInstanceOf(AppError);
      expect((err as AppError).code, what).toBe("MODEL_FILE_INVALID");
      expect((err as AppError).message, what).toMatch(message);
    }
  });
});

describe("number rounding", () => {
  it("keeps stored numbers short and exact through JSON", () => {
    expect(roundSig(0.000123456789, 6)).toBe(0.000123457);
    expect(roundSig(123456.789, 6)).toBe(123457);
    expect(roundSig(-3.14159265, 6)).toBe(-3.14159);
    expect(roundSig(42, 6)).toBe(42);
    expect(quantiseLeaf(0.1234567891234)).toBe(0.123456789);
    expect(JSON.stringify(quantiseLeaf(-0.0123456789999))).toBe("-0.012345679");
  });
});
