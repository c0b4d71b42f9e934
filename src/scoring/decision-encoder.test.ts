import { Readable } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { Rng } from "../core/rng.js";
import {
  DEFAULT_DATA_PATH,
  defaultSpec,
  featureColumns,
  readApplicants,
  readDataset,
} from "../data/index.js";
import {
  type DecisionTuple,
  type NewDecision,
  TUPLE_INDEX,
  decisionValues,
  newDecisionId,
  toDecisionRow,
} from "../decisions/index.js";
import {
  type FittedPipeline,
  type ModelKind,
  explainRow,
  fitPipeline,
  reasonFor,
  topFeatures,
} from "../ml/index.js";
import type { LabeledTable } from "../ml/types.js";
import { Decider, type DecisionSink } from "./decider.js";
import { type DecisionContext, DecisionEncoder } from "./decision-encoder.js";
import { decideBatch } from "./jobs.js";
import { REASONS, Scorer } from "./scorer.js";

const GERMAN = defaultSpec();

let data: LabeledTable;
const pipelines = new Map<ModelKind, FittedPipeline>();

beforeAll(async () => {
  data = (await readDataset(DEFAULT_DATA_PATH)).table;
  for (const kind of ["logreg", "gbdt"] as const) {
    pipelines.set(kind, fitPipeline(data, { kind, params: { gbdt: { nRounds: 40 } } }, new Rng(3)));
  }
});

const context: DecisionContext = {
  requestId: "req-7",
  createdAt: 1_700_000_000_123,
  source: "file",
  batchId: "0190a6e2-5b1c-7a3f-9d2e-4c8b1a7f3e60",
  scoredBy: "clara",
};

/** The decision built the long way, from the model and the spec, without the encoder. */
function expectedDecision(
  pipeline: FittedPipeline,
  values: Float64Array,
  explainGood: boolean,
  at: { id: string; rowNumber: number; extras?: Record<string, string> },
): NewDecision {
  const p = pipeline.predictProbaRow(values);
  const bad = p >= pipeline.threshold;
  const contributions = explainRow(pipeline, values).contributions;
  const reasons =
    bad || explainGood
      ? topFeatures(contributions, REASONS).map((f) =>
          reasonFor(GERMAN, pipeline.features[f].name, values[f], contributions[f]),
        )
      : [];
  const input: Record<string, unknown> = {};
  featureColumns(GERMAN).forEach((c, j) => {
    input[c.name] = c.kind === "categorical" ? c.values[values[j]].value : values[j];
  });
  return {
    id: at.id,
    createdAt: context.createdAt,
    requestId: context.requestId,
    batchId: context.batchId,
    rowNumber: at.rowNumber,
    source: context.source,
    scoredBy: context.scoredBy,
    modelName: "credit",
    modelVersion: 2,
    input: { ...input, ...at.extras },
    risk: bad ? "bad" : "good",
    probabilityBad: p,
    confidence: bad ? p : 1 - p,
    threshold: pipeline.threshold,
    reasons,
  };
}

describe("DecisionEncoder", () => {
  it("makes exactly the tuple of decisionValues(toDecisionRow(decision)) for every row", () => {
    for (const [kind, pipeline] of pipelines) {
      const encoder = new DecisionEncoder(new Scorer(pipeline, GERMAN), {
        name: "credit",
        version: 2,
      });
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
          toDecisionRow(expectedDecision(pipeline, values, explainGood, at)),
        );
        const got = encoder.encode(values, explainGood, context, at);
        expect(got, `${kind} row ${i + 1}`).toEqual(expected);
        if (got[TUPLE_INDEX.risk] === "bad") bad++;
      }
      // Both classes occur, so both the reasons and their absence were compared.
      expect(bad).toBeGreaterThan(0);
      expect(bad).toBeLessThan(data.n);
    }
  });

  it("scores a batch in row order with the caller's ids and row numbers", () => {
    const encoder = new DecisionEncoder(new Scorer(pipelines.get("gbdt")!, GERMAN), {
      name: "credit",
      version: 2,
    });
    const n = 50;
    const columns = data.columns.map((c) => Float64Array.from(c.subarray(0, n)));
    const ids = Array.from({ length: n }, () => newDecisionId());
    const rows = decideBatch(encoder, {
      columns,
      n,
      rowNumbers: Int32Array.from({ length: n }, (_, i) => 2 * i + 1),
      ids,
      extras: { header: [], values: [] },
      context,
      explainGood: false,
    });
    expect(rows.map((r) => r[TUPLE_INDEX.id])).toEqual(ids);
    expect(rows.map((r) => r[TUPLE_INDEX.row_number])).toEqual(
      Array.from({ length: n }, (_, i) => 2 * i + 1),
    );
    for (const r of rows) {
      // Refusals carry their reasons; accepted applicants none (not asked for).
      const reasons = JSON.parse(r[TUPLE_INDEX.reasons] as string) as unknown[];
      if (r[TUPLE_INDEX.risk] === "bad") expect(reasons.length).toBeGreaterThan(0);
      else expect(reasons).toEqual([]);
    }
  });
});

