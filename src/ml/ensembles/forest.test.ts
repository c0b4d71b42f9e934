import { describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset } from "../../data/index.js";
import { rocAuc } from "../metrics/auc.js";
import { type LabeledTable, takeRows } from "../types.js";
import { stratifiedKFold } from "../validation/folds.js";
import { missingLikeLow, withMissingValues } from "../trees/missing-test-support.js";
import { treeToJSON } from "../trees/serialize.js";
import { ForestModel, featuresPerNode, forest } from "./forest.js";

const german = (await readDataset(DEFAULT_DATA_PATH)).table;
const fold = stratifiedKFold(german.y, 5, new Rng(42))[0];
const train = takeRows(german, fold.train);
const test = takeRows(german, fold.test);

const fit = (params = {}, seed = 0, data: LabeledTable = train): ForestModel =>
  forest.fit(data, params, new Rng(seed)) as ForestModel;

const row = (t: LabeledTable, i: number): number[] => t.columns.map((c) => c[i]);

describe("forest", () => {
  const model = fit({ nTrees: 150 });

  it("ranks held-out German credit applicants well", () => {
    expect(model.nTrees).toBe(150);
    expect(rocAuc(test.y, model.predictProba(test))).toBeGreaterThan(0.75);
  });

  it("averages leaf class fractions into probabilities", () => {
    const p = model.predictProba(test);
    for (const v of p) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    // Deep trees on the bootstrap nearly memorise the training rows.
    const pt = model.predictProba(train);
    let gap = 0;
    for (let i = 0; i < train.n; i++) gap += Math.abs(pt[i] - train.y[i]) / train.n;
    expect(gap).toBeLessThan(0.25);
    // Without bootstrap a stump's leaves are the bad rates of the rows reaching them.
    const stump = fit({ nTrees: 1, bootstrap: false, maxDepth: 1, maxFeatures: 1 }).trees[0];
    expect(stump.nLeaves).toBe(2);
    const bad = [0, 0];
    const all = [0, 0];
    for (let i = 0; i < train.n; i++) {
      const l = stump.leafOfColumns(train.columns, i);
      bad[l] += train.y[i];
      all[l]++;
    }
    for (const l of [0, 1]) expect(stump.leafValue[l]).toBeCloseTo(bad[l] / all[l], 9);
    expect(stump.feature[0]).toBe(german.features.findIndex((f) => f.name === "checking_status"));
  });

  it("gives out-of-bag probabilities for almost every training row, and they are honest", () => {
    const oob = model.oobProba as Float64Array;
    expect(oob.length).toBe(train.n);
    const defined = oob.filter((v) => !Number.isNaN(v)).length;
    expect(defined / train.n).toBeGreaterThan(0.99);
    const auc = rocAuc(
      train.y,
      oob.map((v) => (Number.isNaN(v) ? 0.3 : v)),
    );
    // Out-of-bag scores track held-out quality, far from the in-sample (memorised) AUC.
    expect(auc).toBeGreaterThan(0.72);
    expect(auc).toBeLessThan(0.86);
    expect(rocAuc(train.y, model.predictProba(train))).toBeGreaterThan(0.99);
    expect(fit({ nTrees: 5, bootstrap: false }).oobProba).toBeUndefined();
  });

  it("computes out-of-bag probabilities on first read, unaffected by later changes to the data", () => {
    const copy = takeRows(
      train,
      Int32Array.from({ length: train.n }, (_, i) => i),
    );
    const lazy = fit({ nTrees: 30 }, 9, copy);
    for (const c of copy.columns) c.fill(0);
    const oob = lazy.oobProba as Float64Array;
    expect(Array.from(oob)).toEqual(Array.from(fit({ nTrees: 30 }, 9).oobProba as Float64Array));
    expect(lazy.oobProba).toBe(oob);
  });

  it("weights bad rows in the split search, and keeps plain class fractions in the leaves", () => {
    expect(JSON.stringify(fit({ nTrees: 20, classWeight: 1 }, 3).toJSON())).toBe(
      JSON.stringify(fit({ nTrees: 20 }, 3).toJSON()),
    );
    // Splits maximise the weighted Gini decrease, so a weight on bad rows changes the cuts.
    const grow = (classWeight: number) =>
      fit({ nTrees: 1, bootstrap: false, maxDepth: 3, maxFeatures: 1, classWeight }).trees[0];
    const tree = grow(5);
    const plainTree = grow(1);
    expect(JSON.stringify(treeToJSON(tree))).not.toBe(JSON.stringify(treeToJSON(plainTree)));
    // The leaf values are the plain bad rates of the rows reaching them.
    const bad = new Array<number>(tree.nLeaves).fill(0);
    const all = new Array<number>(tree.nLeaves).fill(0);
    for (let i = 0; i < train.n; i++) {
      const l = tree.leafOfColumns(train.columns, i);
      bad[l] += train.y[i];
      all[l]++;
    }
    for (let l = 0; l < tree.nLeaves; l++) {
      expect(tree.leafValue[l]).toBeCloseTo(bad[l] / all[l], 8);
    }
    const weighted = fit({ nTrees: 30, classWeight: 3 }, 2);
    const oob = weighted.oobProba as Float64Array;
    expect(rocAuc(train.y, oob)).toBeGreaterThan(0.7);
    // Averages of class fractions: the mean stays near the training bad rate.
    const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(oob) - mean(train.y.map(Number) as unknown as Float64Array))).toBeLessThan(
      0.05,
    );
    const raw = weighted.predictRaw(test);
    for (let i = 0; i < 20; i++) expect(weighted.predictRawRow(row(test, i))).toBe(raw[i]);
    expect(() => fit({ classWeight: -1 })).toThrow(/classWeight/);
  });

  it("clips out-of-bag probabilities half a vote of the scoring trees away from 0 and 1", () => {
    const small = fit({ nTrees: 8 }, 1);
    const oob = small.oobProba as Float64Array;
    // With a few trees many rows get a unanimous out-of-bag vote of k ≤ 8 trees: 0.5 / (k + 1).
    const clips = new Set(Array.from({ length: 8 }, (_, k) => 0.5 / (k + 2)));
    let clipped = 0;
    for (const v of oob) {
      if (Number.isNaN(v)) continue;
      expect(v).toBeGreaterThanOrEqual(0.5 / 9);
      expect(v).toBeLessThanOrEqual(1 - 0.5 / 9);
      if (clips.has(v) || clips.has(1 - v)) clipped++;
    }
    expect(clipped).toBeGreaterThan(10);
  });

  it("is deterministic for a seed and differs between seeds", () => {
    const a = JSON.stringify(fit({ nTrees: 20 }, 3).toJSON());
    expect(JSON.stringify(fit({ nTrees: 20 }, 3).toJSON())).toBe(a);
    expect(JSON.stringify(fit({ nTrees: 20 }, 4).toJSON())).not.toBe(a);
  });

  it("reads its JSON back to identical predictions and identical JSON", () => {
    const text = JSON.stringify(model.toJSON());
    const back = forest.fromJSON(JSON.parse(text), german.features);
    expect(JSON.stringify(back.toJSON())).toBe(text);
    expect(Array.from(back.predictProba(test))).toEqual(Array.from(model.predictProba(test)));
    expect(Array.from(back.predictRaw(test))).toEqual(Array.from(model.predictRaw(test)));
    expect(Array.from(back.featureImportance())).toEqual(Array.from(model.featureImportance()));
  });

  it("scores a single row exactly like the batch path, raw = clipped log-odds", () => {
    const raw = model.predictRaw(test);
    const p = model.predictProba(test);
    const clip = 0.5 / 151;
    for (let i = 0; i < test.n; i++) {
      expect(model.predictRawRow(row(test, i))).toBe(raw[i]);
      const q = Math.min(Math.max(p[i], clip), 1 - clip);
      expect(raw[i]).toBeCloseTo(Math.log(q / (1 - q)), 12);
    }
  });

  it("normalises gain importance", () => {
    const imp = model.featureImportance();
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const top = imp.indexOf(Math.max(...imp));
    expect(["checking_status", "credit_amount", "duration", "age"]).toContain(
      german.features[top].name,
    );
  });

  it("turns maxFeatures into a per-node feature count", () => {
    expect(featuresPerNode("sqrt", 20)).toBe(4);
    expect(featuresPerNode("log2", 20)).toBe(4);
    expect(featuresPerNode(0.5, 20)).toBe(10);
    expect(featuresPerNode(0.01, 20)).toBe(1);
    expect(() => featuresPerNode("all", 20)).toThrow(/maxFeatures/);
    expect(() => featuresPerNode(1.5, 20)).toThrow(/maxFeatures/);
  });

  it("refuses bad parameters, single-class data and corrupt JSON", () => {
    expect(() => fit({ nTrees: 0 })).toThrow(/nTrees/);
    expect(() => fit({ minSamplesLeaf: 0 })).toThrow(/minSamplesLeaf/);
    expect(() => fit({}, 0, { ...train, y: new Uint8Array(train.n).fill(1) })).toThrow(AppError);
    const good = JSON.stringify(fit({ nTrees: 3 }).toJSON());
    const cases: [(j: Record<string, unknown>) => void, RegExp][] = [
      [(j) => (j.algorithm = "gbdt"), /expected a forest model/],
      [(j) => (j.trees = [1, 2, 3]), /trees\[0\]: expected an object/],
      [(j) => ((j.trees as Record<string, unknown>[])[2].threshold = []), /trees\[2\]\.threshold/],
      [(j) => ((j.params as Record<string, unknown>).maxFeatures = true), /maxFeatures/],
    ];
    for (const [mutate, message] of cases) {
      const j = JSON.parse(good) as Record<string, unknown>;
      mutate(j);
      expect(() => forest.fromJSON(j, german.features)).toThrow(message);
    }
    expect(() => forest.fromJSON(JSON.parse(good), german.features.slice(1))).toThrow(/features/);
  });
});

