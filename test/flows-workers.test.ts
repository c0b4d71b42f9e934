/**
 * The team mode for real: two `riskometer worker` processes (the compiled CLI) on one Postgres
 * database, coordinating through pg-boss. On the empty database they train the first model once;
 * a schedule shortened to every 2 seconds runs each slot exactly once; a worker killed with SIGKILL in the middle of a retraining leaves that run
 * CRASHED, and its retry completes on the other worker; no run stays RUNNING.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config.js";
import { SqlFlowStore, type FlowRun } from "../src/flows/index.js";
import { type AppContext, openContext } from "../src/main.js";
import { postgresTestDatabase, type TestDatabase } from "./support/databases.js";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));

let target: TestDatabase;
let home: string;
let env: NodeJS.ProcessEnv;
let ctx: AppContext;
let store: SqlFlowStore;
const workers: ChildProcess[] = [];

/** Starts a worker and resolves once it says it is running flows. */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, "worker"], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  workers.push(child);
  let out = "";
  let err = "";
  child.stderr?.on("data", (c) => (err += c));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${err}`)), 30_000);
    child.stdout?.on("data", (c) => {
      out += c;
      if (/is running flows \(pg-boss queue\)/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`worker exited with ${code}: ${err}`)));
  });
  return child;
}

async function until<T>(
  what: string,
  check: () => Promise<T | null | undefined | false>,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function workerName(child: ChildProcess): string {
  return `:${child.pid}`;
}

beforeAll(async () => {
  target = await postgresTestDatabase();
  home = await mkdtemp(join(tmpdir(), "riskometer-workers-"));
  env = {
    ...process.env,
    RISKOMETER_HOME: home,
    RISKOMETER_DATABASE_URL: target.url,
    RISKOMETER_LOG_LEVEL: "warn",
    RISKOMETER_RETRAIN_SCHEDULE: "off",
    RISKOMETER_DRIFT_SCHEDULE: "every 2s",
    RISKOMETER_LATE_RUNS: "skip",
    RISKOMETER_FLOW_HEARTBEAT_SECONDS: "0.5",
    RISKOMETER_FLOW_RETRY_SECONDS: "1",
  };
  ctx = await openContext(loadConfig({ ...env }));
  store = new SqlFlowStore(ctx.database);
}, 60_000);

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
  await ctx?.close();
  await target?.drop();
  await rm(home, { recursive: true, force: true });
});

describe("two workers on Postgres", () => {
  it("run each scheduled slot once, and finish a crashed worker's run on the other", async () => {
    const [a, b] = [await startWorker(), await startWorker()];

    // Slots every 2 s: wait for several, then check each has exactly one run, run once.
    await until("four completed drift reports", async () => {
      const runs = await store.listRuns({ flow: "drift-report", states: ["COMPLETED"] });
      return runs.length >= 4;
    });

    // The database has no model: the workers trained the first one, once (a second worker
    // that queued one too found the version and trained nothing).
    const firstModel = await until(
      "the first model's training",
      async () => {
        const runs = (await store.listRuns({ flow: "retrain" })).filter(
          (r) => r.requestedBy === "worker: first model",
        );
        return runs.length > 0 && runs.every((r) => r.state === "COMPLETED") ? runs : null;
      },
      120_000,
    );
    const trained = firstModel.filter((r) => !("skipped" in (r.result as object)));
    expect(trained).toHaveLength(1);
    expect(trained[0].result).toMatchObject({ model: { name: "credit-risk", version: 1 } });

    // A retraining, queued; whichever worker takes it is killed in the middle of it.
    const cli = spawn(
      process.execPath,
      [
        BIN,
        "flows",
        "run",
        "retrain",
        "--queue",
        "--param",
        "trials=3",
        "--param",
        "top=1",
        "--json",
      ],
      { env },
    );
    let printed = "";
    cli.stdout.on("data", (c) => (printed += c));
    await new Promise((r) => cli.once("exit", r));
    const queued = JSON.parse(printed) as { id: string };
    const running = await until("the retraining to start", async () => {
      const run = await store.getRun(queued.id);
      return run.state === "RUNNING" ? run : null;
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await store.getRun(queued.id)).state).toBe("RUNNING");
    const victim = running.worker?.endsWith(workerName(a)) ? a : b;
    const survivor = victim === a ? b : a;
    victim.kill("SIGKILL");

    const crashed = await until("the run to be declared crashed", async () => {
      const run = await store.getRun(queued.id);
      return run.state === "CRASHED" ? run : null;
    });
    expect(crashed.error).toMatch(/stopped sending heartbeats/);
    const retry = await until<FlowRun>(
      "the retry to complete",
      async () => {
        const runs = await store.listRuns({ flow: "retrain" });
        const r = runs.find((x) => x.retryOf === queued.id);
        return r?.state === "COMPLETED" ? r : null;
      },
      120_000,
    );
    expect(retry.attempt).toBe(2);
    expect(retry.worker?.endsWith(workerName(survivor))).toBe(true);
    expect(retry.result).toMatchObject({ model: { name: "credit-risk", version: 2 } });

    survivor.kill("SIGTERM");
    await new Promise((r) => survivor.once("exit", r));

    const reports = (await store.listRuns({ flow: "drift-report", limit: 1000 })).filter(
      (r) => r.trigger === "schedule",
    );
    const slots = reports.map((r) => r.scheduledFor);
    expect(new Set(slots).size).toBe(slots.length);
    // Slots are 2 s apart, each executed by one of the two workers, none left RUNNING.
    const sorted = [...slots].sort((x, y) => x - y);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i] - sorted[i - 1]).toBe(2000);
    for (const r of reports.filter((x) => x.state === "COMPLETED")) {
      expect(r.worker?.endsWith(workerName(a)) || r.worker?.endsWith(workerName(b))).toBe(true);
    }
    expect(await store.listRuns({ states: ["RUNNING"] })).toEqual([]);
  }, 240_000);
});
