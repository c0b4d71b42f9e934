import { describe, expect, it } from "vitest";
import { AppError } from "../../core/errors.js";
import { Rng } from "../../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset } from "../../data/index.js";
import { rocAuc } from "../metrics/auc.js";
import { type LabeledTable, takeRows } from "../types.js";
import { stratifiedKFold } from "../validation/folds.js";
import {
  missingLikeLow,
  withMissingSides,
  withMissingValues,
} from "../trees/missing-test-support.js";
import { GbdtModel, gbdt } from "./gbdt.js";

const german = (await readDataset(DEFAULT_DATA_PATH)).table;
const fold = stratifiedKFold(german.y, 5, new Rng(42))[0];
const train = takeRows(german, fold.train);
const test = takeRows(german, fold.test);

const fit = (params = {}, seed = 0, data: LabeledTable = train): GbdtModel =>
  gbdt.fit(data, params, new Rng(seed)) as GbdtModel;

function logLoss(y: Uint8Array, p: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s -= Math.log(y[i] ? p[i] : 1 - p[i]);
  return s / y.length;
}

const row = (t: LabeledTable, i: number): number[] => t.columns.map((c) => c[i]);

describe("gbdt", () => {
  const model = fit();

  it("ranks held-out German credit applicants well", () => {
    const auc = rocAuc(test.y, model.predictProba(test));
    expect(auc).toBeGreaterThan(0.75);
    expect(model.nTrees).toBe(gbdt.defaults.nRounds);
  });

  it("starts from the training prior and lowers the training loss round after round", () => {
    const prior = train.y.reduce((a, b) => a + b, 0) / train.n;
    expect(model.baseScore).toBeCloseTo(Math.log(prior / (1 - prior)), 12);
    const losses = [1, 10, 50, 200].map((nRounds) =>
      logLoss(train.y, fit({ nRounds }).predictProba(train)),
    );
    for (let i = 1; i < losses.length; i++) expect(losses[i]).toBeLessThan(losses[i - 1]);
    const priorLoss = -(prior * Math.log(prior) + (1 - prior) * Math.log(1 - prior));
    expect(losses[0]).toBeLessThan(priorLoss);
    expect(losses[3]).toBeLessThan(0.85 * priorLoss);
  });

  it("is deterministic for a seed and uses the seed for subsampling", () => {
    const a = JSON.stringify(fit({ nRounds: 40 }, 3).toJSON());
    expect(JSON.stringify(fit({ nRounds: 40 }, 3).toJSON())).toBe(a);
    expect(JSON.stringify(fit({ nRounds: 40 }, 4).toJSON())).not.toBe(a);
    const full = { nRounds: 40, rowSubsample: 1, colSubsample: 1 };
    expect(JSON.stringify(fit(full, 3).toJSON())).toBe(JSON.stringify(fit(full, 4).toJSON()));
  });

  it("reads its JSON back to identical predictions and identical JSON", () => {
    const text = JSON.stringify(model.toJSON());
    const back = gbdt.fromJSON(JSON.parse(text), german.features);
    expect(JSON.stringify(back.toJSON())).toBe(text);
    expect(Array.from(back.predictRaw(test))).toEqual(Array.from(model.predictRaw(test)));
    expect(Array.from(back.featureImportance())).toEqual(Array.from(model.featureImportance()));
  });

  it("scores a single row exactly like the batch path", () => {
    const raw = model.predictRaw(test);
    const proba = model.predictProba(test);
    for (let i = 0; i < test.n; i++) {
      expect(model.predictRawRow(row(test, i))).toBe(raw[i]);
      expect(proba[i]).toBeCloseTo(1 / (1 + Math.exp(-raw[i])), 14);
    }
  });

  it("sends unknown categories and missing values right", () => {
    const at = (i: number, f: number, x: number): number => {
      const r = row(test, i);
      r[f] = x;
      return model.predictRawRow(r);
    };
    const checking = german.features.findIndex((f) => f.name === "checking_status");
    const duration = german.features.findIndex((f) => f.name === "duration");
    for (let i = 0; i < 20; i++) {
      // Unknown codes behave alike: on the right of every categorical split.
      const unknown = at(i, checking, 17);
      expect(Number.isFinite(unknown)).toBe(true);
      expect(at(i, checking, NaN)).toBe(unknown);
      expect(at(i, checking, -1)).toBe(unknown);
      expect(at(i, checking, 1.5)).toBe(unknown);
      // NaN fails every "x ≤ threshold" test, like a value above all thresholds.
      expect(at(i, duration, NaN)).toBe(at(i, duration, 1e9));
    }
  });

  it("normalises gain importance, with checking status among the top features", () => {
    const imp = model.featureImportance();
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    const order = Array.from(imp.keys()).sort((a, b) => imp[b] - imp[a]);
    expect(order.slice(0, 3)).toContain(
      german.features.findIndex((f) => f.name === "checking_status"),
    );
  });

  it("stops early on the held-out loss and can refit on all rows", () => {
    const es = fit({ nRounds: 2000, learningRate: 0.1, earlyStoppingRounds: 20 });
    expect(es.nTrees).toBeGreaterThan(5);
    expect(es.nTrees).toBeLessThan(500);
    const refit = fit({ nRounds: 2000, learningRate: 0.1, earlyStoppingRounds: 20, refit: true });
    expect(refit.nTrees).toBeGreaterThan(5);
    expect(rocAuc(test.y, refit.predictProba(test))).toBeGreaterThan(0.7);
  });

  it("weights bad rows like duplicated rows, and classWeight 1 is the unweighted fit exactly", () => {
    expect(JSON.stringify(fit({ nRounds: 30, classWeight: 1 }, 5).toJSON())).toBe(
      JSON.stringify(fit({ nRounds: 30 }, 5).toJSON()),
    );
    // Without subsampling and with a bin per distinct value, a weight of 2 on the bad rows grows
    // the trees that the bad rows given twice grow; the base score then differs by log 2.
    const exact = {
      nRounds: 30,
      rowSubsample: 1,
      colSubsample: 1,
      minSamplesLeaf: 1,
      minDataPerCategory: 1,
      maxBins: 2000,
    };
    const rows: number[] = [];
    for (let i = 0; i < train.n; i++) for (let k = train.y[i] ? 2 : 1; k > 0; k--) rows.push(i);
    const copies = fit(exact, 1, takeRows(train, Int32Array.from(rows)));
    const weighted = fit({ ...exact, classWeight: 2 }, 1);
    expect(weighted.baseScore).toBeCloseTo(copies.baseScore - Math.log(2), 12);
    const a = weighted.predictRaw(test);
    const b = copies.predictRaw(test);
    for (let i = 0; i < test.n; i++) expect(a[i]).toBeCloseTo(b[i] - Math.log(2), 6);
    expect(() => fit({ classWeight: 0 })).toThrow(/classWeight/);
  });

  it("refuses bad parameters and single-class data", () => {
    expect(() => fit({ learningRate: 0 })).toThrow(/learningRate/);
    expect(() => fit({ nRounds: 2.5 })).toThrow(/nRounds/);
    expect(() => gbdt.fit(train, { maxLeafs: 3 } as never, new Rng(0))).toThrow(
      /unknown parameter "maxLeafs"/,
    );
    const bad = { ...train, y: new Uint8Array(train.n) };
    expect(() => fit({}, 0, bad)).toThrow(AppError);
  });

  it("refuses corrupt JSON with a clear error", () => {
    const good = JSON.stringify(model.toJSON());
    const cases: [(j: Record<string, unknown>) => void, RegExp][] = [
      [(j) => (j.algorithm = "forest"), /expected a gbdt model/],
      [(j) => (j.nFeatures = 3), /trained on 3 features/],
      [(j) => (j.baseScore = "x"), /baseScore/],
      [(j) => (j.trees = {}), /trees: expected an array/],
      [
        (j) => (((j.trees as Record<string, unknown>[])[5].left as number[])[0] = 1e9),
        /trees\[5\]\.left\[0\]/,
      ],
      [(j) => ((j.params as Record<string, unknown>).learningRate = "fast"), /params/],
    ];
    for (const [mutate, message] of cases) {
      const j = JSON.parse(good) as Record<string, unknown>;
      mutate(j);
      expect(() => gbdt.fromJSON(j, german.features)).toThrow(message);
    }
    expect(() => gbdt.fromJSON(null, german.features)).toThrow(AppError);
    expect(() => gbdt.fromJSON({ ...JSON.parse(good), version: 99 }, german.features)).toThrow(
      /version/,
    );
  });
});

