/**
 * The `drift-report` flow end to end: a trained version (whose training stored its reference
 * profile), decisions logged through the server with a shifted duration and some outcomes, then
 * the flow: data drift names duration, prediction drift, quality on the known outcomes, and
 * fairness by age and foreign-worker status, kept as the run's result.
 */
import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config.js";
import { loadTrainingData } from "../src/data/index.js";
import { SqlDecisionStore } from "../src/decisions/index.js";
import { openFlows, runTrainFlow, triggerFlow } from "../src/flows/index.js";
import { type AppContext, openContext } from "../src/main.js";
import { buildApp } from "../src/serving/index.js";
import { creditRows } from "./browser/riskometer-fixtures.js";
import { freePort } from "./support/free-port.js";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
let home: string;
let ctx: AppContext;
let app: FastifyInstance;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-drift-flow-"));
  ctx = await openContext(loadConfig({}, { home }));
  await runTrainFlow(ctx, {
    data: await loadTrainingData(),
    trials: 1,
    seed: 5,
    candidates: ["gbdt"],
    top: 1,
    actor: "drift-test",
  });
  app = await buildApp(ctx, { access: "open", modelPollMs: 0 });
}, 120_000);

afterAll(async () => {
  await app?.close();
  await ctx?.close();
  await rm(home, { recursive: true, force: true });
});

