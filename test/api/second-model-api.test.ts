/**
 * Two models on one server, in-process (`app.inject`): German credit as the configured model and
 * a second one trained on credit-approval, chosen with `?model=`. Its schema lists its own
 * columns (which may be missing, typical values); its applicants are scored with missing values
 * and reasons that say so; a wrong one is refused naming its fields; an unknown model is 404, a
 * model with no serving version 503; the default model is untouched.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqlDecisionStore } from "../../src/decisions/index.js";
import { openFlows, triggerFlow } from "../../src/flows/index.js";
import { buildApp } from "../../src/serving/index.js";
import {
  APPROVAL_COLUMNS,
  APPROVAL_MODEL,
  approvalApplicant,
  approvalRows,
  registerUnserved,
  trainApproval,
} from "../browser/approval-fixtures.js";
import {
  COLUMN_NAMES,
  type TrainedWorld,
  creditRows,
  trainedWorld,
} from "../browser/riskometer-fixtures.js";

const UNSERVED = "approval-unserved";

interface SchemaColumn {
  name: string;
  kind: "numeric" | "categorical";
  allowMissing: boolean;
  integer?: boolean;
  values?: { value: string }[];
  typical?: string | number | null;
}

interface Reason {
  feature: string;
  value: string | number | null;
  valueLabel: string;
  text: string;
  contribution: number;
}

interface Prediction {
  id: string;
  row: number;
  risk: string;
  model: { name: string; version: number };
  reasons: Reason[];
}

let world: TrainedWorld;
let app: FastifyInstance;
let approval: { name: string; version: number };
let rows: Record<string, string>[];
let columns: SchemaColumn[];
let numeric: Set<string>;

/** Rows of the file with at least one `?`. */
const withMissing = () => rows.filter((r) => APPROVAL_COLUMNS.some((c) => r[c] === "?"));

async function decisionCount(): Promise<number> {
  return new SqlDecisionStore(world.ctx.database).countDecisions();
}

beforeAll(async () => {
  world = await trainedWorld();
  approval = await trainApproval(world.ctx);
  await registerUnserved(world.ctx, UNSERVED);
  app = await buildApp(world.ctx, { access: "open", modelPollMs: 0 });
  rows = await approvalRows();
  const schema = await app.inject(`/api/v1/schema?model=${APPROVAL_MODEL}`);
  columns = schema.json().columns;
  numeric = new Set(columns.filter((c) => c.kind === "numeric").map((c) => c.name));
}, 120_000);

afterAll(async () => {
  await app?.close();
  await world?.close();
});

describe("the models a client can choose from", () => {
  it("lists each registered model with its aliases and names the default", async () => {
    const res = await app.inject("/api/v1/models");
    expect(res.statusCode).toBe(200);
    const body = res.json() as {
      defaultModel: string;
      models: { name: string; aliases: Record<string, number> }[];
    };
    expect(body.defaultModel).toBe(world.model.name);
    const aliases = Object.fromEntries(body.models.map((m) => [m.name, m.aliases]));
    expect(aliases).toEqual({
      [world.model.name]: { champion: world.model.version },
      [APPROVAL_MODEL]: { champion: approval.version },
      [UNSERVED]: {},
    });
  });
});

