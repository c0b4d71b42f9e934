import { describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset } from "../../data/index.js";
import { rocAuc, summarize } from "../metrics/index.js";
import { Encoder } from "../preprocess/index.js";
import { type LabeledTable, takeRows } from "../types.js";
import { repeatedStratifiedKFold } from "../validation/folds.js";
import { choleskySolve } from "./cholesky.js";
import { FittedLogreg, logreg, newtonLogistic } from "./logistic.js";

const german = (await readDataset(DEFAULT_DATA_PATH)).table;

function fitGerman(params = {}): FittedLogreg {
  return logreg.fit(german, params, new Rng(0)) as FittedLogreg;
}

const row = (t: LabeledTable, i: number) => t.columns.map((c) => c[i]);

describe("logreg", () => {
  it("recovers group frequencies when barely penalised", () => {
    // One categorical feature: the unpenalised optimum predicts each level's bad rate.
    const level = Float64Array.of(0, 0, 0, 0, 1, 1, 1, 1, 2, 2);
    const y = Uint8Array.of(1, 0, 0, 0, 1, 1, 1, 0, 1, 0);
    const t: LabeledTable = {
      features: [{ name: "level", kind: "categorical", nCategories: 3 }],
      columns: [level],
      n: 10,
      y,
    };
    const m = logreg.fit(t, { C: 1e9, maxFeatures: 0 }, new Rng(0));
    const p = m.predictProba(t);
    expect(p[0]).toBeCloseTo(0.25, 6);
    expect(p[4]).toBeCloseTo(0.75, 6);
    expect(p[8]).toBeCloseTo(0.5, 6);
  });

  it("reaches the penalised optimum: zero gradient with the intercept unpenalised", () => {
    const C = 0.1;
    const m = fitGerman({ C, maxFeatures: 0, tol: 1e-9 });
    expect(m.converged).toBe(true);
    const enc = Encoder.fit(german);
    const x = enc.transform(german);
    const p = m.predictProba(german);
    const grad = new Float64Array(enc.width + 1);
    for (let i = 0; i < german.n; i++) {
      const r = p[i] - german.y[i];
      grad[enc.width] += r;
      for (let k = 0; k < x.slots; k++)
        grad[x.index[i * x.slots + k]] += r * x.value[i * x.slots + k];
    }
    for (let c = 0; c < enc.width; c++) grad[c] += m.coef[c] / C;
    // The Hessian is ~n/5 on the diagonal, so coefficients within ~1e-9 leave |g| ≲ 1e-6.
    for (const g of grad) expect(Math.abs(g)).toBeLessThan(2e-6);
    // Shrinkage: a 10× smaller C gives a smaller coefficient vector.
    const norm = (w: Float64Array) => Math.hypot(...w);
    expect(norm(fitGerman({ C: 0.01, maxFeatures: 0 }).coef)).toBeLessThan(norm(m.coef));
  });

  it("matches a plain dense Newton solve that rebuilds the Hessian every step", () => {
    const C = 1;
    const enc = Encoder.fit(german);
    const dense = Array.from({ length: german.n }, (_, i) => [
      ...enc.transformRow(row(german, i)),
      1,
    ]);
    const m = enc.width + 1;
    const beta = new Float64Array(m);
    for (let it = 0; it < 12; it++) {
      const H = new Float64Array(m * m);
      const g = new Float64Array(m);
      dense.forEach((x, i) => {
        const z = x.reduce((s, v, c) => s + v * beta[c], 0);
        const p = 1 / (1 + Math.exp(-z));
        for (let a = 0; a < m; a++) {
          g[a] += (p - german.y[i]) * x[a];
          for (let b = 0; b < m; b++) H[a * m + b] += p * (1 - p) * x[a] * x[b];
        }
      });
      for (let c = 0; c < m - 1; c++) {
        g[c] += beta[c] / C;
        H[c * m + c] += 1 / C;
      }
      expect(choleskySolve(H, g, m)).toBe(true);
      for (let c = 0; c < m; c++) beta[c] -= g[c];
    }
    const fitted = fitGerman({ C, maxFeatures: 0, tol: 1e-9 });
    for (let c = 0; c < enc.width; c++) expect(fitted.coef[c]).toBeCloseTo(beta[c], 8);
    expect(fitted.intercept).toBeCloseTo(beta[m - 1], 8);
    // The default tolerance stays within ~1e-6 of the optimum.
    const loose = fitGerman({ C, maxFeatures: 0 });
    for (let c = 0; c < enc.width; c++)
      expect(Math.abs(loose.coef[c] - beta[c])).toBeLessThan(2e-6);
    // Reusing factors must not cost extra Hessians compared with plain Newton's ~6.
    const x = enc.transform(german);
    const run = newtonLogistic(x, german.y, enc.width, C, 100, 1e-6);
    expect(run.converged).toBe(true);
    expect(run.hessians).toBeLessThanOrEqual(4);
  });

  it("scores rows the same in batch, one by one, and as intercept + contributions", () => {
    const m = fitGerman();
    const raw = m.predictRaw(german);
    const proba = m.predictProba(german);
    for (const i of [0, 1, 2, 500, 999]) {
      const r = row(german, i);
      expect(m.predictRawRow(r)).toBeCloseTo(raw[i], 12);
      expect(proba[i]).toBeCloseTo(1 / (1 + Math.exp(-raw[i])), 12);
      const parts = m.contributions(r);
      expect(parts).toHaveLength(german.features.length);
      expect(parts.reduce((s, v) => s + v, m.intercept)).toBeCloseTo(raw[i], 10);
    }
  });

  it("selects features inside the fit and gives dropped ones no weight", () => {
    const m = fitGerman({ maxFeatures: 5 });
    const kept = new Set(m.encoder.blocks.map((b) => b.feature));
    expect(kept.size).toBe(5);
    // The checking account status is the strongest single predictor of German credit risk.
    expect(kept.has(german.features.findIndex((f) => f.name === "checking_status"))).toBe(true);
    const imp = m.featureImportance();
    expect(imp.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    imp.forEach((v, j) => (kept.has(j) ? expect(v).toBeGreaterThan(0) : expect(v).toBe(0)));
    const parts = m.contributions(row(german, 3));
    parts.forEach((v, j) => kept.has(j) || expect(v).toBe(0));
  });

  it("weights importance by the encoded column's spread", () => {
    const m = fitGerman({ maxFeatures: 0 });
    const imp = m.featureImportance();
    const j = german.features.findIndex((f) => f.name === "duration");
    const col = m.encoder.blocks.find((b) => b.feature === j);
    if (col?.kind !== "numeric") throw new Error("duration should be numeric");
    // A standardised column has std 1, so its share is |coef| over the total.
    let total = 0;
    m.coef.forEach((w, c) => (total += Math.abs(w * m.columnStd[c])));
    expect(imp[j]).toBeCloseTo(Math.abs(m.coef[col.column]) / total, 12);
    expect(m.columnStd[col.column]).toBeCloseTo(1, 12);
  });

  it("is deterministic and round-trips through JSON exactly", () => {
    const a = fitGerman({ logNumeric: true });
    const b = fitGerman({ logNumeric: true });
    const text = JSON.stringify(a.toJSON());
    expect(JSON.stringify(b.toJSON())).toBe(text);
    const back = logreg.fromJSON(JSON.parse(text), german.features);
    expect(Array.from(back.predictRaw(german))).toEqual(Array.from(a.predictRaw(german)));
    expect(Array.from(back.featureImportance())).toEqual(Array.from(a.featureImportance()));
  });

  it("weights bad rows like duplicated rows, and classWeight 1 is the unweighted fit exactly", () => {
    const enc = Encoder.fit(german);
    const x = enc.transform(german);
    const weights = Float64Array.from(german.y, (v) => (v ? 3 : 1));
    const weighted = newtonLogistic(x, german.y, enc.width, 0.1, 100, 1e-10, weights);
    // Each bad row given three times.
    const rows: number[] = [];
    for (let i = 0; i < german.n; i++) for (let k = german.y[i] ? 3 : 1; k > 0; k--) rows.push(i);
    const dup = enc.transform(takeRows(german, Int32Array.from(rows)));
    const yDup = Uint8Array.from(rows, (i) => german.y[i]);
    const copies = newtonLogistic(dup, yDup, enc.width, 0.1, 100, 1e-10);
    expect(weighted.converged && copies.converged).toBe(true);
    weighted.beta.forEach((b, c) => expect(b).toBeCloseTo(copies.beta[c], 7));

    // The fit: those coefficients, and the intercept moved back by log(classWeight).
    const m = fitGerman({ maxFeatures: 0, tol: 1e-10, classWeight: 3 });
    const direct = newtonLogistic(x, german.y, enc.width, m.params.C, 100, 1e-10, weights);
    m.coef.forEach((w, c) => expect(w).toBeCloseTo(direct.beta[c], 7));
    expect(m.intercept).toBeCloseTo(direct.beta[enc.width] - Math.log(3), 7);
    // More weight on bad rows: more bad predicted before the shift, about as many after it.
    const meanP = (f: FittedLogreg) => f.predictProba(german).reduce((a, b) => a + b, 0) / german.n;
    expect(Math.abs(meanP(m) - 0.3)).toBeLessThan(0.03);

    const plain = JSON.stringify(fitGerman().toJSON());
    expect(JSON.stringify(fitGerman({ classWeight: 1 }).toJSON())).toBe(plain);
    expect(() => fitGerman({ classWeight: 0 })).toThrow(/classWeight/);
  });

  it("refuses malformed model JSON and invalid parameters", () => {
    const json = fitGerman().toJSON();
    expect(() => logreg.fromJSON({ ...json, coef: json.coef.slice(1) }, german.features)).toThrow(
      /coef/,
    );
    expect(() => logreg.fromJSON({ ...json, algorithm: "forest" }, german.features)).toThrow(
      /algorithm/,
    );
    expect(() => logreg.fromJSON({ ...json, intercept: null }, german.features)).toThrow(
      /intercept/,
    );
    expect(() => logreg.fromJSON(json, german.features.slice(1))).toThrow(/features/);
    expect(() => fitGerman({ C: 0 })).toThrow(/C must be > 0/);
    expect(() => fitGerman({ maxFeatures: 2.5 })).toThrow(/maxFeatures/);
    const good = takeRows(
      german,
      Int32Array.from({ length: 20 }, (_, i) => i).filter((i) => !german.y[i]),
    );
    expect(() => logreg.fit(good, {}, new Rng(0))).toThrow(/both classes/);
  });

  it("meets the AUC bar on 5×10 repeated stratified CV, seed 0, with its defaults", () => {
    const folds = repeatedStratifiedKFold(german.y, 10, 5, new Rng(0));
    const aucs = folds.map((f) => {
      const model = logreg.fit(takeRows(german, f.train), {}, new Rng(f.fold));
      const test = takeRows(german, f.test);
      return rocAuc(test.y, model.predictRaw(test));
    });
    const { mean, std } = summarize(aucs);
    expect(mean).toBeGreaterThanOrEqual(0.785);
    // Pinned to the value measured when the defaults were chosen, to catch silent changes.
    expect(mean).toBeCloseTo(0.7941, 3);
    expect(std).toBeLessThan(0.07);
  });

  it("fits German credit in a few milliseconds", () => {
    const train = takeRows(
      german,
      Int32Array.from({ length: 900 }, (_, i) => i),
    );
    for (let i = 0; i < 20; i++) logreg.fit(train, {}, new Rng(0));
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      logreg.fit(train, {}, new Rng(0));
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    // Typically ~2 ms; the bound leaves room for a loaded machine.
    expect(times[15]).toBeLessThan(25);
  });

  describe("with missing values", () => {
    // Income lowers the risk a little over its range; a blank income is far riskier than any
    // observed one (bad rate ~0.8 against at most ~0.5), as when a blank hides a refusal to say.
    const rng = new Rng(11);
    const n = 3000;
    const income = new Float64Array(n);
    const noise = new Float64Array(n);
    const purpose = new Float64Array(n);
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const blank = rng.next() < 0.2;
      const v = rng.next();
      income[i] = blank ? NaN : 1000 + 4000 * v;
      noise[i] = rng.normal();
      purpose[i] = rng.next() < 0.05 ? NaN : rng.int(3);
      const p = blank ? 0.8 : 1 / (1 + Math.exp(-(-0.5 - 1.5 * v)));
      y[i] = rng.next() < p ? 1 : 0;
    }
    const data: LabeledTable = {
      features: [
        { name: "income", kind: "numeric" },
        { name: "noise", kind: "numeric" },
        { name: "purpose", kind: "categorical", nCategories: 3 },
      ],
      columns: [income, noise, purpose],
      n,
      y,
    };
    const blank = Array.from({ length: n }, (_, i) => i).filter((i) => Number.isNaN(income[i]));
    const model = logreg.fit(data, {}, new Rng(0)) as FittedLogreg;

    it("ranks a missing value by what missingness says, not as the mean", () => {
      expect(model.encoder.columnNames()).toEqual([
        "income",
        "income[missing]",
        "noise",
        "purpose[0]",
        "purpose[1]",
        "purpose[2]",
        "purpose[missing]",
      ]);
      // Riskier than the riskiest observed income…
      const missing = model.predictRawRow([NaN, 0, 1]);
      const lowest = model.predictRawRow([1000, 0, 1]);
      expect(missing).toBeGreaterThan(lowest + 0.5);
      expect(1 / (1 + Math.exp(-missing))).toBeCloseTo(0.8, 1);

      // …where mean imputation alone puts blank incomes at an average applicant's risk.
      const observed = takeRows(
        data,
        Int32Array.from({ length: n }, (_, i) => i).filter((i) => !Number.isNaN(income[i])),
      );
      // Fitted on rows with an income, the encoder has no income indicator (purpose keeps its own).
      const imputing = Encoder.fit(observed);
      expect(imputing.width).toBe(model.encoder.width - 1);
      const fit = newtonLogistic(imputing.transform(data), y, imputing.width, 0.1, 100, 1e-6);
      const coef = fit.beta.subarray(0, imputing.width);
      const meanOnly = imputing.linear(data, coef, fit.beta[imputing.width]);
      const withIndicator = model.predictRaw(data);
      for (const i of blank.slice(0, 20)) {
        expect(withIndicator[i]).toBeGreaterThan(meanOnly[i] + 1);
      }
      expect(rocAuc(y, withIndicator)).toBeGreaterThan(rocAuc(y, meanOnly) + 0.05);
    });

    it("keeps scores additive: intercept + contributions, a missing value's its own", () => {
      const raw = model.predictRaw(data);
      const missingIncome = model.encoder.blocks.find((b) => b.feature === 0)?.missing;
      expect(missingIncome).toBe(1);
      for (const i of [...blank.slice(0, 5), 0, 1, 2]) {
        const r = row(data, i);
        expect(model.predictRawRow(r)).toBeCloseTo(raw[i], 12);
        const parts = model.contributions(r);
        expect(parts.reduce((a, b) => a + b, model.intercept)).toBeCloseTo(raw[i], 12);
      }
      const parts = model.contributions([NaN, 0, NaN]);
      expect(parts[0]).toBe(model.coef[1]);
      expect(parts[2]).toBe(model.coef[6]);
      expect(parts[0]).toBeGreaterThan(1);
      // The indicator counts towards its feature's importance.
      const imp = model.featureImportance();
      expect(imp[0]).toBeGreaterThan(imp[1]);
    });

    it("round-trips the indicators through the model JSON", () => {
      const text = JSON.stringify(model.toJSON());
      const back = logreg.fromJSON(JSON.parse(text), data.features);
      expect(JSON.stringify(back.toJSON())).toBe(text);
      expect(Array.from(back.predictRaw(data))).toEqual(Array.from(model.predictRaw(data)));
    });

    it("selects a feature whose only signal is being missing", () => {
      // Observed values are pure noise; only the blanks carry risk. IV bins missing on its own.
      const r = new Rng(5);
      const m = 2000;
      const yy = new Uint8Array(m);
      const gap = new Float64Array(m);
      const others = [0, 1, 2].map(() => new Float64Array(m));
      for (let i = 0; i < m; i++) {
        const isBlank = r.next() < 0.15;
        gap[i] = isBlank ? NaN : r.next();
        for (const o of others) o[i] = r.next();
        yy[i] = r.next() < (isBlank ? 0.7 : 0.2) ? 1 : 0;
      }
      const t: LabeledTable = {
        features: ["a", "b", "gap", "c"].map((name) => ({ name, kind: "numeric" as const })),
        columns: [others[0], others[1], gap, others[2]],
        n: m,
        y: yy,
      };
      const picked = logreg.fit(t, { maxFeatures: 1 }, new Rng(0)) as FittedLogreg;
      expect(picked.encoder.blocks.map((b) => b.feature)).toEqual([2]);
      expect(picked.encoder.columnNames()).toEqual(["gap", "gap[missing]"]);
      expect(picked.coef[1]).toBeGreaterThan(1);
    });
  });
});