describe("gbdt with missing values", () => {
  it("scores missing values like the side they resemble, ranking better than sending them right", () => {
    const data = missingLikeLow();
    // Without row subsampling every subset of the low side and the missing rows is 80% bad.
    const model = fit({ nRounds: 50, rowSubsample: 1 }, 0, data);
    expect(model.trees.every((t) => t.nLeaves === 1 || t.missingLeft[0] === 1)).toBe(true);
    const p = (x: number): number => model.predictRawRow([x]);
    expect(p(NaN)).toBe(p(10));
    expect(p(NaN)).toBeGreaterThan(p(80) + 2);
    const right = new GbdtModel(
      data.features,
      model.baseScore,
      model.trees.map((t) => withMissingSides(t, new Uint8Array(t.nInternal))),
      model.params,
    );
    expect(right.predictRawRow([NaN])).toBe(right.predictRawRow([80]));
    const auc = rocAuc(data.y, model.predictProba(data));
    expect(auc).toBeGreaterThan(rocAuc(data.y, right.predictProba(data)) + 0.05);
  });

  it("fits German credit with missing values: JSON, single rows and the batch agree", () => {
    const trainNaN = withMissingValues(train, new Rng(1));
    const testNaN = withMissingValues(test, new Rng(2));
    const m = fit({ nRounds: 100 }, 0, trainNaN);
    expect(m.trees.some((t) => t.hasMissingLeft)).toBe(true);
    expect(rocAuc(testNaN.y, m.predictProba(testNaN))).toBeGreaterThan(0.7);
    const raw = m.predictRaw(testNaN);
    for (let i = 0; i < testNaN.n; i++) {
      const r = row(testNaN, i);
      expect(m.predictRawRow(r)).toBe(raw[i]);
      let s = 0;
      for (const t of m.trees) s += t.leafValue[t.leafOfRow(r)];
      expect(raw[i]).toBe(m.baseScore + s);
    }
    const text = JSON.stringify(m.toJSON());
    expect(text).toContain('"missingLeft"');
    const back = gbdt.fromJSON(JSON.parse(text), german.features);
    expect(JSON.stringify(back.toJSON())).toBe(text);
    expect(Array.from(back.predictRaw(testNaN))).toEqual(Array.from(raw));
    // A model file of the older form (no missingLeft) reads as NaN going right everywhere.
    const old = JSON.parse(text) as { trees: Record<string, unknown>[] };
    for (const t of old.trees) delete t.missingLeft;
    const legacy = gbdt.fromJSON(old, german.features) as GbdtModel;
    expect(legacy.trees.every((t) => !t.hasMissingLeft)).toBe(true);
    const duration = german.features.findIndex((f) => f.name === "duration");
    const r = row(test, 0);
    const nan = r.map((v, f) => (f === duration ? NaN : v));
    const big = r.map((v, f) => (f === duration ? 1e9 : v));
    expect(legacy.predictRawRow(nan)).toBe(legacy.predictRawRow(big));
  });

  it("trains exactly as before on complete data: no missing sides, none in the JSON", () => {
    const complete = fit({ nRounds: 60 });
    expect(complete.trees.some((t) => t.hasMissingLeft)).toBe(false);
    expect(JSON.stringify(complete.toJSON())).not.toContain("missingLeft");
  });
});
