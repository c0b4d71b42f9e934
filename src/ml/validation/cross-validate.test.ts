import { describe, expect, it } from "vitest";
import type { JobRef } from "../../core/pool.js";
import { Rng } from "../../core/rng.js";
import { rocAuc } from "../metrics/auc.js";
import { METRICS as CATALOGUE } from "../metrics/index.js";
import type { LabeledTable } from "../types.js";
import {
  crossValidate,
  defaultThreshold,
  jobSeeds,
  nestedCrossValidate,
  summarize,
  tuneCrossValidated,
  type CrossValidationResult,
  type MetricLike,
} from "./cross-validate.js";
import { repeatedStratifiedKFold, stratifiedKFold } from "./folds.js";

const FIXTURE = new URL("./cross-validate.fixture.mjs", import.meta.url).href;
const job = (fn: string): JobRef => ({ module: FIXTURE, fn });

const AUC: MetricLike = {
  name: "auc",
  higherIsBetter: true,
  needsThreshold: false,
  compute: (y, p) => rocAuc(y, p),
};
const ACCURACY: MetricLike = {
  name: "accuracy",
  higherIsBetter: true,
  needsThreshold: true,
  compute: (y, p, ctx) => {
    let hits = 0;
    for (let i = 0; i < y.length; i++) if (Number(p[i] >= ctx!.threshold) === y[i]) hits++;
    return hits / y.length;
  },
};
const COST: MetricLike = {
  name: "cost",
  higherIsBetter: false,
  needsThreshold: true,
  compute: (y, p, ctx) => {
    let cost = 0;
    for (let i = 0; i < y.length; i++) {
      const refuse = p[i] >= ctx!.threshold;
      if (y[i] && !refuse) cost += ctx!.costs.falseNegative;
      if (!y[i] && refuse) cost += ctx!.costs.falsePositive;
    }
    return cost / y.length;
  },
};
const METRICS = [AUC, ACCURACY, COST];

/** Column 0 carries the signal; columns 1… are noise. */
function makeData(n: number, noiseColumns: number, seed: number, signal = 1): LabeledTable {
  const rng = new Rng(seed);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) y[i] = rng.next() < 0.3 ? 1 : 0;
  const columns = [Float64Array.from(y, (v) => signal * v + rng.normal())];
  for (let c = 0; c < noiseColumns; c++) columns.push(Float64Array.from(y, () => rng.normal()));
  const features = columns.map((_, i) => ({ name: `x${i}`, kind: "numeric" as const }));
  return { features, columns, n, y };
}

const DATA = makeData(240, 3, 1);
const EXTRA = { feature: 0, jitter: 0.5 };

describe("summarize", () => {
  it("gives the mean and the sample standard deviation", () => {
    const s = summarize([1, 2, 3, 4]);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(summarize([7]).std).toBeNaN();
    expect(summarize([]).mean).toBeNaN();
  });

  it("derives the cost-optimal default threshold", () => {
    expect(defaultThreshold({ falseNegative: 5, falsePositive: 1 })).toBeCloseTo(1 / 6, 12);
    expect(defaultThreshold({ falseNegative: 1, falsePositive: 1 })).toBe(0.5);
  });
});