describe("forest with missing values", () => {
  it("scores missing values like the side they resemble", () => {
    const data = missingLikeLow();
    const stumps = fit({ nTrees: 5, bootstrap: false, maxDepth: 1, maxFeatures: 1 }, 0, data);
    for (const t of stumps.trees) {
      expect(t.threshold[0]).toBe(29.5);
      expect(t.missingLeft[0]).toBe(1);
    }
    const p = (v: number): number => stumps.predictRawRow([v]);
    expect(p(NaN)).toBe(p(10));
    expect(p(NaN)).not.toBe(p(80));
    const bagged = fit({ nTrees: 40, maxFeatures: 1 }, 1, data);
    const proba = (v: number): number =>
      bagged.predictProba({ ...data, columns: [Float64Array.of(v)], n: 1 })[0];
    expect(Math.abs(proba(NaN) - proba(10))).toBeLessThan(0.05);
    expect(proba(NaN) - proba(80)).toBeGreaterThan(0.5);
  });

  it("fits German credit with missing values: JSON, single rows, batch and out-of-bag agree", () => {
    const data = withMissingValues(train, new Rng(3));
    const m = fit({ nTrees: 40 }, 5, data);
    expect(m.trees.some((t) => t.hasMissingLeft)).toBe(true);
    const raw = m.predictRaw(data);
    const proba = m.predictProba(data);
    for (let i = 0; i < data.n; i++) {
      const r = row(data, i);
      expect(m.predictRawRow(r)).toBe(raw[i]);
      let s = 0;
      for (const t of m.trees) s += t.leafValue[t.leafOfRow(r)];
      expect(proba[i]).toBeCloseTo(s / 40, 12);
    }
    const oob = m.oobProba as Float64Array;
    expect(
      rocAuc(
        data.y,
        Array.from(oob, (v) => (Number.isNaN(v) ? 0.3 : v)),
      ),
    ).toBeGreaterThan(0.7);
    const text = JSON.stringify(m.toJSON());
    expect(text).toContain('"missingLeft"');
    const back = forest.fromJSON(JSON.parse(text), german.features);
    expect(JSON.stringify(back.toJSON())).toBe(text);
    expect(Array.from(back.predictRaw(data))).toEqual(Array.from(raw));
    expect(JSON.stringify(fit({ nTrees: 20 }, 3).toJSON())).not.toContain("missingLeft");
  });
});
