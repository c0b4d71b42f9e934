/**
 * Flow runs on SQLite and on the real local Postgres (each in a database of its own): the run
 * store (one run per schedule slot, compare-and-set claims and ends), the runner (steps, logs,
 * results, timeouts, retries with back-off, the failure webhook, crashed runs) and workers
 * sharing one database under an injected clock (each slot runs exactly once).
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/core/config.js";
import { type FlowDefinition, checkParams } from "../../src/flows/flow-definition.js";
import { FlowRunner, type FlowNotification } from "../../src/flows/flow-runner.js";
import { SqlFlowStore } from "../../src/flows/flow-store.js";
import { FlowWorker } from "../../src/flows/flow-worker.js";
import { EmbeddedJobQueue } from "../../src/flows/queue/embedded-queue.js";
import type { FlowJob, JobQueue } from "../../src/flows/queue/job-queue.js";
import { PgBossJobQueue } from "../../src/flows/queue/pg-boss-queue.js";
import { parseSchedule } from "../../src/flows/schedule.js";
import { type AppContext, openContext } from "../../src/main.js";
import { TEST_DATABASES, type TestDatabase } from "../support/databases.js";

/** A clock the test moves; every component reads it. */
class Clock {
  constructor(public t: number) {}
  readonly now = () => this.t;
}

const SLOW_MS = 40;

function testFlows(executions: string[]): Map<string, FlowDefinition> {
  const base = { description: "test", params: {}, retryDelayMs: 0, timeoutMs: 5_000 } as const;
  const flows: FlowDefinition[] = [
    {
      ...base,
      name: "ok",
      params: { n: { type: "integer", description: "how many", default: 2, min: 1 } },
      maxAttempts: 1,
      async run(ctx, params) {
        executions.push(`ok:${ctx.run.id}`);
        const a = await ctx.step("first", () => Number(params.n) * 2);
        ctx.log(`first gave ${a}`);
        const b = await ctx.step("second", async () => a + 1);
        return { value: b };
      },
    },
    {
      ...base,
      name: "fails",
      maxAttempts: 2,
      async run(ctx) {
        executions.push(`fails:${ctx.run.attempt}`);
        await ctx.step("boom", () => {
          throw new Error(`broken on attempt ${ctx.run.attempt}`);
        });
      },
    },
    {
      ...base,
      name: "waits",
      maxAttempts: 2,
      async run(ctx) {
        // Stops when told to (its signal), as long steps should.
        await new Promise((resolve, reject) => {
          const timer = setTimeout(resolve, 4_000);
          ctx.signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(ctx.signal.reason);
          });
        });
      },
    },
    {
      ...base,
      name: "slow",
      maxAttempts: 1,
      timeoutMs: SLOW_MS,
      async run() {
        // Ignores its signal on purpose: the runner still ends it on time.
        await new Promise((r) => setTimeout(r, 2_000).unref());
      },
    },
  ];
  return new Map(flows.map((f) => [f.name, f]));
}

