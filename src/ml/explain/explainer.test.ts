import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset } from "../../data/index.js";
import { PlattCalibrator, sigmoid } from "../calibration/index.js";
import type { ForestModel } from "../ensembles/forest.js";
import type { GbdtModel } from "../ensembles/gbdt.js";
import type { FittedLogreg } from "../linear/logistic.js";
import { FittedPipeline, type ModelKind, fitPipeline } from "../pipeline/pipeline.js";
import { logit } from "../trees/ensemble.js";
import { type LabeledTable, type Table, takeRows } from "../types.js";
import { type Explanation, createExplainer, explainRow, stackerLinearForm } from "./explainer.js";
import { TreeShap } from "./tree-shap.js";

let train: LabeledTable;
let test: LabeledTable;
// Small ensembles keep the suite quick; exactness does not depend on their size.
const SMALL = { forest: { nTrees: 40 }, gbdt: { nRounds: 60 } };
const KINDS: readonly ModelKind[] = ["logreg", "gbdt", "forest", "blend"];
const pipelines = new Map<ModelKind, FittedPipeline>();

beforeAll(async () => {
  const data = (await readDataset(DEFAULT_DATA_PATH)).table;
  const rows = Int32Array.from({ length: data.n }, (_, i) => i);
  train = takeRows(
    data,
    rows.filter((i) => i % 5 !== 0),
  );
  test = takeRows(
    data,
    rows.filter((i) => i % 5 === 0),
  );
  for (const kind of KINDS) {
    pipelines.set(kind, fitPipeline(train, { kind, params: SMALL }, new Rng(7)));
  }
});

function row(table: Table, i: number): Float64Array {
  return Float64Array.from(table.columns, (c) => c[i]);
}

function oneRowTable(x: Float64Array): Table {
  return { features: test.features, columns: Array.from(x, (v) => Float64Array.of(v)), n: 1 };
}

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

function expectAdditive(e: Explanation): void {
  const total = e.base + sum(e.contributions);
  const err = Math.abs(total - e.raw) / Math.max(1, Math.abs(e.raw));
  if (!(err <= 1e-9)) expect.fail(`base + Σ = ${total}, raw = ${e.raw} (relative error ${err})`);
}