describe("drift-report flow", () => {
  it("reports drift, prediction drift, quality and fairness for the window", async () => {
    // 300 applicants of the data with every loan four years longer (the schema allows 72 months).
    const rows = (await creditRows(300)).map((r) => ({
      ...r,
      duration: String(Math.min(72, Number(r.duration) + 48)),
    }));
    const scored = await app.inject({ method: "POST", url: "/api/v1/predictions", payload: rows });
    expect(scored.statusCode).toBe(200);
    const ids = (scored.json().predictions as { id: string }[]).map((p) => p.id);
    const store = new SqlDecisionStore(ctx.database);
    // Outcomes for the first 100: every other one went bad.
    for (const [i, id] of ids.slice(0, 100).entries()) {
      await store.recordOutcome(id, i % 2 === 0 ? "bad" : "good", "clerk");
    }

    const flows = openFlows(ctx);
    const run = await triggerFlow(flows, "drift-report", { minDecisions: 50 }, "test");
    await flows.store.claim(run.id, flows.runner.worker, Date.now());
    expect(await flows.runner.execute(await flows.store.getRun(run.id))).toBe("COMPLETED");
    const done = await flows.store.getRun(run.id);
    const result = done.result as {
      model: { name: string; version: number };
      decisions: number;
      dataDrift: {
        datasetDrift: boolean;
        columns: { column: string; test: string; drift: boolean; pValue: number }[];
      };
      predictionDrift: { column: string; test: string };
      quality: { rows: number; rocAuc: number | null; atCuts: { cut: number }[] };
      fairness: { attribute: string; group: { decisions: number } }[];
      notes: string[];
    };
    expect(result.model).toEqual({ name: "credit-risk", version: 1 });
    expect(result.decisions).toBe(300);
    const duration = result.dataDrift.columns.find((c) => c.column === "duration");
    expect(duration).toMatchObject({ test: "ks", drift: true });
    expect(duration!.pValue).toBeLessThan(1e-10);
    // The other columns come from the same data: most do not drift.
    expect(result.dataDrift.columns.filter((c) => c.drift).length).toBeLessThan(5);
    expect(result.predictionDrift).toMatchObject({ column: "probability_bad", test: "ks" });
    expect(result.quality.rows).toBe(100);
    expect(result.quality.rocAuc).not.toBeNull();
    expect(result.quality.atCuts.map((c) => c.cut)).toEqual([0.5, expect.any(Number)]);
    expect(result.fairness.map((f) => f.attribute)).toEqual([
      "age",
      "foreign_worker",
      "personal_status",
    ]);
    expect(result.fairness[0].group.decisions).toBeGreaterThan(0);
    expect(result.notes).toEqual([]);
    const log = (await flows.store.logs(run.id)).map((l) => l.message);
    expect(log.some((m) => /columns drifted/.test(m))).toBe(true);

    // The report's figures on /metrics, for Prometheus and the dashboards.
    const metrics = (await app.inject({ method: "GET", url: "/metrics" })).body;
    expect(metrics).toMatch(
      /^riskometer_feature_drift_detected\{model="credit-risk",feature="duration",test="ks"\} 1$/m,
    );
    const score = Number(
      /^riskometer_feature_drift_score\{model="credit-risk",feature="duration",test="ks"\} (\S+)$/m.exec(
        metrics,
      )?.[1],
    );
    expect(score).toBe(duration!.pValue);
    expect(metrics).toMatch(/^riskometer_dataset_drift_share\{model="credit-risk"\} \d/m);
    expect(metrics).toMatch(
      /^riskometer_prediction_drift_score\{model="credit-risk",test="ks"\} /m,
    );
    expect(metrics).toMatch(
      /^riskometer_model_quality\{model="credit-risk",metric="roc_auc"\} 0\.\d+$/m,
    );
    expect(metrics).toMatch(/^riskometer_model_quality\{model="credit-risk",metric="rows"\} 100$/m);
    expect(metrics).toMatch(
      /^riskometer_fairness_approval_rate_ratio\{model="credit-risk",attribute="age",group="under 25",reference="25 or older"\} \d/m,
    );
    expect(metrics).toMatch(
      /^riskometer_drift_report_timestamp_seconds\{model="credit-risk"\} \d{10}/m,
    );
    // The real-time window saw the same 300 decisions as they were made.
    expect(metrics).toMatch(/^riskometer_recent_decisions\{model="credit-risk"\} 300$/m);
    expect(metrics).toMatch(
      /^riskometer_recent_feature_drift_detected\{model="credit-risk",feature="duration",test="ks"\} 1$/m,
    );
    expect(metrics).toMatch(/^riskometer_recent_refused_share\{model="credit-risk"\} 0\.\d+$/m);

    // The report's history, the report in full, and its page from the artifact store.
    const reports = (await app.inject({ method: "GET", url: "/api/v1/reports" })).json();
    expect(reports.reports[0]).toMatchObject({
      id: run.id,
      model: { name: "credit-risk", version: 1 },
      decisions: 300,
      driftedColumns: expect.arrayContaining(["duration"]),
      quality: { rows: 100 },
      html: `/api/v1/reports/${run.id}/report.html`,
    });
    const full = (await app.inject({ method: "GET", url: `/api/v1/reports/${run.id}` })).json();
    expect(Object.keys(full.report.distributions)).toContain("duration");
    const page = await app.inject({ method: "GET", url: `/api/v1/reports/${run.id}/report.html` });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toMatch(/default-src 'none'/);
    expect(page.body).toMatch(/^<!doctype html>/i);
    expect(page.body).toContain("duration");
    expect(page.body).not.toMatch(/https?:\/\//);
    expect((await app.inject({ method: "GET", url: "/api/v1/reports/nope" })).statusCode).toBe(404);

    // The same window profiled from the command line: its outcomes are the label.
    const explored = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [BIN, "explore", "--decisions", "1", "--json"],
        { env: { ...process.env, RISKOMETER_HOME: home }, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve(stdout)),
      ),
    );
    const profile = JSON.parse(explored);
    expect(profile.rows).toBe(300);
    expect(profile.label).toEqual({ column: "outcome", bad: 50, badRate: 0.5 });
    const durationProfile = profile.columns.find(
      (c: { column: string }) => c.column === "duration",
    );
    expect(durationProfile.stats.min).toBeGreaterThanOrEqual(52);
  });

  it("is read back through a real Prometheus that scrapes the service", async () => {
    const address = await app.listen({ host: "127.0.0.1", port: 0 });
    const target = new URL(address).host;
    const promPort = await freePort();
    const dir = join(home, "prometheus");
    const config = join(home, "prometheus.yml");
    await writeFile(
      config,
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: riskometer\n    static_configs:\n      - targets: ["${target}"]\n`,
    );
    const prometheus = spawn(
      "prometheus",
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dir}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let log = "";
    prometheus.stderr.on("data", (c) => (log += c));
    const spawnError = new Promise<never>((_, reject) =>
      prometheus.once("error", (e) =>
        reject(new Error(`Prometheus could not start (apt-get install prometheus): ${e.message}`)),
      ),
    );
    try {
      const query = encodeURIComponent('riskometer_feature_drift_detected{feature="duration"}');
      const read = async () => {
        for (let i = 0; i < 120; i++) {
          const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${query}`).catch(
            () => null,
          );
          const body = res?.ok
            ? ((await res.json()) as {
                data: { result: { metric: Record<string, string>; value: [number, string] }[] };
              })
            : null;
          if (body && body.data.result.length > 0) return body.data.result;
          await new Promise((r) => setTimeout(r, 500));
        }
        throw new Error(`Prometheus never returned the drift metric: ${log.slice(-2000)}`);
      };
      const result = await Promise.race([read(), spawnError]);
      expect(result).toEqual([
        {
          metric: expect.objectContaining({
            __name__: "riskometer_feature_drift_detected",
            feature: "duration",
            test: "ks",
            job: "riskometer",
          }),
          value: [expect.any(Number), "1"],
        },
      ]);
    } finally {
      prometheus.kill("SIGTERM");
      await new Promise((r) => prometheus.once("exit", r));
    }
  }, 90_000);
});
