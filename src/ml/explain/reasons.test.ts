import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset, defaultSpec, featureColumns } from "../../data/index.js";
import { fitPipeline } from "../pipeline/pipeline.js";
import type { LabeledTable } from "../types.js";
import { type Explanation, createExplainer } from "./explainer.js";
import { topReasons } from "./reasons.js";

const GERMAN = defaultSpec();
const GERMAN_COLUMNS = featureColumns(GERMAN);

let data: LabeledTable;

beforeAll(async () => {
  data = (await readDataset(DEFAULT_DATA_PATH)).table;
});

const NAMES = GERMAN_COLUMNS.map((c) => c.name);

/** An explanation with chosen contributions (by feature name; others 0). */
function explanation(parts: Record<string, number>): Explanation {
  const contributions = Float64Array.from(NAMES, (n) => parts[n] ?? 0);
  return { space: "log-odds", base: 0, contributions, raw: 0, method: "test", features: NAMES };
}

/** The second applicant of the data: 0–200 DM checking, 48 months, 5951 DM, age 22. */
function applicant(): Float64Array {
  return Float64Array.from(data.columns, (c) => c[1]);
}

describe("topReasons", () => {
  it("the largest positive contributions, with readable labels, values and units", () => {
    const x = applicant();
    const e = explanation({
      duration: 0.8,
      checking_status: 0.5,
      credit_amount: 0.2,
      age: -0.9,
      savings_status: 0.1,
    });
    const reasons = topReasons(e, x, GERMAN);
    expect(reasons).toEqual([
      {
        feature: "duration",
        label: "Duration",
        value: 48,
        valueLabel: "48 months",
        contribution: 0.8,
        text: "Duration: 48 months",
      },
      {
        feature: "checking_status",
        label: "Checking account",
        value: "0<=X<200",
        valueLabel: "0 to 200 DM",
        contribution: 0.5,
        text: "Checking account: 0 to 200 DM",
      },
      {
        feature: "credit_amount",
        label: "Credit amount",
        value: 5951,
        valueLabel: "5951 DM",
        contribution: 0.2,
        text: "Credit amount: 5951 DM",
      },
    ]);
    expect(topReasons(e, x, GERMAN, 1).map((r) => r.feature)).toEqual(["duration"]);
    expect(topReasons(e, x, GERMAN, 10).map((r) => r.feature)).toEqual([
      "duration",
      "checking_status",
      "credit_amount",
      "savings_status",
    ]);
  });

  it("only positive contributions; ties keep the feature order; a number without a unit", () => {
    const x = applicant();
    expect(topReasons(explanation({ age: -1, duration: 0 }), x, GERMAN)).toEqual([]);
    const tied = explanation({ installment_commitment: 0.3, purpose: 0.3, checking_status: 0.3 });
    const reasons = topReasons(tied, x, GERMAN);
    expect(reasons.map((r) => r.feature)).toEqual([
      "checking_status",
      "purpose",
      "installment_commitment",
    ]);
    expect(reasons[2].text).toBe("Instalment rate: 2");
    expect(reasons[1].text).toBe("Purpose: radio or television");
  });

  it("an unknown category and a model feature missing from the schema", () => {
    const x = applicant();
    x[0] = 9;
    const [r] = topReasons(explanation({ checking_status: 1 }), x, GERMAN);
    expect(r.valueLabel).toBe("unknown");
    expect(r.value).toBe(9);
    const renamed = { ...explanation({ duration: 1 }), features: NAMES.map((n) => `x_${n}`) };
    expect(() => topReasons(renamed, x, GERMAN)).toThrow(
      /not a feature column of the dataset spec "german-credit"/,
    );
  });

  it("from a fitted model: each reason is a feature that raised this applicant's risk", () => {
    const pipeline = fitPipeline(
      data,
      { kind: "gbdt", params: { gbdt: { nRounds: 60 } } },
      new Rng(1),
    );
    const explainer = createExplainer(pipeline);
    const x = applicant();
    const e = explainer.explain(x);
    const reasons = topReasons(e, x, GERMAN);
    expect(reasons.length).toBe(3);
    for (let j = 0; j < reasons.length; j++) {
      const f = NAMES.indexOf(reasons[j].feature);
      expect(reasons[j].contribution).toBe(e.contributions[f]);
      expect(reasons[j].contribution).toBeGreaterThan(0);
      if (j > 0) expect(reasons[j].contribution).toBeLessThanOrEqual(reasons[j - 1].contribution);
    }
    const third = reasons[2].contribution;
    const above = Array.from(e.contributions).filter((c) => c > third).length;
    expect(above).toBe(2);
  });
});
