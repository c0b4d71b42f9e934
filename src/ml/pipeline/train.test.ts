import { describe, expect, it, vi } from "vitest";
import { readDataset } from "../../data/index.js";
import { ALGORITHMS } from "../algorithms.js";
import {
  type CandidateReport,
  TUNE_ROWS,
  chooseCandidate,
  trainModel,
  trainingBudget,
} from "./train.js";

const candidate = (kind: CandidateReport["kind"], cost: number, std = 0.1): CandidateReport => ({
  name: kind,
  kind,
  params: {},
  cv: { cost: { mean: cost, std }, auc: { mean: 0.8, std: 0.05 } },
  test: {},
});

describe("chooseCandidate", () => {
  it("keeps the lowest cost when the others are clearly worse", () => {
    const c = [candidate("logreg", 0.6), candidate("gbdt", 0.58), candidate("blend", 0.5)];
    expect(chooseCandidate(c, 10)).toBe("blend");
  });

  it("prefers the simplest candidate within one standard error of the lowest cost", () => {
    // SE = 0.1 / √10 ≈ 0.0316: logreg (0.52) is within it, gbdt is too but is less simple.
    const c = [
      candidate("blend", 0.5),
      candidate("forest", 0.51),
      candidate("gbdt", 0.515),
      candidate("logreg", 0.52),
    ];
    expect(chooseCandidate(c, 10)).toBe("logreg");
    expect(chooseCandidate(c, 1000)).toBe("blend");
  });

  it("among candidates of the same kind within the band, keeps the cheaper", () => {
    const c = [
      candidate("gbdt", 0.53),
      { ...candidate("gbdt", 0.52), name: "gbdt (runner-up 1)" },
      candidate("blend", 0.515),
    ];
    expect(chooseCandidate(c, 10)).toBe("gbdt (runner-up 1)");
  });
});

describe("training budget", () => {
  it("uses every row up to TUNE_ROWS and a 3-fold subsample above, keeping explicit options", () => {
    expect(trainingBudget(800)).toEqual({
      trainRows: 800,
      tuneRows: 800,
      tuneFolds: 5,
      evalFolds: 5,
      evalRepeats: 2,
      runnersUp: 1,
    });
    expect(trainingBudget(TUNE_ROWS).tuneRows).toBe(TUNE_ROWS);
    expect(trainingBudget(120_000)).toEqual({
      trainRows: 120_000,
      tuneRows: TUNE_ROWS,
      tuneFolds: 3,
      evalFolds: 3,
      evalRepeats: 1,
      runnersUp: 0,
    });
    expect(trainingBudget(120_000, { evalFolds: 4, runnersUp: 2 })).toMatchObject({
      evalFolds: 4,
      evalRepeats: 1,
      runnersUp: 2,
    });
  });

  it("tunes on a stratified subsample when the training part is larger than tuneRows", async () => {
    const data = (
      await readDataset(new URL("../../../data/credit-g.arff", import.meta.url).pathname)
    ).table;
    const fit = vi.spyOn(ALGORITHMS.logreg, "fit");
    try {
      const result = await trainModel({
        data,
        trials: 2,
        seed: 3,
        candidates: ["logreg"],
        tuneRows: 300,
        threads: 1,
      });
      expect(result.budget).toEqual({
        trainRows: 800,
        tuneRows: 267,
        tuneFolds: 3,
        evalFolds: 3,
        evalRepeats: 1,
        runnersUp: 0,
      });
      // 2 trials × 3 folds on a third of the 800 training rows (267; 178 per training fold),
      // then the pipeline's fits for 3 evaluation folds, the test set and the final model.
      const sizes = fit.mock.calls.map((c) => c[0].n);
      expect(sizes.slice(0, 6)).toEqual([178, 178, 178, 178, 178, 178]);
      // Stratified: 30 % bad, as in the whole data.
      const tuned = fit.mock.calls.slice(0, 6).map((c) => c[0].y.reduce((a, b) => a + b, 0));
      for (const bad of tuned) expect(Math.abs(bad - 0.3 * 178)).toBeLessThanOrEqual(1);
      // The final model: all 1,000 rows, then its 3 inner calibration folds.
      expect(sizes.at(-4)).toBe(1000);
      expect(result.candidates.map((c) => c.name)).toEqual(["logreg"]);
    } finally {
      fit.mockRestore();
    }
  });
});
