import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset } from "../../data/index.js";
import { type ForestModel, forest } from "../ensembles/forest.js";
import { type GbdtModel, gbdt } from "../ensembles/gbdt.js";
import { Tree } from "../trees/index.js";
import { withMissingSides } from "../trees/missing-test-support.js";
import type { LabeledTable } from "../types.js";
import { gaussLegendre } from "./quadrature.js";
import { bruteForceShapley, randomRow, randomTree } from "./shapley-test-support.js";
import { TreeShap, type TreeShapOptions } from "./tree-shap.js";

let german: LabeledTable;

beforeAll(async () => {
  german = (await readDataset(DEFAULT_DATA_PATH)).table;
});

/** The first `k` columns (the data's order mixes categorical and numeric ones). */
function firstColumns(table: LabeledTable, k: number): LabeledTable {
  return { ...table, features: table.features.slice(0, k), columns: table.columns.slice(0, k) };
}

function row(table: LabeledTable, i: number): Float64Array {
  return Float64Array.from(table.columns, (c) => c[i]);
}

/**
 * Both ways of explaining a tree: by table lookup where the tree is small enough, and by the
 * down and up passes everywhere; they must agree with each other and with the brute force.
 */
const WAYS: readonly TreeShapOptions[] = [{}, { tableMaxSplits: 0 }];

function shapOf(
  trees: readonly Tree[],
  x: ArrayLike<number>,
  nFeatures: number,
  options: TreeShapOptions,
) {
  const shap = new TreeShap(trees, nFeatures, options);
  const phi = new Float64Array(nFeatures);
  const sum = shap.shap(x, phi);
  return { shap, phi, sum };
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const scale = Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= tol * scale)) {
      expect.fail(`entry ${i}: ${actual[i]} differs from ${expected[i]} by more than ${tol}`);
    }
  }
}

/**
 * For one row, the same game without missing values: a numeric NaN becomes 0 and each split on
 * that feature a threshold that 0 passes or fails as NaN went. Covers do not change, so the
 * Shapley values do not either; the reference implementations (which send NaN right) then apply.
 */
function spelledOut(
  trees: readonly Tree[],
  x: ArrayLike<number>,
  numeric: readonly boolean[],
): { trees: Tree[]; row: Float64Array } {
  const row = Float64Array.from(x, (v, f) => (numeric[f] && Number.isNaN(v) ? 0 : v));
  const out = trees.map((t) => {
    const threshold = t.threshold.slice();
    for (let k = 0; k < t.nInternal; k++) {
      const f = t.feature[k];
      if (numeric[f] && Number.isNaN(x[f])) threshold[k] = t.missingLeft[k] ? 1 : -1;
    }
    return withMissingSides(t, new Uint8Array(t.nInternal), threshold);
  });
  return { trees: out, row };
}

describe("gaussLegendre", () => {
  it("integrates t^k exactly on [0, 1] up to degree 2n − 1, weights summing to 1", () => {
    for (let n = 1; n <= 12; n++) {
      const { t, u, w } = gaussLegendre(n);
      for (let j = 0; j < n; j++) expect(t[j] + u[j]).toBeCloseTo(1, 15);
      for (let k = 0; k <= 2 * n - 1; k++) {
        let s = 0;
        for (let j = 0; j < n; j++) s += w[j] * t[j] ** k;
        expect(Math.abs(s - 1 / (k + 1))).toBeLessThan(1e-14);
      }
    }
  });
});

