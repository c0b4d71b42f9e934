/**
 * Who saw what, and how long applicants' data is kept: the access log records scoring, reads,
 * downloads and erasures (never the data); an admin erases one applicant's decisions on request;
 * the `retention` flow erases old decisions; the database refuses any other change; and the
 * drift report still judges fairness on erased decisions.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config.js";
import { loadTrainingData } from "../src/data/index.js";
import { type Decision, SqlDecisionStore } from "../src/decisions/index.js";
import { openFlows, runTrainFlow, triggerFlow } from "../src/flows/index.js";
import { type AppContext, openContext } from "../src/main.js";
import { buildApp } from "../src/serving/index.js";
import { creditRows } from "./browser/riskometer-fixtures.js";

let home: string;
let ctx: AppContext;
let app: FastifyInstance;
let clerk: string;
let admin: string;
let ids: string[];

const as = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-retention-"));
  ctx = await openContext(loadConfig({}, { home }));
  await runTrainFlow(ctx, {
    data: await loadTrainingData(),
    trials: 1,
    seed: 5,
    candidates: ["gbdt"],
    top: 1,
    actor: "retention-test",
  });
  await ctx.users.createUser("clara", "clerk");
  await ctx.users.createUser("ada", "admin");
  clerk = (await ctx.users.issueToken("clara")).token;
  admin = (await ctx.users.issueToken("ada")).token;
  app = await buildApp(ctx, { access: "secured", modelPollMs: 0 });
  const scored = await app.inject({
    method: "POST",
    url: "/api/v1/predictions",
    payload: await creditRows(80),
    headers: as(clerk),
  });
  expect(scored.statusCode, scored.body).toBe(200);
  ids = (scored.json().predictions as { id: string }[]).map((p) => p.id);
}, 180_000);

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  await rm(home, { recursive: true, force: true });
});

async function accessLog(query = "") {
  const res = await app.inject({ url: `/api/v1/access-log${query}`, headers: as(admin) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().entries as {
    user: string;
    role: string;
    action: string;
    target: string | null;
    status: number;
    address: string;
    detail: string | null;
  }[];
}

async function driftReport() {
  const flows = openFlows(ctx);
  const run = await triggerFlow(flows, "drift-report", { minDecisions: 50 }, "test");
  await flows.store.claim(run.id, flows.runner.worker, Date.now());
  expect(await flows.runner.execute(await flows.store.getRun(run.id))).toBe("COMPLETED");
  return (await flows.store.getRun(run.id)).result as {
    decisions: number;
    fairness: { attribute: string; group: { group: string; decisions: number } }[];
  };
}

describe("the access log", () => {
  it("records who scored and read what, when and from where, and no applicant's data", async () => {
    const read = await app.inject({ url: `/api/v1/decisions/${ids[0]}`, headers: as(clerk) });
    expect(read.statusCode).toBe(200);
    const applicant = read.json().input as Record<string, unknown>;
    // Each decision says who scored it; the log counts the scoring requests.
    expect(read.json().scoredBy).toBe("clara");
    const entries = await accessLog();
    const score = entries.find((e) => e.action === "score");
    expect(score).toMatchObject({ user: "clara", role: "clerk", status: 200 });
    expect(score?.detail).toBe("80 rows: 80 scored, 0 rejected");
    expect(score?.address).toMatch(/127\.0\.0\.1/);
    expect(entries.find((e) => e.action === "read-decision")).toMatchObject({
      user: "clara",
      target: ids[0],
    });
    const text = JSON.stringify(entries);
    for (const key of ["purpose", "personal_status", "credit_amount"]) {
      expect(text, key).not.toContain(JSON.stringify(applicant[key]));
    }
    expect((await accessLog("?action=read-access-log")).length).toBeGreaterThanOrEqual(1);
    expect((await app.inject({ url: "/api/v1/access-log", headers: as(clerk) })).statusCode).toBe(
      403,
    );
  });

  it("is append-only: the database refuses to change or delete an entry", async () => {
    await expect(
      sql`UPDATE access_log SET user_name = 'someone'`.execute(ctx.database.db),
    ).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM access_log`.execute(ctx.database.db)).rejects.toThrow(
      /append-only/,
    );
  });
});

describe("erasure", () => {
  it("erases one applicant's decisions on request, keeping what monitoring needs, once", async () => {
    const before = await driftReport();
    const target = ids.slice(0, 40);
    const erase = (payload: object, token = admin) =>
      app.inject({
        method: "POST",
        url: "/api/v1/decisions/erase",
        payload,
        headers: as(token),
      });
    expect((await erase({ decisionIds: target, note: "GDPR-17" }, clerk)).statusCode).toBe(403);
    expect((await erase({ decisionIds: target })).statusCode).toBe(400);
    const done = await erase({ decisionIds: target, note: "ticket GDPR-17" });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toEqual({ erased: 40 });
    expect((await erase({ decisionIds: target, note: "again" })).json()).toEqual({ erased: 0 });

    const store = new SqlDecisionStore(ctx.database);
    const erased: Decision = await store.getDecision(ids[0]);
    expect(Object.keys(erased.input)).toEqual(["$groups"]);
    expect(erased.reasons).toEqual([]);
    expect(erased.erasedAt).toEqual(expect.any(Number));
    const kept = await store.getDecision(ids[50]);
    expect(kept.erasedAt).toBeNull();
    expect(Object.keys(kept.input).length).toBeGreaterThan(10);

    // Nothing else may change a decision, erased or not.
    await expect(
      sql`UPDATE decisions SET risk = 'good' WHERE id = ${ids[1]}`.execute(ctx.database.db),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`UPDATE decisions SET input = '{}' WHERE id = ${ids[60]}`.execute(ctx.database.db),
    ).rejects.toThrow(/append-only/);
    await expect(
      sql`DELETE FROM decisions WHERE id = ${ids[2]}`.execute(ctx.database.db),
    ).rejects.toThrow(/append-only/);

    // The drift report still counts every decision in its groups.
    const after = await driftReport();
    expect(after.decisions).toBe(before.decisions);
    expect(after.fairness.map((f) => [f.attribute, f.group.group, f.group.decisions])).toEqual(
      before.fairness.map((f) => [f.attribute, f.group.group, f.group.decisions]),
    );
    const logged = (await accessLog("?action=erase")).find((e) => e.detail?.includes("GDPR-17"));
    expect(logged).toMatchObject({ user: "ada", status: 200 });
    expect(logged?.detail).toBe("40 decisions erased; note: ticket GDPR-17");

    // By a value of the applicant's (an applicant id, where the data has one).
    const rest = await Promise.all(ids.slice(40).map((id) => store.getDecision(id)));
    const education = rest.filter((d) => d.input.purpose === "education").map((d) => d.id);
    expect(education.length).toBeGreaterThan(0);
    const byValue = await erase({ match: { column: "purpose", value: "education" }, note: "T-2" });
    expect(byValue.json()).toEqual({ erased: education.length });
    for (const id of education) expect((await store.getDecision(id)).erasedAt).not.toBeNull();
    expect(
      (await erase({ match: { column: "purpose') OR 1=1 --", value: "x" }, note: "T-3" }))
        .statusCode,
    ).toBe(400);
  }, 60_000);

  it("erases old decisions in the retention flow, and leaves recent ones", async () => {
    const store = new SqlDecisionStore(ctx.database);
    const recent = await store.getDecision(ids[70]);
    const old = Date.now() - 40 * 86_400_000;
    const oldIds = [randomUUID(), randomUUID()];
    await store.appendBatch(
      oldIds.map((id, i) => ({
        id,
        createdAt: old + i,
        requestId: `old-${i}`,
        batchId: null,
        rowNumber: null,
        source: "api" as const,
        modelName: recent.modelName,
        modelVersion: recent.modelVersion,
        input: recent.input,
        risk: recent.risk,
        probabilityBad: recent.probabilityBad,
        confidence: recent.confidence,
        threshold: recent.threshold,
        reasons: recent.reasons,
      })),
    );
    const flows = openFlows(ctx);
    const run = await triggerFlow(flows, "retention", { days: 30 }, "test");
    await flows.store.claim(run.id, flows.runner.worker, Date.now());
    expect(await flows.runner.execute(await flows.store.getRun(run.id))).toBe("COMPLETED");
    expect((await flows.store.getRun(run.id)).result).toMatchObject({ days: 30, erased: 2 });
    for (const id of oldIds) expect((await store.getDecision(id)).erasedAt).not.toBeNull();
    expect((await store.getDecision(ids[70])).erasedAt).toBeNull();
    const logged = (await accessLog("?action=retention-erase"))[0];
    expect(logged).toMatchObject({ user: "system", target: null });
    expect(logged.detail).toMatch(/^2 decisions older than 30 days/);
  }, 60_000);
});
