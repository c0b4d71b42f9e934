import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../core/rng.js";
import { DEFAULT_DATA_PATH, readDataset, defaultSpec } from "../data/index.js";
import { decisionValues, newDecisionId, toDecisionRow } from "../decisions/index.js";
import { type ModelKind, fitPipeline } from "../ml/index.js";
import type { LabeledTable } from "../ml/types.js";
import { type DecisionContext, DecisionEncoder, decision } from "./decide.js";
import { decideBatch } from "./scoring-jobs.js";
import { Scorer } from "./scoring.js";

const GERMAN = defaultSpec();

let data: LabeledTable;
const scorers = new Map<ModelKind, Scorer>();

beforeAll(async () => {
  data = (await readDataset(DEFAULT_DATA_PATH)).table;
  for (const kind of ["logreg", "gbdt"] as const) {
    const pipeline = fitPipeline(data, { kind, params: { gbdt: { nRounds: 40 } } }, new Rng(3));
    scorers.set(kind, new Scorer({ name: "credit", version: 2, pipeline, spec: GERMAN }));
  }
});

const context: DecisionContext = {
  requestId: "req-7",
  createdAt: 1_700_000_000_123,
  source: "file",
  batchId: "0190a6e2-5b1c-7a3f-9d2e-4c8b1a7f3e60",
};

describe("DecisionEncoder", () => {
  it("makes exactly the tuple of decisionValues(toDecisionRow(decision(…))) for every row", () => {
    for (const [kind, scorer] of scorers) {
      const encoder = new DecisionEncoder(scorer);
      const values = new Float64Array(data.columns.length);
      let bad = 0;
      for (let i = 0; i < data.n; i++) {
        for (let j = 0; j < values.length; j++) values[j] = data.columns[j][i];
        const explainGood = i % 2 === 0;
        // Extra columns with characters JSON must escape, and none on some rows.
        const extras =
          i % 3 === 0 ? undefined : { note: `"quoted" \\ line\nbreak ${i}`, "client id": `é${i}` };
        const at = { id: newDecisionId(), rowNumber: i + 1, extras };
        const expected = decisionValues(
          toDecisionRow(decision(scorer, scorer.score(values, explainGood), values, context, at)),
        );
        const got = encoder.encode(values, explainGood, context, at);
        expect(got, `${kind} row ${i + 1}`).toEqual(expected);
        if (got[9] === "bad") bad++;
      }
      // Both classes occur, so both the reasons and their absence were compared.
      expect(bad).toBeGreaterThan(0);
      expect(bad).toBeLessThan(data.n);
    }
  });

  it("scores a batch in row order with the caller's ids and row numbers", () => {
    const scorer = scorers.get("gbdt") as Scorer;
    const n = 50;
    const columns = data.columns.map((c) => Float64Array.from(c.subarray(0, n)));
    const ids = Array.from({ length: n }, () => newDecisionId());
    const rows = decideBatch(new DecisionEncoder(scorer), {
      columns,
      n,
      rowNumbers: Int32Array.from({ length: n }, (_, i) => 2 * i + 1),
      ids,
      extras: { header: [], values: [] },
      context,
      explainGood: false,
    });
    expect(rows.map((r) => r[0])).toEqual(ids);
    expect(rows.map((r) => r[4])).toEqual(Array.from({ length: n }, (_, i) => 2 * i + 1));
    for (const r of rows) {
      // Refusals carry their reasons; accepted applicants none (not asked for).
      const reasons = JSON.parse(r[13] as string) as unknown[];
      if (r[9] === "bad") expect(reasons.length).toBeGreaterThan(0);
      else expect(reasons).toEqual([]);
    }
  });
});
