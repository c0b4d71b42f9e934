import { featureColumns } from "../data/index.js";
import type { DecisionSource, DecisionTuple } from "../decisions/index.js";
import type { Reason } from "../ml/index.js";
import { type Scorer, topReasonsBuffer } from "./scorer.js";

/** What every decision of one request shares. */
export interface DecisionContext {
  readonly requestId: string;
  readonly createdAt: number;
  readonly source: DecisionSource;
  /** The array or file the decisions belong to; null for a single applicant. */
  readonly batchId: string | null;
  /** The user who scores (null: not known). */
  readonly scoredBy: string | null;
}

/** Which registered model version decides. */
export interface DecidingModel {
  readonly name: string;
  readonly version: number;
}

/** Where one decision sits: its id, its row in the array or file, columns passed through. */
export interface DecisionPlace {
  readonly id: string;
  readonly rowNumber: number | null;
  readonly extras?: Record<string, string>;
}

/**
 * Scores an applicant and encodes its decision as the decision log's row (the values of
 * `DECISION_COLUMNS`, the same as `decisionValues(toDecisionRow(…))` of the decision; a test
 * holds them equal row for row). The one encoder of decisions, on every path: the JSON of the
 * input and of the reasons is joined from pieces made once per spec and category, without
 * building the objects. A 100,000-row file spends much of its time here otherwise; no JSON
 * library serialises a fixed shape faster than a template.
 */
export class DecisionEncoder {
  /** Per feature column: `"name":` with its separator. */
  private readonly keys: string[];
  /** Per categorical column: each category's value as JSON; null for numeric columns. */
  private readonly categories: (string[] | null)[];
  /** Per categorical column and category: a reason's JSON before and after its contribution. */
  private readonly reasonParts: ([string, string][] | null)[];
  private readonly top = topReasonsBuffer();

  constructor(
    private readonly scorer: Scorer,
    private readonly model: DecidingModel,
  ) {
    const columns = featureColumns(scorer.spec);
    this.keys = columns.map((c, j) => `${j === 0 ? "{" : ","}${JSON.stringify(c.name)}:`);
    this.categories = columns.map((c) =>
      c.kind === "categorical" ? c.values.map((v) => JSON.stringify(v.value)) : null,
    );
    this.reasonParts = columns.map((c, j) =>
      c.kind === "categorical" ? c.values.map((_, v) => reasonParts(scorer.reason(j, v, 0))) : null,
    );
  }

  /** Scores one applicant (`values` as the validator produces them) and encodes its decision. */
  encode(
    values: ArrayLike<number>,
    explainGood: boolean,
    context: DecisionContext,
    at: DecisionPlace,
  ): DecisionTuple {
    const { keys, categories, scorer, top } = this;
    const probabilityBad = scorer.scoreInto(values, explainGood, top);
    const { risk, confidence } = scorer.classify(probabilityBad);
    let input = "";
    for (let j = 0; j < keys.length; j++) {
      const names = categories[j];
      const v = values[j];
      // A missing value (NaN) is null.
      input += keys[j] + (v !== v ? "null" : names === null ? JSON.stringify(v) : names[v]);
    }
    if (at.extras) {
      const extra = JSON.stringify(at.extras);
      if (extra.length > 2) input += `,${extra.slice(1, -1)}`;
    }
    input += "}";
    let reasons = "[";
    for (let r = 0; r < top.count; r++) {
      const f = top.features[r];
      const x = values[f];
      const [head, tail] = this.reasonParts[f]?.[x] ?? reasonParts(scorer.reason(f, x, 0));
      reasons += `${r === 0 ? "" : ","}${head}${JSON.stringify(top.contributions[r])}${tail}`;
    }
    reasons += "]";
    // The order of DECISION_COLUMNS.
    return [
      at.id,
      context.createdAt,
      context.requestId,
      context.batchId,
      context.batchId === null ? null : at.rowNumber,
      context.source,
      this.model.name,
      this.model.version,
      input,
      risk,
      probabilityBad,
      confidence,
      scorer.threshold,
      reasons,
      null,
      context.scoredBy,
    ];
  }
}

/** A reason's JSON (keys in `Reason` order) split around its contribution. */
function reasonParts(r: Reason): [string, string] {
  return [
    `{"feature":${JSON.stringify(r.feature)},"label":${JSON.stringify(r.label)},"value":${JSON.stringify(r.value)},"valueLabel":${JSON.stringify(r.valueLabel)},"contribution":`,
    `,"text":${JSON.stringify(r.text)}}`,
  ];
}
