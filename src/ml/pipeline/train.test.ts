import { describe, expect, it } from "vitest";
import { type CandidateReport, chooseCandidate } from "./train.js";

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
