/**
 * The flows API: the flows with their schedules and next runs, the run history with logs, and
 * manual triggers (approvers only, parameters checked and named when wrong).
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type FlowContext,
  RETRAIN_FLOW,
  SqlFlowStore,
  needsFirstModel,
} from "../../src/flows/index.js";
import { buildApp } from "../../src/serving/index.js";
import { type SeededWorld, seedWorld } from "./fixtures.js";

let world: SeededWorld;
let app: FastifyInstance;

beforeAll(async () => {
  world = await seedWorld();
  app = await buildApp(world.ctx, { access: "open", modelPollMs: 0 });
});

afterAll(async () => {
  await app?.close();
  await world?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("flows API", () => {
  it("lists the flows with their schedules, next run and parameters", async () => {
    const res = await app.inject({ method: "GET", url: "/api/v1/flows" });
    expect(res.statusCode).toBe(200);
    const { flows } = res.json() as { flows: Record<string, unknown>[] };
    expect(flows.map((f) => f.name)).toEqual(["retrain", "drift-report", "retention"]);
    const [retrain, drift, retention] = flows as {
      schedule: { text: string; description: string } | null;
      nextRun: string | null;
      latePolicy: string;
      params: Record<string, { type: string; default: unknown }>;
    }[];
    expect(retrain.schedule).toEqual({ text: "0 2 * * 0", description: "cron 0 2 * * 0 (UTC)" });
    // Sunday 02:00 UTC, in the future.
    const next = new Date(retrain.nextRun as string);
    expect(next.getUTCDay()).toBe(0);
    expect(next.getUTCHours()).toBe(2);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(retrain.latePolicy).toBe("latest");
    expect(retrain.params.trials).toMatchObject({ type: "integer", default: 20 });
    expect(drift.schedule?.description).toBe("every 3 h");
    expect(new Date(drift.nextRun as string).getUTCHours() % 3).toBe(0);
    // No retention period is set: nothing to erase, so no schedule.
    expect(retention).toMatchObject({ schedule: null, nextRun: null });
    expect(retention.params.days).toMatchObject({ type: "integer", default: 0 });
  });

  it("lets an approver trigger a run with parameters, and refuses others, naming the problem", async () => {
    const post = (body: unknown, token?: string) =>
      app.inject({
        method: "POST",
        url: "/api/v1/flows/retrain/runs",
        headers: token ? bearer(token) : {},
        payload: body as object,
      });
    expect((await post({ params: { trials: 2 } })).statusCode).toBe(401);
    const clerk = await post({ params: { trials: 2 } }, world.tokens.carol);
    expect(clerk.statusCode).toBe(403);
    const bad = await post({ params: { trials: 0 } }, world.tokens.alice);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().detail).toBe(
      'parameter "trials" of flow "retrain" must be at least 1 (got 0)',
    );
    const unknown = await post({ params: { trails: 2 } }, world.tokens.alice);
    expect(unknown.json().detail).toMatch(
      /no parameter "trails" \(it takes trials, seed, top, data, dataset, target, riskClass, missing, model, skipInvalid, ifNoModel\)/,
    );
    const none = await app.inject({
      method: "POST",
      url: "/api/v1/flows/nope/runs",
      headers: bearer(world.tokens.alice),
      payload: {},
    });
    expect(none.statusCode).toBe(404);

    const ok = await post({ params: { trials: "7" } }, world.tokens.alice);
    expect(ok.statusCode).toBe(201);
    const run = ok.json();
    expect(run).toMatchObject({
      flow: "retrain",
      state: "SCHEDULED",
      trigger: "manual",
      params: { trials: 7, seed: 0, top: 5 },
      attempt: 1,
      maxAttempts: 2,
      requestedBy: "alice",
    });
    const history = await app.inject({ method: "GET", url: "/api/v1/flows/runs?flow=retrain" });
    expect(history.json().runs.map((r: { id: string }) => r.id)).toContain(run.id);

    const cancel = (token?: string) =>
      app.inject({
        method: "POST",
        url: `/api/v1/flows/runs/${run.id}/cancel`,
        headers: token ? bearer(token) : {},
      });
    expect((await cancel(world.tokens.carol)).statusCode).toBe(403);
    const cancelled = await cancel(world.tokens.bob);
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ state: "CANCELLED", error: "cancelled by bob" });
    expect((await cancel(world.tokens.bob)).statusCode).toBe(409);
  });

  it("trains no first model where the model has versions: ifNoModel ends the run at once", async () => {
    expect(await needsFirstModel(world.ctx)).toBe(false);
    const lines: string[] = [];
    const steps: string[] = [];
    const ctx = {
      app: world.ctx,
      signal: new AbortController().signal,
      log: (m: string) => lines.push(m),
      step: (name: string, fn: () => unknown) => (steps.push(name), fn()),
    } as unknown as FlowContext;
    const result = await RETRAIN_FLOW.run(ctx, { trials: 1, seed: 0, top: 1, ifNoModel: true });
    expect(result).toEqual({ skipped: "credit-risk already has a version" });
    expect(steps).toEqual(["load data"]);
    expect(lines).toEqual([
      expect.stringMatching(/credit-g\.arff: 1000 rows, 300 bad, spec german-credit/),
      expect.stringMatching(/^credit-risk already has \d+ version/),
    ]);
  });

  it("retrains on another data set named by its params, inferring its spec, into a model of that name", async () => {
    const lines: string[] = [];
    const ctx = {
      app: world.ctx,
      signal: new AbortController().signal,
      log: (m: string) => lines.push(m),
      step: (_name: string, fn: () => unknown) => fn(),
    } as unknown as FlowContext;
    const params = {
      trials: 1,
      seed: 0,
      top: 1,
      data: "data/credit-approval.csv",
      target: "A16",
      riskClass: "-",
      missing: "?",
    };
    const result = (await RETRAIN_FLOW.run(ctx, params)) as { model: { name: string } };
    expect(result.model).toEqual({ name: "credit-approval", version: 1 });
    expect(lines).toContainEqual(
      expect.stringMatching(/^spec "credit-approval" inferred from 690 rows/),
    );
    const version = await world.ctx.registry.store.getModelVersion("credit-approval", 1);
    expect(version.signature).toMatchObject({ dataset: { name: "credit-approval" } });
    await expect(
      RETRAIN_FLOW.run(ctx, { ...params, dataset: "data/specs/german-credit.json" }),
    ).rejects.toThrow(/give either dataset or target with riskClass, not both/);
  });

  it("shows a run with its steps, result and log", async () => {
    const store = new SqlFlowStore(world.ctx.database);
    const t = Date.parse("2026-11-01T10:00:00Z");
    const run = await store.createRun({
      flow: "drift-report",
      trigger: "schedule",
      scheduledFor: t,
      params: { windowHours: 3, minDecisions: 200 },
      maxAttempts: 3,
      createdAt: t,
    });
    await store.claim(run!.id, "host-a:42", t + 10);
    await store.setSteps(run!.id, [
      { name: "read decisions", startedAt: t + 10, endedAt: t + 30, state: "COMPLETED" },
    ]);
    await store.appendLogs(run!.id, [{ seq: 1, at: t + 20, level: "info", message: "hello" }]);
    await store.finish(run!.id, { state: "COMPLETED", at: t + 40, result: { decisions: 0 } });
    const res = await app.inject({ method: "GET", url: `/api/v1/flows/runs/${run!.id}` });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      run: expect.objectContaining({
        id: run!.id,
        state: "COMPLETED",
        worker: "host-a:42",
        startedAt: "2026-11-01T10:00:00.010Z",
        endedAt: "2026-11-01T10:00:00.040Z",
        durationSeconds: 0.03,
        result: { decisions: 0 },
        steps: [
          {
            name: "read decisions",
            state: "COMPLETED",
            startedAt: "2026-11-01T10:00:00.010Z",
            endedAt: "2026-11-01T10:00:00.030Z",
          },
        ],
      }),
      logs: [{ seq: 1, at: "2026-11-01T10:00:00.020Z", level: "info", message: "hello" }],
    });
    expect((await app.inject({ method: "GET", url: "/api/v1/flows/runs/nope" })).statusCode).toBe(
      404,
    );
  });
});
