/**
 * The compiled server, as `riskometer serve` runs it: `kill -9` under load loses no acknowledged
 * decision (every decision a client received a 200 for is in the decision log when the database
 * is opened again), and a file scored in its worker threads gets the same numbers and reasons
 * as the same applicants scored one by one on the request thread.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config.js";
import { loadTrainingData } from "../src/data/index.js";
import { SqlDecisionStore } from "../src/decisions/index.js";
import { runTrainFlow } from "../src/flows/index.js";
import { openContext } from "../src/main.js";
import { creditRows, toCsv } from "./browser/riskometer-fixtures.js";
import { loadThenKill, startServer } from "./support/kill-under-load.mjs";

let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-crash-"));
  const ctx = await openContext(loadConfig({}, { home }));
  try {
    await runTrainFlow(ctx, {
      data: await loadTrainingData(),
      trials: 1,
      seed: 3,
      candidates: ["gbdt"],
      top: 1,
      actor: "crash-test",
    });
  } finally {
    await ctx.close();
  }
}, 120_000);

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("kill -9 under load", () => {
  it("keeps every acknowledged decision", async () => {
    const [applicant] = await creditRows(1);
    const server = await startServer({ RISKOMETER_HOME: home, RISKOMETER_ACCESS: "open" });
    const { acknowledged } = await loadThenKill({
      ...server,
      applicant,
      clients: 16,
      killAfterMs: 1500,
    });
    expect(acknowledged.length).toBeGreaterThan(100);
    const ctx = await openContext(loadConfig({}, { home }));
    try {
      const store = new SqlDecisionStore(ctx.database);
      const logged = await store.countDecisions();
      const missing: string[] = [];
      for (const id of acknowledged) {
        const found = await store.getDecision(id).then(
          () => true,
          () => false,
        );
        if (!found) missing.push(id);
      }
      expect(missing).toEqual([]);
      // Decisions committed but not yet answered when the server died are logged too; there
      // can be at most one per client.
      expect(logged).toBeGreaterThanOrEqual(acknowledged.length);
      expect(logged - acknowledged.length).toBeLessThanOrEqual(16);
    } finally {
      await ctx.close();
    }
  }, 120_000);
});

describe("files in worker threads", () => {
  it("score exactly as the request thread scores an array, and log every row", async () => {
    const rows = await creditRows(300);
    const server = await startServer({ RISKOMETER_HOME: home, RISKOMETER_ACCESS: "open" });
    try {
      const post = async (body: string, type: string) => {
        const res = await fetch(`${server.url}/api/v1/predictions?reasons=all`, {
          method: "POST",
          headers: { "content-type": type },
          body,
        });
        expect(res.status).toBe(200);
        return res.json();
      };
      const file = await post(toCsv(rows), "text/csv");
      const array = await post(JSON.stringify(rows), "application/json");
      const strip = ({ id, ...rest }: { id: string }) => (
        expect(id).toMatch(/^[0-9a-f-]{36}$/),
        rest
      );
      expect(file.predictions).toHaveLength(300);
      expect(file.predictions.map(strip)).toEqual(array.predictions.map(strip));
      const page = await fetch(
        `${server.url}/api/v1/batches/${file.batchId}/predictions?limit=1000`,
      ).then((r) => r.json());
      expect(page.total).toBe(300);
      expect(page.predictions.map((p: { id: string }) => p.id)).toEqual(
        file.predictions.map((p: { id: string }) => p.id),
      );
    } finally {
      server.child.kill("SIGTERM");
      await new Promise((r) => server.child.once("exit", r));
    }
  }, 60_000);
});
