import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { newDecisionId } from "./decision-id.js";
import {
  DECISION_COLUMNS,
  decisionValues,
  fromDecisionRow,
  toDecisionRow,
} from "./decision-rows.js";
import type { NewDecision } from "./types.js";

const DECISION: NewDecision = {
  id: newDecisionId(),
  createdAt: 1_700_000_000_000,
  requestId: "req-1",
  batchId: "batch-1",
  rowNumber: 4,
  source: "file",
  modelName: "credit",
  modelVersion: 2,
  input: { age: 30, purpose: "car (new)" },
  risk: "bad",
  probabilityBad: 0.7,
  confidence: 0.7,
  threshold: 0.5,
  reasons: ["age"],
  explanation: { age: 0.1 },
};

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof AppError ? `${e.code}: ${e.message}` : String(e);
  }
  return undefined;
}

describe("decision rows", () => {
  it("lists a row's values in DECISION_COLUMNS order (the worker binds them by position)", () => {
    const row = toDecisionRow(DECISION);
    expect(decisionValues(row)).toEqual(DECISION_COLUMNS.map((c) => row[c]));
    expect(new Set(decisionValues(row)).size).toBe(DECISION_COLUMNS.length - 1); // 0.7 twice
  });

  it("serialises JSON once and reads it back", () => {
    const row = toDecisionRow(DECISION);
    expect(row.input).toBe('{"age":30,"purpose":"car (new)"}');
    expect(
      fromDecisionRow({ ...row, outcome: null, recorded_at: null, recorded_by: null }),
    ).toEqual({ ...DECISION, scoredBy: null, erasedAt: null, outcome: null });
  });

  it("names the field a malformed decision gets wrong", () => {
    const cases: [Partial<NewDecision>, RegExp][] = [
      [{ id: "1" }, /^INVALID_ARGUMENT: id /],
      [{ createdAt: 1.5 }, /createdAt/],
      [{ requestId: "" }, /requestId/],
      [{ rowNumber: 0 }, /rowNumber/],
      [{ batchId: null, rowNumber: 3 }, /rowNumber .* null/],
      [{ source: "fax" as never }, /source .* api, file, form/],
      [{ modelVersion: 0 }, /modelVersion/],
      [{ input: [] as never }, /input/],
      [{ risk: "ok" as never }, /risk/],
      [{ probabilityBad: 1.2 }, /probabilityBad/],
      [{ confidence: Number.NaN }, /confidence/],
      [{ threshold: "0.5" as never }, /threshold/],
      [{ reasons: "age" as never }, /reasons/],
      [{ explanation: { n: 1n } }, /explanation .* not JSON/],
    ];
    for (const [change, message] of cases) {
      expect(codeOf(() => toDecisionRow({ ...DECISION, ...change }))).toMatch(message);
    }
    expect(codeOf(() => toDecisionRow({ ...DECISION, explanation: undefined }))).toBeUndefined();
  });
});