describe("crossValidate", () => {
  const folds = repeatedStratifiedKFold(DATA.y, 5, 2, new Rng(3));
  const run = (threads: number, onProgress?: (d: number, t: number) => void) =>
    crossValidate({
      data: DATA,
      folds,
      job: job("fitScore"),
      extra: EXTRA,
      seed: 17,
      metrics: METRICS,
      threads,
      onProgress,
    });

  it("scores every fold on its own test rows and summarises over folds", async () => {
    const cv = await run(1);
    expect(cv.folds).toHaveLength(10);
    const seeds = jobSeeds(17, 10);
    cv.folds.forEach((f, i) => {
      expect(f.fold).toBe(folds[i].fold);
      expect(f.repeat).toBe(folds[i].repeat);
      expect(f.seed).toBe(seeds[i]);
      expect(f.testRows).toEqual(folds[i].test);
      expect(f.proba).toHaveLength(folds[i].test.length);
      expect(f.threshold).toBeCloseTo(1 / 6, 12);
      expect(f.extra).toEqual({ trainSize: folds[i].train.length, fold: folds[i].fold });
      const y = Uint8Array.from(folds[i].test, (r) => DATA.y[r]);
      expect(f.metrics.auc).toBe(rocAuc(y, f.proba));
    });
    expect(new Set(seeds).size).toBe(10);
    for (const m of METRICS) {
      const values = cv.folds.map((f) => f.metrics[m.name]);
      const { mean, std } = summarize(values);
      expect(cv.summary[m.name]).toEqual({ mean, std, values, higherIsBetter: m.higherIsBetter });
      expect(std).toBeGreaterThan(0);
    }
    // The signal column separates the classes well; the seeded jitter blurs it a little.
    expect(cv.summary.auc.mean).toBeGreaterThan(0.7);
    expect(cv.summary.auc.mean).toBeLessThan(0.95);
  });

  it("gives identical results for any thread count", async () => {
    const progress: [number, number][] = [];
    const one = await run(1);
    const two = await run(2, (d, t) => progress.push([d, t]));
    expect(two).toEqual(one);
    expect(progress.at(-1)).toEqual([10, 10]);
    expect(progress.map((p) => p[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("collects out-of-fold probabilities per repetition", async () => {
    const cv: CrossValidationResult = await run(1);
    expect(cv.oofProba).toHaveLength(2);
    for (const oof of cv.oofProba) {
      expect(oof).toHaveLength(DATA.n);
      expect(oof.every((p) => p > 0 && p < 1)).toBe(true);
    }
    const f = cv.folds[7];
    expect(Array.from(f.testRows, (r) => cv.oofProba[f.repeat][r])).toEqual(Array.from(f.proba));
    // The two repetitions split differently, so their out-of-fold estimates differ.
    expect(cv.oofProba[0]).not.toEqual(cv.oofProba[1]);
  });

  it("uses the threshold a fold job returns", async () => {
    const base = {
      data: DATA,
      folds: stratifiedKFold(DATA.y, 4, new Rng(5)),
      job: job("fitScore"),
      extra: EXTRA,
      seed: 1,
      metrics: METRICS,
      threads: 1,
    };
    const high = await crossValidate({ ...base, params: { threshold: 0.9 } });
    const low = await crossValidate({ ...base });
    expect(high.folds.every((f) => f.threshold === 0.9)).toBe(true);
    // Same probabilities, different decisions: refusing almost nobody at 0.9 approves the bad.
    expect(high.folds.map((f) => f.proba)).toEqual(low.folds.map((f) => f.proba));
    expect(high.summary.auc).toEqual(low.summary.auc);
    expect(high.summary.cost.mean).toBeGreaterThan(low.summary.cost.mean);
    const f = high.folds[0];
    const y = Uint8Array.from(f.testRows, (r) => DATA.y[r]);
    expect(f.metrics.accuracy).toBe(
      ACCURACY.compute(y, f.proba, {
        threshold: 0.9,
        costs: { falseNegative: 5, falsePositive: 1 },
      }),
    );
  });

  it("takes the metric catalogue and a fallback threshold", async () => {
    const folds4 = stratifiedKFold(DATA.y, 4, new Rng(5));
    const metrics: readonly MetricLike[] = [
      CATALOGUE.auc,
      CATALOGUE.cost,
      { ...COST, name: "local_cost" },
    ];
    const base = {
      data: DATA,
      folds: folds4,
      job: job("fitScore"),
      extra: EXTRA,
      seed: 1,
      metrics,
    };
    const cv = await crossValidate({ ...base, threads: 1 });
    cv.folds.forEach((f) => {
      // The catalogue's expected cost sees the fold's threshold and costs, as the local one does.
      expect(f.metrics.cost).toBeCloseTo(f.metrics.local_cost, 12);
      expect(f.metrics.auc).toBe(
        rocAuc(
          Uint8Array.from(f.testRows, (r) => DATA.y[r]),
          f.proba,
        ),
      );
    });
    const half = await crossValidate({ ...base, threshold: 0.5 });
    expect(half.folds.every((f) => f.threshold === 0.5)).toBe(true);
    expect(half.summary.auc).toEqual(cv.summary.auc);
    expect(half.summary.cost.mean).not.toBe(cv.summary.cost.mean);
    await expect(crossValidate({ ...base, threshold: 1.5 })).rejects.toThrow(/threshold/);
  });

  it("rejects with the fold job's error, a bad output or bad options", async () => {
    const base = {
      data: DATA,
      folds: stratifiedKFold(DATA.y, 3, new Rng(5)),
      extra: EXTRA,
      seed: 1,
      metrics: METRICS,
    };
    for (const threads of [1, 2]) {
      await expect(crossValidate({ ...base, threads, job: job("failing") })).rejects.toThrow(
        "cannot fit fold 1",
      );
    }
    await expect(crossValidate({ ...base, job: job("shortProba") })).rejects.toThrow(
      /returned \d+ probabilities for \d+ test rows/,
    );
    await expect(
      crossValidate({ ...base, job: job("fitScore"), extra: { ...EXTRA, data: 1 } }),
    ).rejects.toThrow(/"data"/);
    await expect(
      crossValidate({ ...base, job: job("fitScore"), metrics: [AUC, AUC] }),
    ).rejects.toThrow(/unique/);
  });
});

describe("tuning and nested cross-validation", () => {
  const SPACE = {
    k: { type: "float", low: 0.01, high: 100, log: true },
    flip: { type: "choice", values: [false, true] },
  } as const;

  it("tunes by cross-validation", async () => {
    const seen: number[] = [];
    const tuned = await tuneCrossValidated({
      data: DATA,
      job: job("fitScore"),
      extra: EXTRA,
      seed: 2,
      metrics: [AUC],
      space: SPACE,
      trials: 16,
      inner: { folds: 4 },
      fixedParams: { feature: 0 },
      threads: 2,
      onTrial: (t) => seen.push(t.index),
    });
    expect(tuned.params.flip).toBe(false);
    expect(tuned.params.feature).toBe(0);
    expect(tuned.trials).toHaveLength(16);
    expect(seen).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(tuned.score).toBe(Math.max(...tuned.trials.map((t) => t.value)));
    // A flipped score ranks the classes backwards.
    for (const t of tuned.trials) expect(t.value > 0.5).toBe(t.params.flip === false);
  });

  it("refits the chosen params per outer fold, identically for any thread count", async () => {
    const outerFolds = stratifiedKFold(DATA.y, 3, new Rng(8));
    const progress: [number, number][] = [];
    const run = (threads: number) =>
      nestedCrossValidate({
        data: DATA,
        outerFolds,
        job: job("fitScore"),
        extra: EXTRA,
        seed: 4,
        metrics: [COST, AUC],
        optimize: "auc",
        space: SPACE,
        trials: 12,
        sampler: "tpe",
        searchConcurrency: 2,
        inner: { folds: 3 },
        initial: [{ k: 1, flip: false }],
        threads,
        onProgress: threads === 2 ? (d, t) => progress.push([d, t]) : undefined,
      });
    const one = await run(1);
    const two = await run(2);
    expect(two).toEqual(one);
    expect(progress).toHaveLength(3 * (12 * 3 + 1));
    expect(progress.at(-1)).toEqual([111, 111]);

    expect(one.folds).toHaveLength(3);
    for (const [i, f] of one.folds.entries()) {
      expect(f.params.flip).toBe(false);
      expect(f.trials).toHaveLength(12);
      expect(f.trials[0].params).toEqual({ k: 1, flip: false });
      expect(f.innerScore).toBe(Math.max(...f.trials.map((t) => t.value)));
      expect(f.testRows).toEqual(outerFolds[i].test);
      // Refitted on the whole outer training part.
      expect(f.extra).toEqual({ trainSize: outerFolds[i].train.length, fold: i });
    }
    expect(Object.keys(one.summary)).toEqual(["cost", "auc"]);
    expect(one.summary.auc.mean).toBeGreaterThan(0.7);
    // Outer folds tune independently: their searches see different data.
    expect(one.folds[0].trials[5].params).not.toEqual(one.folds[1].trials[5].params);
  });

  it("is honest where picking the best inner score is not", async () => {
    // Pure noise: choosing the "best" of 12 useless features looks good on the folds it was
    // chosen on, and nested CV reports the chance level it really has.
    const noise = makeData(200, 12, 21, 0);
    const nested = await nestedCrossValidate({
      data: noise,
      outerFolds: stratifiedKFold(noise.y, 5, new Rng(2)),
      job: job("fitScore"),
      extra: { feature: 0, jitter: 0 },
      seed: 6,
      metrics: [AUC],
      space: { feature: { type: "choice", values: Array.from({ length: 12 }, (_, i) => i + 1) } },
      trials: 24,
      sampler: "random",
      inner: { folds: 4 },
      threads: 2,
    });
    const inner = nested.folds.reduce((s, f) => s + f.innerScore, 0) / nested.folds.length;
    expect(inner).toBeGreaterThan(0.55);
    expect(nested.summary.auc.mean).toBeLessThan(0.55);
    expect(inner - nested.summary.auc.mean).toBeGreaterThan(0.05);
  });

  it("checks the metric to optimise", async () => {
    await expect(
      nestedCrossValidate({
        data: DATA,
        outerFolds: stratifiedKFold(DATA.y, 3, new Rng(8)),
        job: job("fitScore"),
        extra: EXTRA,
        seed: 4,
        metrics: [AUC],
        optimize: "brier",
        space: SPACE,
        trials: 2,
        inner: { folds: 3 },
      }),
    ).rejects.toThrow(/"brier"/);
  });
});