describe("TreeShap against brute-force Shapley values (all subsets, same expectation)", () => {
  it("random trees: repeated features on a path, categorical sets, zero covers, NaN", () => {
    const rng = new Rng(11);
    let checked = 0;
    for (let trial = 0; trial < 300; trial++) {
      const nFeatures = 1 + rng.int(6);
      const categories = Array.from({ length: nFeatures }, () =>
        rng.next() < 0.4 ? 2 + rng.int(5) : 0,
      );
      const tree = randomTree(rng, {
        nFeatures,
        categories,
        maxDepth: 1 + rng.int(8),
        splitProbability: 0.7,
      });
      for (let r = 0; r < 4; r++) {
        const x = randomRow(rng, categories);
        const brute = bruteForceShapley([tree], x, nFeatures);
        for (const way of WAYS) {
          const { shap, phi, sum } = shapOf([tree], x, nFeatures, way);
          expectClose(phi, brute.phi);
          expect(shap.expectedSum).toBeCloseTo(brute.empty, 12);
          // The reached leaf's value is v(all features known).
          expect(sum).toBe(brute.full);
          checked++;
        }
      }
    }
    expect(checked).toBe(2400);
  });

  it("a sum of random trees is explained by the sum of their values", () => {
    const rng = new Rng(12);
    const categories = [0, 3, 0, 4, 0];
    const trees = Array.from({ length: 7 }, () =>
      randomTree(rng, { nFeatures: 5, categories, maxDepth: 6, splitProbability: 0.8 }),
    );
    for (let r = 0; r < 40; r++) {
      const x = randomRow(rng, categories);
      const brute = bruteForceShapley(trees, x, 5);
      for (const way of WAYS) {
        const { shap, phi, sum } = shapOf(trees, x, 5, way);
        expectClose(phi, brute.phi);
        expect(shap.expectedSum).toBeCloseTo(brute.empty, 12);
        expect(sum).toBeCloseTo(brute.full, 12);
      }
    }
  });

  it("random trees with NaN sent left at some numeric splits", () => {
    const rng = new Rng(29);
    let nanRows = 0;
    for (let trial = 0; trial < 200; trial++) {
      const nFeatures = 1 + rng.int(6);
      const categories = Array.from({ length: nFeatures }, () =>
        rng.next() < 0.3 ? 2 + rng.int(5) : 0,
      );
      const numeric = categories.map((c) => c === 0);
      const trees = Array.from({ length: 1 + rng.int(3) }, () => {
        const t = randomTree(rng, {
          nFeatures,
          categories,
          maxDepth: 1 + rng.int(7),
          splitProbability: 0.7,
        });
        const sides = Uint8Array.from(t.categorical, (c) => Number(c === 0 && rng.next() < 0.5));
        return withMissingSides(t, sides);
      });
      for (let r = 0; r < 4; r++) {
        // Missing values far more often than in randomRow.
        const x = randomRow(rng, categories).map((v) => (rng.next() < 0.3 ? NaN : v));
        if (x.some((v, f) => numeric[f] && Number.isNaN(v))) nanRows++;
        const plain = spelledOut(trees, x, numeric);
        const brute = bruteForceShapley(plain.trees, plain.row, nFeatures);
        let reached = 0;
        for (const t of trees) reached += t.leafValue[t.leafOfRow(x)];
        for (const way of WAYS) {
          const { shap, phi, sum } = shapOf(trees, x, nFeatures, way);
          expectClose(phi, brute.phi);
          expect(shap.expectedSum).toBeCloseTo(brute.empty, 12);
          expect(sum).toBe(reached);
          expect(sum).toBeCloseTo(brute.full, 12);
          let total = shap.expectedSum;
          for (const v of phi) total += v;
          expect(total).toBeCloseTo(sum, 9);
        }
      }
    }
    expect(nanRows).toBeGreaterThan(300);
  });

  it("a single-leaf tree: nothing to attribute, base = its value", () => {
    const leaf = new Tree(
      1,
      new Int32Array(0),
      new Float64Array(0),
      new Uint8Array(0),
      new Int32Array(0),
      new Int32Array(0),
      new Float64Array(0),
      new Float64Array(0),
      Float64Array.of(0.25),
      Float64Array.of(10),
      Int32Array.of(0),
      new Int32Array(0),
    );
    for (const way of WAYS) {
      const { shap, phi, sum } = shapOf([leaf], [1, 2], 2, way);
      expect(Array.from(phi)).toEqual([0, 0]);
      expect(shap.expectedSum).toBe(0.25);
      expect(sum).toBe(0.25);
    }
  });

  it("gbdt fitted on 6 credit columns (deep trees, categorical splits)", () => {
    const data = firstColumns(german, 6);
    const model = gbdt.fit(
      data,
      { nRounds: 12, maxDepth: 5, maxLeaves: 16, minSamplesLeaf: 5, colSubsample: 1 },
      new Rng(1),
    ) as GbdtModel;
    expect(model.trees.some((t) => t.categorical.some((c) => c === 1))).toBe(true);
    for (let i = 0; i < 25; i++) {
      const x = row(data, i * 37);
      const brute = bruteForceShapley(model.trees, x, 6);
      for (const way of WAYS) {
        const { phi, sum } = shapOf(model.trees, x, 6, way);
        expectClose(phi, brute.phi);
        expect(sum + model.baseScore).toBe(model.predictRawRow(x));
      }
    }
  });

  it("forest fitted on 6 credit columns (fully grown trees)", () => {
    const data = firstColumns(german, 6);
    const model = forest.fit(data, { nTrees: 4, maxFeatures: 0.5 }, new Rng(2)) as ForestModel;
    for (let i = 0; i < 10; i++) {
      const x = row(data, i * 91);
      const { shap, phi, sum } = shapOf(model.trees, x, 6, {});
      expect(shap.tabledTrees).toBe(0);
      const brute = bruteForceShapley(model.trees, x, 6);
      expectClose(phi, brute.phi);
      expect(sum / 4).toBe(
        model.predictProba({
          ...data,
          columns: data.columns.map((c) => c.subarray(i * 91, i * 91 + 1)),
          n: 1,
        })[0],
      );
    }
  });

  it("gbdt and forest fitted on credit columns with missing values: NaN follows the learned side", () => {
    const rng = new Rng(8);
    const base = firstColumns(german, 8);
    const numeric = base.features.map((f) => f.kind === "numeric");
    expect(numeric.filter(Boolean).length).toBeGreaterThanOrEqual(2);
    // Missing values that carry risk: more often missing for bad applicants.
    const columns = base.columns.map((c, f) =>
      numeric[f] ? c.map((v, i) => (rng.next() < (base.y[i] ? 0.35 : 0.1) ? NaN : v)) : c,
    );
    const data: LabeledTable = { ...base, columns };
    const boosted = gbdt.fit(
      data,
      { nRounds: 20, maxDepth: 4, maxLeaves: 12, minSamplesLeaf: 5 },
      new Rng(1),
    ) as GbdtModel;
    const bagged = forest.fit(data, { nTrees: 3, maxFeatures: 0.5 }, new Rng(2)) as ForestModel;
    for (const model of [boosted, bagged]) {
      expect(model.trees.some((t) => t.hasMissingLeft)).toBe(true);
    }
    let checked = 0;
    for (let i = 0; i < data.n && checked < 12; i += 7) {
      const x = row(data, i);
      if (!x.some((v, f) => numeric[f] && Number.isNaN(v))) continue;
      checked++;
      for (const way of WAYS) {
        const { shap, phi, sum } = shapOf(boosted.trees, x, 8, way);
        expect(sum + boosted.baseScore).toBe(boosted.predictRawRow(x));
        // Additivity: base value + Σ contributions = raw score.
        let total = boosted.baseScore + shap.expectedSum;
        for (const v of phi) total += v;
        expect(total).toBeCloseTo(boosted.predictRawRow(x), 9);
        const plain = spelledOut(boosted.trees, x, numeric);
        expectClose(phi, bruteForceShapley(plain.trees, plain.row, 8).phi);
      }
      const { shap, phi, sum } = shapOf(bagged.trees, x, 8, {});
      const one = { ...data, columns: data.columns.map((c) => c.subarray(i, i + 1)), n: 1 };
      expect(sum / 3).toBe(bagged.predictProba(one)[0]);
      let total = shap.expectedSum;
      for (const v of phi) total += v;
      expect(total).toBeCloseTo(sum, 9);
      const plain = spelledOut(bagged.trees, x, numeric);
      expectClose(phi, bruteForceShapley(plain.trees, plain.row, 8).phi);
    }
    expect(checked).toBe(12);
  });

  it("default gbdt on all 20 features: each tree against brute force over its own features", () => {
    const model = gbdt.fit(german, {}, new Rng(3)) as GbdtModel;
    expect(new TreeShap(model.trees, 20).tabledTrees).toBe(model.nTrees);
    const x = row(german, 5);
    for (const tree of model.trees.slice(0, 40)) {
      // Features a tree never tests are null players (Shapley value 0), so enumerating the
      // tree's own features gives the values of the 20-feature game.
      const players = [...new Set(tree.feature)];
      const brute = bruteForceShapley([tree], x, 20, players);
      for (const way of WAYS) expectClose(shapOf([tree], x, 20, way).phi, brute.phi);
    }
  });
});
