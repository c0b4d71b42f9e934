import { describe, expect, it } from "vitest";
import { type DatasetSpec, defaultSpec } from "../data/index.js";
import { type FairnessRow, SMALL_GROUP, compare, fairnessOf } from "./fairness.js";

const GERMAN = defaultSpec();

/** A German-credit row of fairness: the values its groups read. */
function german(
  age: number,
  foreignWorker: string,
  approved: boolean,
  outcome: FairnessRow["outcome"],
): FairnessRow {
  return {
    values: { age, foreign_worker: foreignWorker, personal_status: "male single" },
    approved,
    outcome,
  };
}

/** `n` rows of one kind. */
function rows(n: number, row: FairnessRow): FairnessRow[] {
  return Array.from({ length: n }, () => row);
}

describe("fairness", () => {
  it("computes approval-rate ratio and equal-opportunity difference with counts", () => {
    // Under 25: 40 decisions, 20 approved; 20 known good outcomes, 12 of them approved.
    const young = [
      ...rows(12, german(22, "no", true, "good")),
      ...rows(8, german(22, "no", false, "good")),
      ...rows(8, german(23, "no", true, null)),
      ...rows(12, german(23, "no", false, "bad")),
    ];
    // 25 and over: 100 decisions, 80 approved; 50 good outcomes, 45 approved.
    const older = [
      ...rows(45, german(40, "no", true, "good")),
      ...rows(5, german(40, "no", false, "good")),
      ...rows(35, german(50, "no", true, null)),
      ...rows(15, german(50, "no", false, "bad")),
    ];
    const [age, foreign, sex] = fairnessOf(GERMAN.fairness, [...young, ...older]);
    expect(age.attribute).toBe("age");
    expect(age.label).toBe("Age band");
    expect(age.group).toMatchObject({
      group: "under 25",
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
      "no decisions for foreign worker: no approval-rate ratio",
      "no known good outcome for foreign worker: no equal-opportunity difference",
    ]);
    // Everyone is a man: women are compared with them, and there are none.
    expect(sex).toMatchObject({ attribute: "personal_status", label: "Sex" });
    expect(sex.group).toMatchObject({ group: "female", decisions: 0 });
    expect(sex.reference).toMatchObject({ group: "male", decisions: 140 });
  });

  it("compares every group of a spec's attributes with its reference; missing values count in none", () => {
    const spec: Pick<DatasetSpec, "fairness"> = {
      fairness: [
        {
          column: "AGE",
          label: "Age",
          groups: [
            { name: "under 30", max: 30 },
            { name: "30 to 59", min: 30, max: 60 },
            { name: "60 or older", min: 60 },
          ],
          reference: "30 to 59",
        },
        {
          column: "SEX",
          label: "Sex",
          groups: [
            { name: "women", values: ["2"] },
            { name: "men", values: ["1"] },
          ],
          reference: "men",
        },
      ],
    };
    const row = (age: unknown, sex: unknown, approved: boolean): FairnessRow => ({
      values: { AGE: age, SEX: sex },
      approved,
      outcome: null,
    });
    const all = [
      ...rows(10, row(25, "2", true)),
      ...rows(10, row(25, "2", false)),
      ...rows(40, row(30, "1", true)),
      ...rows(10, row(59.5, "1", false)),
      ...rows(3, row(60, "1", true)),
      ...rows(5, row(null, null, true)), // missing: in no group of either attribute
      ...rows(2, row(Number.NaN, "9", true)), // an unlisted value: in no group
    ];
    const [young, old, women] = fairnessOf(spec.fairness, all);
    expect(young.group).toMatchObject({ group: "under 30", decisions: 20, approved: 10 });
    expect(young.reference).toMatchObject({ group: "30 to 59", decisions: 50, approved: 40 });
    expect(young.approvalRateRatio).toBeCloseTo(0.5 / 0.8, 12);
    expect(old.group).toMatchObject({ group: "60 or older", decisions: 3, small: true });
    expect(old.approvalRateRatio).toBeCloseTo(1 / 0.8, 12);
    expect(women).toMatchObject({ attribute: "SEX", label: "Sex" });
    expect(women.group.decisions).toBe(20);
    expect(women.reference.decisions).toBe(53);
    expect(fairnessOf(spec.fairness, all)).toHaveLength(3);
  });

  it("flags small groups and refuses a ratio over a reference that approves nobody", () => {
    const few = rows(SMALL_GROUP - 1, german(30, "yes", true, "good"));
    const refused = rows(50, german(30, "no", false, "good"));
    const c = compare("foreign_worker", "yes", few, "no", refused);
    expect(c.group.small).toBe(true);
    expect(c.reference.small).toBe(false);
    expect(c.approvalRateRatio).toBeNull();
    expect(c.why).toEqual(["no has no approval: the approval-rate ratio is undefined"]);
    // The true-positive rates exist (1 and 0): the difference is defined.
    expect(c.equalOpportunityDifference).toBe(1);
  });
});