describe("explanations are exact: base + Σ contributions = the model's score", () => {
  for (const kind of KINDS) {
    it(`${kind}: 200 held-out rows, and raw is the pipeline's own score`, () => {
      const pipeline = pipelines.get(kind) as FittedPipeline;
      const explainer = createExplainer(pipeline);
      expect(test.n).toBeGreaterThanOrEqual(200);
      for (let i = 0; i < 200; i++) {
        const x = row(test, i);
        const e = explainer.explain(x);
        expect(e.contributions).toHaveLength(20);
        expect(e.features).toEqual(pipeline.features.map((f) => f.name));
        expectAdditive(e);
        const served = pipeline.predictProbaRow(x);
        if (kind === "forest") {
          // Vote space: raw is the forest's mean vote, and the pipeline's probability is the
          // calibration of its clipped logit.
          expect(e.space).toBe("probability");
          const member = pipeline.members[0].model as ForestModel;
          expect(e.raw).toBe(member.predictProba(oneRowTable(x))[0]);
          const clip = 0.5 / (member.nTrees + 1);
          const z = logit(Math.min(Math.max(e.raw, clip), 1 - clip));
          expect(z).toBe(member.predictRawRow(x));
          expect(pipeline.calibrator?.applyOne(z)).toBe(served);
        } else {
          expect(e.space).toBe("log-odds");
          expect(Math.abs(sigmoid(e.raw) - served)).toBeLessThan(1e-13);
        }
      }
    });
  }

  it("logreg: the model's coefficient × standardised value, times the Platt slope", () => {
    const pipeline = pipelines.get("logreg") as FittedPipeline;
    const model = pipeline.members[0].model as FittedLogreg;
    const platt = pipeline.calibrator as PlattCalibrator;
    expect(platt).toBeInstanceOf(PlattCalibrator);
    const e = explainRow(pipeline, row(test, 3));
    const parts = model.contributions(row(test, 3));
    for (let f = 0; f < 20; f++) expect(e.contributions[f]).toBeCloseTo(platt.a * parts[f], 14);
    expect(e.base).toBeCloseTo(platt.a * model.intercept + platt.b, 14);
    expect(e.method).toMatch(/^logreg: linear: coefficient × standardised value \(exact\)/);
    // Features the model dropped (information-value selection) explain nothing.
    expect(e.contributions.filter((c) => c === 0).length).toBe(20 - model.params.maxFeatures);
    // A level's coefficient is relative to the average level: each block sums to 0 at the
    // penalised optimum (the intercept is free), as the reference of LinearPart says.
    for (const block of model.encoder.blocks) {
      if (block.kind !== "categorical") continue;
      let total = 0;
      for (let k = 0; k < block.levels; k++) total += model.coef[block.start + k];
      expect(Math.abs(total)).toBeLessThan(1e-5);
    }
  });

  it("gbdt: TreeSHAP of the trees plus the base score, times the Platt slope", () => {
    const pipeline = pipelines.get("gbdt") as FittedPipeline;
    const model = pipeline.members[0].model as GbdtModel;
    const platt = pipeline.calibrator as PlattCalibrator;
    const shap = new TreeShap(model.trees, 20);
    const x = row(test, 11);
    const phi = new Float64Array(20);
    shap.shap(x, phi);
    const e = explainRow(pipeline, x);
    for (let f = 0; f < 20; f++) expect(e.contributions[f]).toBeCloseTo(platt.a * phi[f], 14);
    expect(e.base).toBeCloseTo(platt.a * (model.baseScore + shap.expectedSum) + platt.b, 12);
    expect(e.method).toContain("TreeSHAP (path-dependent, cover-weighted, exact)");
  });

  it("blend: members combined with the stacker weights; the forest rescaled, and flagged", () => {
    const pipeline = pipelines.get("blend") as FittedPipeline;
    expect(pipeline.members.map((m) => m.algorithm)).toEqual(["logreg", "forest", "gbdt"]);
    const [lr, forestModel, gbdtModel] = pipeline.members.map((m) => m.model) as [
      FittedLogreg,
      ForestModel,
      GbdtModel,
    ];
    const { weights } = stackerLinearForm(pipeline.stacker as FittedLogreg, 3);
    const forestShap = new TreeShap(forestModel.trees, 20);
    const gbdtShap = new TreeShap(gbdtModel.trees, 20);
    const explainer = createExplainer(pipeline);
    for (let i = 0; i < 30; i++) {
      const x = row(test, i);
      const e = explainer.explain(x);
      const lin = lr.contributions(x);
      const gPhi = new Float64Array(20);
      gbdtShap.shap(x, gPhi);
      const fPhi = new Float64Array(20);
      const p = forestShap.shap(x, fPhi) / forestModel.nTrees;
      const ep = forestShap.expectedSum / forestModel.nTrees;
      const clip = 0.5 / (forestModel.nTrees + 1);
      const g = (v: number) => logit(Math.min(Math.max(v, clip), 1 - clip));
      const ratio = (g(p) - g(ep)) / (p - ep);
      for (let f = 0; f < 20; f++) {
        const expected =
          weights[0] * lin[f] +
          (weights[1] * ratio * fPhi[f]) / forestModel.nTrees +
          weights[2] * gPhi[f];
        expect(e.contributions[f]).toBeCloseTo(expected, 12);
      }
    }
    const e = explainer.explain(row(test, 0));
    expect(e.method).toContain("blend: stacker log-odds = c + Σ w·member log-odds");
    expect(e.method).toContain("forest (weight");
    expect(e.method).toContain("not Shapley values of the logit");
  });

  it("an isotonic calibration is not linear: the uncalibrated log-odds are explained", () => {
    const pipeline = fitPipeline(
      train,
      { kind: "gbdt", params: SMALL, calibration: "isotonic" },
      new Rng(8),
    );
    const model = pipeline.members[0].model as GbdtModel;
    const explainer = createExplainer(pipeline);
    for (let i = 0; i < 20; i++) {
      const x = row(test, i);
      const e = explainer.explain(x);
      expectAdditive(e);
      expect(e.raw).toBe(model.predictRawRow(x));
    }
    expect(explainer.method).toContain("explains the uncalibrated log-odds");
  });

  it("a model read back from its JSON explains every row identically", () => {
    for (const kind of KINDS) {
      const pipeline = pipelines.get(kind) as FittedPipeline;
      const again = FittedPipeline.fromJSON(JSON.parse(JSON.stringify(pipeline.toJSON())));
      const a = createExplainer(pipeline);
      const b = createExplainer(again);
      for (let i = 0; i < 10; i++) {
        const x = row(test, i);
        expect(b.explain(x)).toEqual(a.explain(x));
      }
    }
  });

  it("writes into a caller's buffer when given one, and checks its length", () => {
    const explainer = createExplainer(pipelines.get("gbdt") as FittedPipeline);
    const out = new Float64Array(20).fill(99);
    const e = explainer.explain(row(test, 1), out);
    expect(e.contributions).toBe(out);
    expect(Array.from(out)).toEqual(Array.from(explainer.explain(row(test, 1)).contributions));
    expect(() => explainer.explain(row(test, 1), new Float64Array(3))).toThrow(/buffer/);
  });
});