describe.each(TEST_DATABASES)("flows on $name", ({ name: dbName, create }) => {
  let target: TestDatabase;
  let home: string;
  let app: AppContext;
  let store: SqlFlowStore;
  let hook: Server;
  let hookUrl: string;
  const notifications: FlowNotification[] = [];

  beforeAll(async () => {
    target = await create();
    home = await mkdtemp(join(tmpdir(), "riskometer-flows-"));
    app = await openContext(loadConfig({}, { home, databaseUrl: target.url }));
    store = new SqlFlowStore(app.database);
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        notifications.push(JSON.parse(body) as FlowNotification);
        res.end("ok");
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    await new Promise((r) => hook?.close(r));
    await app?.close();
    await target?.drop();
    await rm(home, { recursive: true, force: true });
  });

  /**
   * The queues of `n` workers: on SQLite one embedded queue that they share (one process); on
   * Postgres a pg-boss client each, as separate processes would have.
   */
  async function queues(n: number): Promise<JobQueue[]> {
    const made: JobQueue[] =
      dbName === "sqlite"
        ? Array(n).fill(new EmbeddedJobQueue({ pollMs: 20 }))
        : Array.from(
            { length: n },
            () =>
              new PgBossJobQueue({
                connectionString: target.url,
                expireSeconds: () => 60,
                pollSeconds: 0.5,
              }),
          );
    for (const q of new Set(made)) await q.start();
    return made;
  }

  async function stopAll(qs: JobQueue[]): Promise<void> {
    for (const q of new Set(qs)) await q.stop();
  }

  function runner(clock: Clock, executions: string[], worker = "w1") {
    return new FlowRunner({
      flows: testFlows(executions),
      store,
      app,
      worker,
      heartbeatMs: 1_000,
      staleMs: 10_000,
      webhookUrl: hookUrl,
      now: clock.now,
    });
  }

  it("creates one run per schedule slot however often it is asked", async () => {
    const at = 1_800_000_000_000;
    const make = () =>
      store.createRun({
        flow: "slotted",
        trigger: "schedule",
        scheduledFor: at,
        params: {},
        maxAttempts: 1,
        createdAt: at,
      });
    const results = await Promise.all([make(), make(), make()]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await store.lastSlot("slotted")).toBe(at);
    expect(await store.lastSlot("never")).toBeNull();
  });

  it("lets exactly one of several claims take a run", async () => {
    const run = await store.createRun({
      flow: "contested",
      trigger: "manual",
      scheduledFor: 0,
      params: {},
      maxAttempts: 1,
      createdAt: 0,
    });
    const wins = await Promise.all(["a", "b", "c", "d"].map((w) => store.claim(run!.id, w, 1)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const claimed = await store.getRun(run!.id);
    expect(claimed.state).toBe("RUNNING");
    expect(["a", "b", "c", "d"][wins.indexOf(true)]).toBe(claimed.worker);
    // Ending is compare-and-set too: the second end changes nothing.
    expect(await store.finish(run!.id, { state: "COMPLETED", at: 2, result: 1 })).toBe(true);
    expect(await store.finish(run!.id, { state: "FAILED", at: 3, error: "late" })).toBe(false);
    expect((await store.getRun(run!.id)).state).toBe("COMPLETED");
  });

  it("runs a flow: steps with times, captured logs and the result", async () => {
    const clock = new Clock(1_900_000_000_000);
    const executions: string[] = [];
    const r = runner(clock, executions);
    const flow = testFlows(executions).get("ok")!;
    const run = await store.createRun({
      flow: "ok",
      trigger: "manual",
      scheduledFor: clock.t,
      params: checkParams(flow, { n: "5" }),
      maxAttempts: 1,
      requestedBy: "alice",
      createdAt: clock.t,
    });
    expect(await store.claim(run!.id, r.worker, clock.t)).toBe(true);
    expect(await r.execute(await store.getRun(run!.id))).toBe("COMPLETED");
    const done = await store.getRun(run!.id);
    expect(done).toMatchObject({
      state: "COMPLETED",
      params: { n: 5 },
      result: { value: 11 },
      requestedBy: "alice",
      error: null,
    });
    expect(done.steps.map((s) => [s.name, s.state])).toEqual([
      ["first", "COMPLETED"],
      ["second", "COMPLETED"],
    ]);
    const messages = (await store.logs(run!.id)).map((l) => l.message);
    expect(messages).toContain("first gave 10");
    expect(messages.at(-1)).toBe("completed");
    expect(executions).toEqual([`ok:${run!.id}`]);
  });

  it("retries a failing flow with back-off, then calls the webhook once it has no attempt left", async () => {
    const clock = new Clock(2_000_000_000_000);
    const executions: string[] = [];
    const r = runner(clock, executions);
    const first = await store.createRun({
      flow: "fails",
      trigger: "manual",
      scheduledFor: clock.t,
      params: {},
      maxAttempts: 2,
      createdAt: clock.t,
    });
    await store.claim(first!.id, r.worker, clock.t);
    notifications.length = 0;
    expect(await r.execute(await store.getRun(first!.id))).toBe("FAILED");
    expect((await store.getRun(first!.id)).error).toBe("broken on attempt 1");
    expect((await store.getRun(first!.id)).steps[0].state).toBe("FAILED");
    const retry = (await store.listRuns({ flow: "fails" })).find((x) => x.retryOf === first!.id);
    expect(retry).toMatchObject({ trigger: "retry", attempt: 2, state: "SCHEDULED" });
    expect(notifications).toEqual([]);
    await store.claim(retry!.id, r.worker, clock.t);
    expect(await r.execute(await store.getRun(retry!.id))).toBe("FAILED");
    expect(executions).toEqual(["fails:1", "fails:2"]);
    expect(notifications).toEqual([
      expect.objectContaining({
        event: "flow-run-failed",
        flow: "fails",
        runId: retry!.id,
        state: "FAILED",
        attempt: 2,
        error: "broken on attempt 2",
      }),
    ]);
    // No third attempt.
    expect((await store.listRuns({ flow: "fails" })).length).toBe(2);
  });

  it("fails a run that outlives its timeout, even if the flow ignores the signal", async () => {
    const clock = new Clock(2_100_000_000_000);
    const r = runner(clock, []);
    const run = await store.createRun({
      flow: "slow",
      trigger: "manual",
      scheduledFor: clock.t,
      params: {},
      maxAttempts: 1,
      createdAt: clock.t,
    });
    await store.claim(run!.id, r.worker, clock.t);
    expect(await r.execute(await store.getRun(run!.id))).toBe("FAILED");
    expect((await store.getRun(run!.id)).error).toBe(`timed out after ${SLOW_MS} ms`);
  });

  it("declares a run CRASHED when its worker falls silent, and retries it", async () => {
    const clock = new Clock(2_200_000_000_000);
    const r = runner(clock, [], "survivor:2");
    const run = await store.createRun({
      flow: "fails",
      trigger: "manual",
      scheduledFor: clock.t,
      params: {},
      maxAttempts: 2,
      createdAt: clock.t,
    });
    await store.claim(run!.id, "vanished:1", clock.t);
    expect(await r.reap()).toEqual([]);
    clock.t += 11_000;
    const declared = await r.reap();
    expect(declared.map((x) => x.id)).toEqual([run!.id]);
    const crashed = await store.getRun(run!.id);
    expect(crashed.state).toBe("CRASHED");
    expect(crashed.error).toMatch(/worker vanished:1 stopped sending heartbeats/);
    expect((await store.logs(run!.id)).at(-1)?.level).toBe("error");
    const retry = (await store.listRuns({ flow: "fails" })).find((x) => x.retryOf === run!.id);
    expect(retry).toMatchObject({ attempt: 2, state: "SCHEDULED" });
    // The vanished worker's late end changes nothing.
    expect(await store.finish(run!.id, { state: "COMPLETED", at: clock.t })).toBe(false);
  });

  describe("job queue", () => {
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    async function until(check: () => boolean, ms = 15_000): Promise<void> {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error("timed out waiting");
        await wait(20);
      }
    }

    it("delivers each job once, to one of two workers, however often it is sent", async () => {
      const qs = await queues(2);
      const got: string[] = [];
      try {
        for (const [i, q] of qs.entries()) {
          await q.work(["a", "b"], async (job) => {
            got.push(`${job.runId}@${i}`);
          });
        }
        const jobs: FlowJob[] = Array.from({ length: 6 }, (_, i) => ({
          flow: i % 2 === 0 ? "a" : "b",
          runId: randomUUID(),
        }));
        for (const job of jobs) {
          await qs[0].send(job);
          await qs[1].send(job);
        }
        await until(() => got.length >= 6);
        await wait(1_200);
        expect(got.map((g) => g.split("@")[0]).sort()).toEqual(jobs.map((j) => j.runId).sort());
      } finally {
        await stopAll(qs);
      }
    });

    it("never runs two jobs of one flow at once, and lets an abandoned job's flow go on", async () => {
      const qs = await queues(2);
      let running = 0;
      let most = 0;
      const done: string[] = [];
      let release: () => void = () => {};
      const hung = new Promise<void>((r) => (release = r));
      const first = randomUUID();
      try {
        for (const q of qs) {
          await q.work(["solo"], async (job) => {
            running++;
            most = Math.max(most, running);
            // The first job's worker "dies": its handler never returns until the end.
            if (job.runId === first) await hung;
            else await wait(30);
            running--;
            done.push(job.runId);
          });
        }
        const others = [randomUUID(), randomUUID()];
        await qs[0].send({ flow: "solo", runId: first });
        await until(() => running === 1);
        for (const runId of others) await qs[1].send({ flow: "solo", runId });
        await wait(1_500);
        // Blocked behind the hung job.
        expect(done).toEqual([]);
        await qs[1].abandon({ flow: "solo", runId: first });
        await until(() => done.length === 2);
        expect(done.sort()).toEqual([...others].sort());
        expect(most).toBe(2); // the hung one and, after it was abandoned, one other
      } finally {
        release();
        await stopAll(qs);
      }
    });
  });

  it("runs each slot of a schedule exactly once with two workers on one database", async () => {
    const clock = new Clock(Date.UTC(2027, 0, 1, 0, 0, 30));
    const executions: string[] = [];
    const flows = testFlows(executions);
    const schedules = new Map([
      ["ok", { schedule: parseSchedule("every 1m", "UTC"), latePolicy: "catch-up" as const }],
    ]);
    const qs = await queues(2);
    const workers = ["alpha:1", "beta:2"].map(
      (name, i) =>
        new FlowWorker({
          flows,
          schedules,
          store,
          queue: qs[i],
          runner: runner(clock, executions, name),
          now: clock.now,
          pollMs: 60_000,
          retentionMs: 0,
        }),
    );
    try {
      for (const w of workers) await w.start();
      // The first tick sees no earlier slot: the first one is on time (30 s late) and runs.
      const finished = async () => {
        for (let i = 0; i < 300; i++) {
          await Promise.all(workers.map((w) => w.tick()));
          const open = await store.listRuns({ flow: "ok", states: ["SCHEDULED", "RUNNING"] });
          if (open.length === 0) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error("runs did not finish");
      };
      await finished();
      for (let minute = 1; minute <= 4; minute++) {
        clock.t += 60_000;
        await finished();
      }
    } finally {
      for (const w of workers) await w.stop();
      await stopAll(qs);
    }
    const scheduled = (await store.listRuns({ flow: "ok", limit: 100 })).filter(
      (x) => x.trigger === "schedule",
    );
    const slots = scheduled.map((x) => x.scheduledFor).sort();
    expect(slots).toEqual([0, 1, 2, 3, 4].map((m) => Date.UTC(2027, 0, 1, 0, m, 0)));
    expect(scheduled.every((x) => x.state === "COMPLETED")).toBe(true);
    // Each run executed once, by one of the two workers; none stays RUNNING.
    expect(executions.filter((e) => e.startsWith("ok:")).sort()).toEqual(
      scheduled.map((x) => `ok:${x.id}`).sort(),
    );
    expect(scheduled.every((x) => x.worker === "alpha:1" || x.worker === "beta:2")).toBe(true);
    expect(await store.listRuns({ states: ["RUNNING"] })).toEqual([]);
  }, 60_000);

  it("stops a running run that a person cancels, at its next heartbeat, without a retry", async () => {
    const clock = new Clock(Date.now());
    const r = new FlowRunner({
      flows: testFlows([]),
      store,
      app,
      worker: "w-cancel",
      heartbeatMs: 50,
      now: clock.now,
    });
    const run = await store.createRun({
      flow: "waits",
      trigger: "manual",
      scheduledFor: clock.t,
      params: {},
      maxAttempts: 2,
      createdAt: clock.t,
    });
    await store.claim(run!.id, r.worker, clock.t);
    const executing = r.execute(await store.getRun(run!.id));
    await new Promise((res) => setTimeout(res, 100));
    expect(await store.cancel(run!.id, "alice", clock.t)).toBe(true);
    expect(await executing).toBe("CANCELLED");
    const ended = await store.getRun(run!.id);
    expect(ended).toMatchObject({ state: "CANCELLED", error: "cancelled by alice" });
    expect((await store.listRuns({ flow: "waits" })).some((x) => x.retryOf === run!.id)).toBe(
      false,
    );
    // An ended run cannot be cancelled.
    expect(await store.cancel(run!.id, "alice", clock.t)).toBe(false);
  });

  it("calls the webhook for a crashed run with no attempt left", async () => {
    const clock = new Clock(2_300_000_000_000);
    const r = runner(clock, [], "survivor:3");
    const run = await store.createRun({
      flow: "ok",
      trigger: "manual",
      scheduledFor: clock.t,
      params: {},
      maxAttempts: 1,
      createdAt: clock.t,
    });
    await store.claim(run!.id, "gone:9", clock.t);
    notifications.length = 0;
    clock.t += 11_000;
    await r.reap();
    expect(notifications).toEqual([
      expect.objectContaining({ runId: run!.id, state: "CRASHED", attempt: 1, maxAttempts: 1 }),
    ]);
    expect((await store.listRuns({ flow: "ok" })).some((x) => x.retryOf === run!.id)).toBe(false);
  });

  it("deletes finished runs and their logs past the retention, and keeps the rest", async () => {
    const old = await store.createRun({
      flow: "kept-or-not",
      trigger: "manual",
      scheduledFor: 1_000,
      params: {},
      maxAttempts: 1,
      createdAt: 1_000,
    });
    await store.claim(old!.id, "w", 1_000);
    await store.appendLogs(old!.id, [{ seq: 1, at: 1_000, level: "info", message: "old" }]);
    await store.finish(old!.id, { state: "COMPLETED", at: 2_000 });
    const waiting = await store.createRun({
      flow: "kept-or-not",
      trigger: "manual",
      scheduledFor: 1_000,
      params: {},
      maxAttempts: 1,
      createdAt: 1_000,
    });
    // Earlier tests left finished runs in the past too; this one is among those deleted.
    expect(await store.purgeFinished(3_000)).toBeGreaterThanOrEqual(1);
    await expect(store.getRun(old!.id)).rejects.toThrow(/no flow run/);
    expect(await store.logs(old!.id)).toEqual([]);
    expect((await store.getRun(waiting!.id)).state).toBe("SCHEDULED");
  });

  it("refuses unknown parameters and values out of bounds, naming them", () => {
    const flow = testFlows([]).get("ok")!;
    expect(checkParams(flow, {})).toEqual({ n: 2 });
    expect(() => checkParams(flow, { m: 1 })).toThrow(/no parameter "m" \(it takes n\)/);
    expect(() => checkParams(flow, { n: "x" })).toThrow(/"n" of flow "ok" must be a number/);
    expect(() => checkParams(flow, { n: "1.5" })).toThrow(/whole number/);
    expect(() => checkParams(flow, { n: 0 })).toThrow(/at least 1/);
  });
});
