import { beforeAll, describe, expect, it, vi } from "vitest";
import { Rng } from "../../core/rng.js";
import { readDataset } from "../../data/index.js";
import type { LabeledTable } from "../types.js";
import { takeRows } from "../types.js";
import { ALGORITHMS } from "../algorithms.js";
import { forest } from "../ensembles/forest.js";
import { rocAuc } from "../metrics/auc.js";
import type { FittedLogreg } from "../linear/logistic.js";
import { BLEND_MEMBER_OVERRIDES, FittedPipeline, fitPipeline } from "./pipeline.js";
import { decodeModelFile, encodeModelFile } from "./model-file.js";

let data: LabeledTable;
let train: LabeledTable;
let test: LabeledTable;
// Small ensembles keep the suite quick; the behaviour under test does not depend on their size.
const SMALL = { forest: { nTrees: 40 }, gbdt: { nRounds: 60 } };

beforeAll(async () => {
  data = (await readDataset(new URL("../../../data/credit-g.arff", import.meta.url).pathname))
    .table;
  const rows = Int32Array.from({ length: data.n }, (_, i) => i);
  train = takeRows(
    data,
    rows.filter((i) => i % 4 !== 0),
  );
  test = takeRows(
    data,
    rows.filter((i) => i % 4 === 0),
  );
});

function row(table: LabeledTable, i: number): Float64Array {
  return Float64Array.from(table.columns, (c) => c[i]);
}

describe("fitPipeline", () => {
  for (const kind of ["logreg", "forest", "gbdt", "blend"] as const) {
    it(`${kind}: same seed gives a byte-identical model file, another seed a different one`, () => {
      const a = encodeModelFile(fitPipeline(train, { kind, params: SMALL }, new Rng(1)).toJSON());
      const b = encodeModelFile(fitPipeline(train, { kind, params: SMALL }, new Rng(1)).toJSON());
      expect(a).toBe(b);
      if (kind !== "logreg") {
        const c = encodeModelFile(fitPipeline(train, { kind, params: SMALL }, new Rng(2)).toJSON());
        expect(c).not.toBe(a);
      }
    });

    it(`${kind}: a reloaded model predicts exactly the same, row by row and in batch`, () => {
      const model = fitPipeline(train, { kind, params: SMALL }, new Rng(3));
      const json = decodeModelFile(encodeModelFile(model.toJSON())) as ReturnType<
        FittedPipeline["toJSON"]
      >;
      const again = FittedPipeline.fromJSON(json);
      const p = model.predictProba(test);
      expect(again.predictProba(test)).toEqual(p);
      for (let i = 0; i < 25; i++)
        expect(again.predictProbaRow(row(test, i))).toBeCloseTo(p[i], 12);
      expect(again.threshold).toBe(model.threshold);
    });
  }

  it("calibrated probabilities rank the held-out rows well and the threshold is cost-minded", () => {
    const model = fitPipeline(train, { kind: "logreg" }, new Rng(0));
    const p = model.predictProba(test);
    let meanBad = 0;
    let meanGood = 0;
    let nBad = 0;
    for (let i = 0; i < test.n; i++) {
      if (test.y[i]) {
        meanBad += p[i];
        nBad++;
      } else meanGood += p[i];
    }
    expect(meanBad / nBad).toBeGreaterThan(meanGood / (test.n - nBad) + 0.15);
    // Refusing a good applicant costs 1 and accepting a bad one 5, so the cut sits well below 0.5.
    expect(model.threshold).toBeGreaterThan(0.05);
    expect(model.threshold).toBeLessThan(0.35);
  });

  it("blend: members take the blend overrides unless the caller sets them; equal-weight stack", () => {
    const blend = fitPipeline(
      train,
      { kind: "blend", params: { gbdt: { nRounds: 60 } } },
      new Rng(4),
    );
    const forestMember = blend.members.find((m) => m.algorithm === "forest");
    expect(forestMember?.params.nTrees).toBe(BLEND_MEMBER_OVERRIDES.forest?.nTrees);
    const given = fitPipeline(train, { kind: "blend", params: SMALL }, new Rng(4));
    expect(given.members.find((m) => m.algorithm === "forest")?.params.nTrees).toBe(40);
    // A single forest keeps the algorithm's own defaults.
    const single = fitPipeline(train, { kind: "forest", params: {} }, new Rng(4));
    expect(single.members[0].params.nTrees).toBe(forest.defaults.nTrees);
    // The stacker weighs the members' log-odds equally.
    const stacker = given.stacker as FittedLogreg;
    const weights = stacker.encoder.blocks.map((b) =>
      b.kind === "numeric" ? stacker.coef[b.column] / b.std : NaN,
    );
    expect(weights).toHaveLength(3);
    for (const w of weights) expect(w).toBeCloseTo(weights[0], 12);
    expect(weights[0]).toBeGreaterThan(0);
  });

  it("calibrates on a tenth held out from large training sets instead of inner folds", () => {
    const fit = vi.spyOn(ALGORITHMS.gbdt, "fit");
    try {
      const options = { kind: "gbdt" as const, params: SMALL };
      // Below the size: the model on every row, then one per inner fold (3).
      const inner = fitPipeline(train, { ...options, holdoutFromRows: train.n + 1 }, new Rng(5));
      expect(fit.mock.calls.map((c) => c[0].n)).toEqual([train.n, 500, 500, 500]);
      fit.mockClear();
      // From the size on: one model, on the nine tenths of the rows not held out.
      const held = fitPipeline(train, { ...options, holdoutFromRows: train.n }, new Rng(5));
      expect(fit.mock.calls.map((c) => c[0].n)).toEqual([675]);
      const bad = fit.mock.calls[0][0].y.reduce((a, b) => a + b, 0);
      expect(bad).toBe(Math.round(0.9 * train.y.reduce((a, b) => a + b, 0)));
      // Both are usable credit models: they rank the test rows alike, with a cost-minded cut.
      for (const model of [inner, held]) {
        expect(rocAuc(test.y, model.predictProba(test))).toBeGreaterThan(0.7);
        expect(model.threshold).toBeGreaterThan(0.05);
        expect(model.threshold).toBeLessThan(0.4);
      }
      // The default keeps German-sized data on inner folds.
      fit.mockClear();
      fitPipeline(train, options, new Rng(5));
      expect(fit).toHaveBeenCalledTimes(4);
    } finally {
      fit.mockRestore();
    }
  });

  it("refuses a training set with too few rows of a class", () => {
    const onlyGood = takeRows(
      data,
      Int32Array.from({ length: 300 }, (_, i) => i).filter((i) => data.y[i] === 0),
    );
    expect(() => fitPipeline(onlyGood, { kind: "logreg" }, new Rng(0))).toThrow(/at least/);
  });

  it("rejects a model JSON whose parts are missing", () => {
    const json = fitPipeline(train, { kind: "logreg" }, new Rng(0)).toJSON();
    expect(() => FittedPipeline.fromJSON({ ...json, calibrator: null })).toThrow(/calibrator/);
    expect(() => FittedPipeline.fromJSON({ ...json, kind: "svm" as never })).toThrow(
      /unknown model kind/,
    );
    expect(() => FittedPipeline.fromJSON({ ...json, threshold: 2 })).toThrow(/threshold/);
  });
});
