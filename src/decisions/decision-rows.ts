import { AppError } from "../core/errors.js";
import { isDecisionId } from "./decision-id.js";
import {
  DECISION_SOURCES,
  type Decision,
  type DecisionRow,
  type DecisionSource,
  type DecisionTuple,
  type NewDecision,
  type Outcome,
  RISKS,
  type Risk,
} from "./types.js";

/** The `decisions` columns in insert order (see `decisionValues`). */
export const DECISION_COLUMNS = [
  "id",
  "created_at",
  "request_id",
  "batch_id",
  "row_number",
  "source",
  "model_name",
  "model_version",
  "input",
  "risk",
  "probability_bad",
  "confidence",
  "threshold",
  "reasons",
  "explanation",
  "scored_by",
] as const satisfies readonly (keyof DecisionRow)[];

/** A row's values in `DECISION_COLUMNS` order: half the cost of an object to pass to a worker. */
export function decisionValues(r: DecisionRow): DecisionTuple {
  return [
    r.id,
    r.created_at,
    r.request_id,
    r.batch_id,
    r.row_number,
    r.source,
    r.model_name,
    r.model_version,
    r.input,
    r.risk,
    r.probability_bad,
    r.confidence,
    r.threshold,
    r.reasons,
    r.explanation,
    r.scored_by,
  ];
}

/** The row of a `decisionValues` tuple. */
export function fromDecisionValues(t: DecisionTuple): DecisionRow {
  const row: Record<string, unknown> = {};
  DECISION_COLUMNS.forEach((c, i) => (row[c] = t[i]));
  return row as unknown as DecisionRow;
}

/** Where a field sits in a `decisionValues` tuple. */
export const TUPLE_INDEX = Object.fromEntries(DECISION_COLUMNS.map((c, i) => [c, i])) as Record<
  (typeof DECISION_COLUMNS)[number],
  number
>;

function invalid(field: string, d: { id?: unknown }, why: string): never {
  const which = typeof d.id === "string" ? ` of decision ${d.id}` : "";
  throw new AppError("INVALID_ARGUMENT", `${field}${which} ${why}`);
}

function isText(v: unknown): v is string {
  return typeof v === "string" && v.length > 0;
}

function checkUnit(field: string, d: NewDecision, v: unknown): number {
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) invalid(field, d, "must be a number in [0, 1]");
  return v;
}

function toJson(field: string, d: NewDecision, v: unknown): string {
  try {
    const text = JSON.stringify(v);
    if (text === undefined) invalid(field, d, "is not JSON");
    return text;
  } catch (e) {
    if (e instanceof AppError) throw e;
    return invalid(field, d, `is not JSON: ${(e as Error).message}`);
  }
}

/**
 * Validates a decision and turns it into its table row (JSON fields serialised once, here).
 * Throws INVALID_ARGUMENT naming the field.
 */
export function toDecisionRow(d: NewDecision): DecisionRow {
  if (!isDecisionId(d.id)) invalid("id", d, "must be a lowercase UUID (use newDecisionId())");
  if (!Number.isSafeInteger(d.createdAt) || d.createdAt < 0) {
    invalid("createdAt", d, "must be integer milliseconds since the epoch");
  }
  if (!isText(d.requestId)) invalid("requestId", d, "must be a non-empty string");
  if (d.batchId === null || d.batchId === undefined) {
    if (d.rowNumber !== null && d.rowNumber !== undefined) {
      invalid("rowNumber", d, "must be null for a decision outside a batch");
    }
  } else {
    if (!isText(d.batchId)) invalid("batchId", d, "must be a non-empty string or null");
    if (!Number.isSafeInteger(d.rowNumber) || (d.rowNumber as number) < 1) {
      invalid("rowNumber", d, "must be a 1-based row number within the batch");
    }
  }
  if (!DECISION_SOURCES.includes(d.source)) {
    invalid("source", d, `must be one of ${DECISION_SOURCES.join(", ")}`);
  }
  if (!isText(d.modelName)) invalid("modelName", d, "must be a non-empty string");
  if (!Number.isSafeInteger(d.modelVersion) || d.modelVersion < 1) {
    invalid("modelVersion", d, "must be a positive integer");
  }
  if (typeof d.input !== "object" || d.input === null || Array.isArray(d.input)) {
    invalid("input", d, "must be an object of applicant fields");
  }
  if (!RISKS.includes(d.risk)) invalid("risk", d, `must be one of ${RISKS.join(", ")}`);
  if (!Array.isArray(d.reasons)) invalid("reasons", d, "must be an array");
  return {
    id: d.id,
    created_at: d.createdAt,
    request_id: d.requestId,
    batch_id: d.batchId ?? null,
    row_number: d.batchId == null ? null : d.rowNumber,
    source: d.source,
    model_name: d.modelName,
    model_version: d.modelVersion,
    input: toJson("input", d, d.input),
    risk: d.risk,
    probability_bad: checkUnit("probabilityBad", d, d.probabilityBad),
    confidence: checkUnit("confidence", d, d.confidence),
    threshold: checkUnit("threshold", d, d.threshold),
    reasons: toJson("reasons", d, d.reasons),
    explanation:
      d.explanation === null || d.explanation === undefined
        ? null
        : toJson("explanation", d, d.explanation),
    erased_at: null,
    scored_by: d.scoredBy ?? null,
  };
}

/** A `decisions` row joined with its (nullable) outcome columns. */
export interface DecisionWithOutcomeRow extends DecisionRow {
  outcome: string | null;
  recorded_at: number | null;
  recorded_by: string | null;
}

export function fromDecisionRow(row: DecisionWithOutcomeRow): Decision {
  return {
    id: row.id,
    createdAt: Number(row.created_at),
    requestId: row.request_id,
    batchId: row.batch_id,
    rowNumber: row.row_number,
    source: row.source as DecisionSource,
    scoredBy: row.scored_by ?? null,
    modelName: row.model_name,
    modelVersion: row.model_version,
    input: JSON.parse(row.input) as Record<string, unknown>,
    risk: row.risk as Risk,
    probabilityBad: row.probability_bad,
    confidence: row.confidence,
    threshold: row.threshold,
    reasons: JSON.parse(row.reasons) as unknown[],
    explanation: row.explanation === null ? null : (JSON.parse(row.explanation) as unknown),
    erasedAt: row.erased_at === null || row.erased_at === undefined ? null : Number(row.erased_at),
    outcome:
      row.outcome === null
        ? null
        : {
            decisionId: row.id,
            outcome: row.outcome as Risk,
            recordedAt: Number(row.recorded_at),
            recordedBy: row.recorded_by ?? "",
          },
  };
}

export function toOutcome(row: {
  decision_id: string;
  outcome: string;
  recorded_at: number;
  recorded_by: string;
}): Outcome {
  return {
    decisionId: row.decision_id,
    outcome: row.outcome as Risk,
    recordedAt: Number(row.recorded_at),
    recordedBy: row.recorded_by,
  };
}