describe("the second model's schema", () => {
  it("lists its own columns, missing allowed where the data has `?`, and no German field", async () => {
    const res = await app.inject(`/api/v1/schema?model=${APPROVAL_MODEL}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.model).toEqual(approval);
    expect(body.dataset).toEqual({ name: APPROVAL_MODEL, version: 1 });
    expect(columns.map((c) => c.name)).toEqual(APPROVAL_COLUMNS);
    const missingInData = APPROVAL_COLUMNS.filter((c) => rows.some((r) => r[c] === "?"));
    expect(missingInData.length).toBeGreaterThan(0);
    expect(columns.filter((c) => c.allowMissing).map((c) => c.name)).toEqual(missingInData);
    expect(numeric).toEqual(new Set(["A2", "A3", "A8", "A11", "A14", "A15"]));
    expect(
      columns
        .find((c) => c.name === "A9")
        ?.values?.map((v) => v.value)
        .sort(),
    ).toEqual(["f", "t"]);
  });

  it("gives each column its typical value in the training data: the commonest category, the median number", async () => {
    for (const column of columns) {
      const present = rows.map((r) => r[column.name]).filter((cell) => cell !== "?");
      if (column.kind === "numeric") {
        const sorted = present.map(Number).sort((a, b) => a - b);
        const n = sorted.length;
        const median = (sorted[Math.floor((n - 1) / 2)] + sorted[Math.floor(n / 2)]) / 2;
        expect(column.typical, column.name).toBeCloseTo(
          column.integer ? Math.round(median) : median,
          9,
        );
      } else {
        const counts = new Map<string, number>();
        for (const cell of present) counts.set(cell, (counts.get(cell) ?? 0) + 1);
        const most = Math.max(...counts.values());
        expect(counts.get(String(column.typical)), column.name).toBe(most);
      }
    }
  });

  it("is the German one without ?model= and for the default model's own name", async () => {
    for (const url of ["/api/v1/schema", `/api/v1/schema?model=${world.model.name}`]) {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(200);
      expect(res.json().model).toEqual(world.model);
      expect(res.json().columns.map((c: SchemaColumn) => c.name)).toEqual(COLUMN_NAMES);
    }
  });
});

describe("scoring with the second model", () => {
  it("scores applicants with missing values, and a reason can say a value is missing", async () => {
    const applicants = withMissing().map((r) => approvalApplicant(r, numeric));
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/predictions?model=${APPROVAL_MODEL}&reasons=all`,
      payload: applicants,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { predictions: Prediction[]; errors: unknown[] };
    expect(body.errors).toEqual([]);
    expect(body.predictions).toHaveLength(applicants.length);
    for (const p of body.predictions) expect(p.model).toEqual(approval);
    const missingReasons = body.predictions.flatMap((p) =>
      p.reasons.filter((r) => r.value === null).map((r) => ({ row: p.row, reason: r })),
    );
    expect(missingReasons.length).toBeGreaterThan(0);
    for (const { row, reason } of missingReasons) {
      expect(applicants[row - 1][reason.feature]).toBeNull();
      expect(reason.valueLabel).toBe("missing");
      expect(reason.text).toBe(`${reason.feature}: missing`);
      expect(reason.contribution).toBeGreaterThan(0);
    }

    // The same applicant alone, its missing value written three ways: the data's `?`, null, or
    // left out; each is scored alike and logged with the value as null.
    const { row, reason } = missingReasons[0];
    const applicant = applicants[row - 1];
    const without = Object.fromEntries(
      Object.entries(applicant).filter(([name]) => name !== reason.feature),
    );
    const answers = [];
    for (const payload of [{ ...applicant, [reason.feature]: "?" }, applicant, without]) {
      const one = await app.inject({
        method: "POST",
        url: `/api/v1/predictions?model=${APPROVAL_MODEL}&reasons=all`,
        payload,
      });
      expect(one.statusCode).toBe(200);
      const [p] = one.json().predictions as Prediction[];
      expect(p.model).toEqual(approval);
      expect(p.reasons.map((r) => r.text)).toContain(`${reason.feature}: missing`);
      answers.push(p);
    }
    expect(new Set(answers.map((p) => JSON.stringify(p.reasons))).size).toBe(1);
    const logged = await app.inject(`/api/v1/decisions/${answers[0].id}`);
    expect(logged.json()).toMatchObject({ modelName: APPROVAL_MODEL, source: "api" });
    expect(logged.json().input[reason.feature]).toBeNull();
  });

  it("scores an uploaded CSV for the second model, `?` cells as missing", async () => {
    const sample = [...withMissing().slice(0, 5), ...rows.slice(0, 5)];
    const header = [...APPROVAL_COLUMNS, "A16"];
    const csv = [header, ...sample.map((r) => header.map((c) => r[c]))]
      .map((cells) => cells.join(","))
      .join("\n");
    const boundary = "----approval-boundary";
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/predictions?model=${APPROVAL_MODEL}`,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="approval.csv"\r\nContent-Type: text/csv\r\n\r\n${csv}\n\r\n--${boundary}--\r\n`,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.summary).toMatchObject({ rows: 10, scored: 10, rejected: 0 });
    for (const p of body.predictions as Prediction[]) expect(p.model).toEqual(approval);
  });

  it("refuses an invalid applicant with 422 naming each field, logging nothing", async () => {
    const before = await decisionCount();
    const applicant = approvalApplicant(rows[0], numeric);
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/predictions?model=${APPROVAL_MODEL}`,
      // A3 may not be missing; A8 is a number; A9 is t or f.
      payload: { ...applicant, A3: null, A8: "lots", A9: "maybe" },
    });
    expect(res.statusCode).toBe(422);
    expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
    const problem = res.json();
    expect(problem.code).toBe("VALIDATION_FAILED");
    const errors = problem.errors as { column: string; message: string }[];
    expect(errors.map((e) => e.column).sort()).toEqual(["A3", "A8", "A9"]);
    expect(errors.find((e) => e.column === "A3")?.message).toMatch(/missing/);
    expect(errors.find((e) => e.column === "A8")?.message).toMatch(/not a number/);
    expect(problem.detail).toMatch(/A3/);
    expect(await decisionCount()).toBe(before);
  });

  it("refuses a German applicant for the second model, and an approval one for the default", async () => {
    const [german] = await creditRows(1);
    const wrongModel = await app.inject({
      method: "POST",
      url: `/api/v1/predictions?model=${APPROVAL_MODEL}`,
      payload: { ...german, A1: "b" },
    });
    expect(wrongModel.statusCode).toBe(422);
    expect(wrongModel.json().errors.map((e: { column: string }) => e.column)).toContain("A3");

    const wrongDefault = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: { ...approvalApplicant(rows[0], numeric), duration: 12 },
    });
    expect(wrongDefault.statusCode).toBe(422);
    expect(wrongDefault.json().errors.map((e: { column: string }) => e.column)).toContain(
      "checking_status",
    );
  });
});

describe("the default model, unknown models and models with no serving version", () => {
  it("still scores with the default model when no model is named", async () => {
    const [german] = await creditRows(1);
    for (const url of ["/api/v1/predictions", `/api/v1/predictions?model=${world.model.name}`]) {
      const res = await app.inject({ method: "POST", url, payload: german });
      expect(res.statusCode).toBe(200);
      expect(res.json().predictions[0].model).toEqual(world.model);
    }
  });

  it("answers 404 with a problem naming an unknown model, for scoring and for the schema", async () => {
    const before = await decisionCount();
    const scoring = await app.inject({
      method: "POST",
      url: "/api/v1/predictions?model=no-such-model",
      payload: approvalApplicant(rows[0], numeric),
    });
    const schema = await app.inject("/api/v1/schema?model=no-such-model");
    for (const res of [scoring, schema]) {
      expect(res.statusCode).toBe(404);
      expect(res.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 404, code: "NOT_FOUND" });
      expect(res.json().detail).toContain('"no-such-model"');
    }
    expect(await decisionCount()).toBe(before);
  });

  it("answers 503 for a registered model whose champion is not set", async () => {
    const scoring = await app.inject({
      method: "POST",
      url: `/api/v1/predictions?model=${UNSERVED}`,
      payload: approvalApplicant(rows[0], numeric),
    });
    const schema = await app.inject(`/api/v1/schema?model=${UNSERVED}`);
    for (const res of [scoring, schema]) {
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ status: 503, code: "MODEL_NOT_READY" });
    }
  });
});

describe("each model on /metrics and in its own drift report", () => {
  it("counts, windows and names the second model apart from the default one", async () => {
    const applicants = rows.slice(0, 60).map((r) => approvalApplicant(r, numeric));
    const scored = await app.inject({
      method: "POST",
      url: `/api/v1/predictions?model=${APPROVAL_MODEL}`,
      payload: applicants,
    });
    expect(scored.statusCode).toBe(200);
    const german = await app.inject({
      method: "POST",
      url: "/api/v1/predictions",
      payload: await creditRows(5),
    });
    expect(german.statusCode).toBe(200);

    const metrics = (await app.inject("/metrics")).body;
    const line = (re: RegExp) => metrics.split("\n").filter((l) => re.test(l));
    // Both served versions, one series each.
    expect(line(/^riskometer_serving_model_info\{/).sort()).toEqual(
      [
        `riskometer_serving_model_info{name="${APPROVAL_MODEL}",version="${approval.version}"} 1`,
        `riskometer_serving_model_info{name="${world.model.name}",version="${world.model.version}"} 1`,
      ].sort(),
    );
    const counted = (model: string) =>
      line(new RegExp(`^riskometer_predictions_total\\{model="${model}",`))
        .map((l) => Number(l.split(" ").at(-1)))
        .reduce((a, b) => a + b, 0);
    const windowed = (model: string) =>
      Number(
        new RegExp(`^riskometer_recent_decisions\\{model="${model}"\\} (\\d+)$`, "m").exec(
          metrics,
        )?.[1],
      );
    // Every decision of this server so far counts for its own model, the window holds the latest.
    expect(counted(APPROVAL_MODEL)).toBeGreaterThanOrEqual(60);
    expect(counted(world.model.name)).toBeGreaterThanOrEqual(5);
    expect(windowed(APPROVAL_MODEL)).toBe(Math.min(500, counted(APPROVAL_MODEL)));
    expect(windowed(world.model.name)).toBe(Math.min(500, counted(world.model.name)));
    // The second model's window is compared with its own training data, on its own columns.
    const drifted = line(
      new RegExp(`^riskometer_recent_feature_drift_detected\\{model="${APPROVAL_MODEL}",`),
    );
    expect(drifted.length).toBeGreaterThan(0);
    for (const l of drifted) expect(l).toMatch(/feature="A\d+"/);
  });

  it("reports on the model it is asked for, from that model's decisions only", async () => {
    const store = new SqlDecisionStore(world.ctx.database);
    const mine = await store.countRange({ model: APPROVAL_MODEL });
    expect(mine).toBeGreaterThan(0);
    expect(await store.countRange({})).toBeGreaterThan(mine);

    const flows = openFlows(world.ctx);
    const run = await triggerFlow(
      flows,
      "drift-report",
      { model: APPROVAL_MODEL, minDecisions: 100_000 },
      "test",
    );
    await flows.store.claim(run.id, flows.runner.worker, Date.now());
    expect(await flows.runner.execute(await flows.store.getRun(run.id))).toBe("COMPLETED");
    const result = (await flows.store.getRun(run.id)).result as {
      modelName: string;
      model: { name: string; version: number };
      decisions: number;
      dataDrift: { columns: { column: string }[] };
    };
    expect(result.modelName).toBe(APPROVAL_MODEL);
    expect(result.model).toEqual(approval);
    expect(result.decisions).toBe(mine);
    expect(result.dataDrift.columns.map((c) => c.column).sort()).toEqual(
      columns.map((c) => c.name).sort(),
    );

    // Its figures on /metrics carry its name (a new server: this one read the reports less than
    // the 15 s it keeps them ago).
    const fresh = await buildApp(world.ctx, { access: "open", modelPollMs: 0 });
    const metrics = (await fresh.inject("/metrics")).body;
    await fresh.close();
    expect(metrics).toMatch(
      new RegExp(`^riskometer_drift_report_decisions\\{model="${APPROVAL_MODEL}"\\} ${mine}$`, "m"),
    );
    expect(metrics).not.toMatch(/^riskometer_drift_report_decisions\{model="credit-risk"\}/m);
  });
});