describe("Scorer", () => {
  it("refuses a model whose features are not its spec's feature columns", () => {
    const spec = { ...GERMAN, columns: GERMAN.columns.filter((c) => c.name !== "duration") };
    expect(() => new Scorer(pipelines.get("logreg")!, spec)).toThrow(
      /model's features .* are not the feature columns of its dataset spec/,
    );
  });
});

/** A decision log stand-in that keeps what it is given. */
function memorySink(): DecisionSink & { rows: DecisionTuple[] } {
  const rows: DecisionTuple[] = [];
  return {
    rows,
    async appendEncoded(r) {
      rows.push(...r);
    },
    async appendStream(chunks) {
      let n = 0;
      for await (const chunk of chunks) {
        rows.push(...chunk);
        n += chunk.length;
      }
      return n;
    },
  };
}

const applicant = {
  checking_status: "<0",
  duration: 24,
  credit_history: "existing paid",
  purpose: "radio/tv",
  credit_amount: 3000,
  savings_status: "<100",
  employment: "1<=X<4",
  installment_commitment: 3,
  personal_status: "male single",
  other_parties: "none",
  residence_since: 2,
  property_magnitude: "car",
  age: 35,
  other_payment_plans: "none",
  housing: "own",
  existing_credits: 1,
  job: "skilled",
  num_dependents: 1,
  own_telephone: "none",
  foreign_worker: "yes",
};

describe("Decider", () => {
  const request = { requestId: "r1", createdAt: 1, source: "api", explainGood: true } as const;

  function decider(sink: DecisionSink, heard: unknown[][] = []): Decider {
    return new Decider(
      { name: "credit", version: 2, pipeline: pipelines.get("gbdt")!, spec: GERMAN },
      sink,
      (...args) => heard.push(args),
    );
  }

  it("logs one valid applicant and tells the observer; an invalid one is refused, naming the field, and not logged", async () => {
    const sink = memorySink();
    const heard: unknown[][] = [];
    const d = decider(sink, heard);
    const made = await d.decideOne(applicant, request);
    expect(sink.rows).toEqual([made]);
    expect(made[TUPLE_INDEX.batch_id]).toBeNull();
    expect(heard).toHaveLength(1);
    expect(heard[0].slice(0, 3)).toEqual([
      made[TUPLE_INDEX.risk],
      "api",
      made[TUPLE_INDEX.probability_bad],
    ]);
    await expect(d.decideOne({ ...applicant, duration: "long" }, request)).rejects.toThrow(
      /duration/,
    );
    expect(sink.rows).toHaveLength(1);
    expect(heard).toHaveLength(1);
  });

  it("logs the valid applicants of an array with their row numbers and lists the others", async () => {
    const sink = memorySink();
    const d = decider(sink);
    const out = await d.decideArray(
      [applicant, { ...applicant, age: -3 }, 7, { ...applicant, duration: 60 }],
      request,
      1,
    );
    expect(out.rows).toBe(4);
    expect(out.scored).toBe(2);
    expect(sink.rows.map((r) => r[TUPLE_INDEX.row_number])).toEqual([1, 4]);
    expect(sink.rows.every((r) => r[TUPLE_INDEX.batch_id] === out.batchId)).toBe(true);
    // `keep` limits what is returned, never what is logged.
    expect(out.decisions).toEqual(sink.rows.slice(0, 1));
    expect(out.errors.map((e) => [e.row, e.column])).toEqual([
      [2, "age"],
      [3, null],
    ]);
    expect(out.bad).toBe(sink.rows.filter((r) => r[TUPLE_INDEX.risk] === "bad").length);
  });

  it("decides a file's rows in order, the same decisions as one at a time", async () => {
    const header = Object.keys(applicant);
    const lines = [header.join(",")];
    const durations = [6, 12, 24, 48, 60, 72];
    for (const duration of durations) {
      const row = { ...applicant, duration };
      lines.push(header.map((h) => JSON.stringify(row[h as keyof typeof row])).join(","));
    }
    lines.push(header.map((h) => (h === "age" ? "old" : "1")).join(","));
    const sink = memorySink();
    const d = decider(sink);
    const file = await d.decideFile(
      readApplicants(Readable.from([Buffer.from(`${lines.join("\n")}\n`)]), {
        spec: GERMAN,
        batchSize: 4,
      }),
      { ...request, source: "file" },
    );
    expect(file.rows).toBe(7);
    expect(file.scored).toBe(6);
    expect(file.errors.some((e) => e.row === 7 && e.column === "age")).toBe(true);
    expect(sink.rows.map((r) => r[TUPLE_INDEX.row_number])).toEqual([1, 2, 3, 4, 5, 6]);
    const one = memorySink();
    for (const duration of durations)
      await decider(one).decideOne({ ...applicant, duration }, request);
    expect(sink.rows.map((r) => r[TUPLE_INDEX.probability_bad])).toEqual(
      one.rows.map((r) => r[TUPLE_INDEX.probability_bad]),
    );
    expect(sink.rows.map((r) => r[TUPLE_INDEX.reasons])).toEqual(
      one.rows.map((r) => r[TUPLE_INDEX.reasons]),
    );
  });
});
