import { describe, expect, it } from "vitest";
import { type FairnessRow, SMALL_GROUP, compare, creditFairness } from "./fairness.js";

/** `n` rows of one kind. */
function rows(n: number, row: FairnessRow): FairnessRow[] {
  return Array.from({ length: n }, () => row);
}

describe("fairness", () => {
  it("computes approval-rate ratio and equal-opportunity difference with counts", () => {
    // Under 25: 40 decisions, 20 approved; 20 known good outcomes, 12 of them approved.
    const young = [
      ...rows(12, { age: 22, foreignWorker: "no", approved: true, outcome: "good" }),
      ...rows(8, { age: 22, foreignWorker: "no", approved: false, outcome: "good" }),
      ...rows(8, { age: 23, foreignWorker: "no", approved: true, outcome: null }),
      ...rows(12, { age: 23, foreignWorker: "no", approved: false, outcome: "bad" }),
    ];
    // 25 and over: 100 decisions, 80 approved; 50 good outcomes, 45 approved.
    const older = [
      ...rows(45, { age: 40, foreignWorker: "no", approved: true, outcome: "good" }),
      ...rows(5, { age: 40, foreignWorker: "no", approved: false, outcome: "good" }),
      ...rows(35, { age: 50, foreignWorker: "no", approved: true, outcome: null }),
      ...rows(15, { age: 50, foreignWorker: "no", approved: false, outcome: "bad" }),
    ];
    const [age, foreign] = creditFairness([...young, ...older]);
    expect(age.attribute).toBe("age");
    expect(age.group).toMatchObject({
      group: "< 25",
      decisions: 40,
      approved: 20,
      approvalRate: 0.5,
      goodOutcomes: 20,
      truePositiveRate: 0.6,
      small: false,
    });
    expect(age.reference).toMatchObject({ decisions: 100, approvalRate: 0.8 });
    expect(age.approvalRateRatio).toBeCloseTo(0.625, 12);
    expect(age.equalOpportunityDifference).toBeCloseTo(0.6 - 0.9, 12);
    expect(age.why).toEqual([]);
    // Nobody is a foreign worker: the comparison says so instead of inventing numbers.
    expect(foreign.group.decisions).toBe(0);
    expect(foreign.group.small).toBe(true);
    expect(foreign.approvalRateRatio).toBeNull();
    expect(foreign.equalOpportunityDifference).toBeNull();
    expect(foreign.why).toEqual([
      "no decisions for yes: no approval-rate ratio",
      "no known good outcome for yes: no equal-opportunity difference",
    ]);
  });

  it("flags small groups and refuses a ratio over a reference that approves nobody", () => {
    const few = rows(SMALL_GROUP - 1, {
      age: 30,
      foreignWorker: "yes",
      approved: true,
      outcome: "good",
    });
    const refused = rows(50, { age: 30, foreignWorker: "no", approved: false, outcome: "good" });
    const c = compare("foreign_worker", "yes", few, "no", refused);
    expect(c.group.small).toBe(true);
    expect(c.reference.small).toBe(false);
    expect(c.approvalRateRatio).toBeNull();
    expect(c.why).toEqual(["no has no approval: the approval-rate ratio is undefined"]);
    // The true-positive rates exist (1 and 0): the difference is defined.
    expect(c.equalOpportunityDifference).toBe(1);
  });
});
