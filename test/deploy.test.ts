/**
 * The monitoring deployment files: the Prometheus configuration passes promtool, the Grafana
 * dashboards are the generator's current output, and every metric they query is one the
 * service exports (so no panel stays empty for a misspelt name).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
// @ts-expect-error -- a plain script beside the dashboards it writes, without type declarations
import { dashboards } from "../deploy/grafana/make-dashboards.mjs";
import { buildApp } from "../src/serving/index.js";
import { type SeededWorld, seedWorld } from "./api/fixtures.js";

const DEPLOY = fileURLToPath(new URL("../deploy/", import.meta.url));

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

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

interface PickerDashboard extends Dashboard {
  templating: { list: { name: string; definition: string }[] };
}

async function dashboardFiles(): Promise<Record<string, Dashboard>> {
  const dir = `${DEPLOY}grafana/dashboards/`;
  const out: Record<string, Dashboard> = {};
  for (const name of await readdir(dir)) {
    out[name] = JSON.parse(await readFile(`${dir}${name}`, "utf8")) as Dashboard;
  }
  return out;
}

describe("deployment files", () => {
  it("has the dashboards the generator makes, for service, predictions, drift, quality and fairness", async () => {
    const files = await dashboardFiles();
    expect(files).toEqual(dashboards());
    expect(Object.keys(files).sort()).toEqual([
      "riskometer-drift.json",
      "riskometer-fairness.json",
      "riskometer-predictions.json",
      "riskometer-quality.json",
      "riskometer-service.json",
    ]);
  });

  it("queries only metrics the service exports", async () => {
    const text = (await app.inject({ method: "GET", url: "/metrics" })).body;
    const exported = new Set<string>();
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name);
      if (type === "histogram")
        for (const s of ["_bucket", "_sum", "_count"]) exported.add(name + s);
    }
    const queried = new Set<string>();
    for (const d of Object.values(await dashboardFiles())) {
      for (const p of d.panels) {
        for (const t of p.targets)
          for (const [m] of t.expr.matchAll(/riskometer_[a-z0-9_]+/g)) queried.add(m);
      }
    }
    expect(queried.size).toBeGreaterThanOrEqual(20);
    expect([...queried].filter((m) => !exported.has(m))).toEqual([]);
  });

  it("shows one model at a time where metrics are per model, picked from the served ones", async () => {
    for (const [name, d] of Object.entries(await dashboardFiles()) as [string, PickerDashboard][]) {
      const exprs = d.panels.flatMap((p) => p.targets.map((t) => t.expr));
      if (name === "riskometer-service.json") {
        expect(exprs.some((e) => e.includes("$model"))).toBe(false);
        continue;
      }
      expect(d.templating.list.map((v) => [v.name, v.definition])).toEqual([
        ["model", "label_values(riskometer_serving_model_info, name)"],
      ]);
      // Everything but the decision log's own counter (one log for all models) picks the model.
      const unpicked = exprs.filter((e) => !/(model|name)="\$model"/.test(e));
      expect(unpicked).toEqual(
        name === "riskometer-predictions.json" ? ["riskometer_decisions_logged_total"] : [],
      );
    }
  });

  it("gives Prometheus a configuration promtool accepts, scraping with the metrics token", async () => {
    // promtool also checks that the token's file exists: point it at one made here.
    const dir = await mkdtemp(join(tmpdir(), "riskometer-prom-"));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const text = await readFile(`${DEPLOY}prometheus/prometheus.yml`, "utf8");
    expect(text).toContain("credentials_file: /run/secrets/metrics_token");
    await writeFile(join(dir, "metrics_token"), "token");
    await writeFile(
      join(dir, "prometheus.yml"),
      text.replace("/run/secrets/metrics_token", join(dir, "metrics_token")),
    );
    const result = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(
        "promtool",
        ["check", "config", join(dir, "prometheus.yml")],
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr }),
      ),
    );
    expect(result.out).toMatch(/SUCCESS/);
    expect(result.code).toBe(0);
  });
});
