/**
 * The training flow end to end through the compiled CLI on a fresh, unconfigured home: runs,
 * artifacts, the registered version, the bootstrap, and crash safety under `kill -9`.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config.js";
import { openContext } from "../src/main.js";

const BIN = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));

let home: string;

function env(): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("RISKOMETER_")),
  );
  return { ...clean, RISKOMETER_HOME: home };
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: env(), maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === "number" ? code : 1, stdout, stderr });
      },
    );
  });
}

async function withContext<T>(
  fn: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<T>,
): Promise<T> {
  const ctx = await openContext(loadConfig({}, { home }));
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

let first: {
  runId: string;
  chosenRunId: string;
  model: { name: string; version: number; aliases: string[] };
  bootstrap: boolean;
  metrics: { cv: Record<string, { mean: number; std: number }>; test: Record<string, number> };
  candidates: { name: string; runId: string; chosen: boolean }[];
};

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), "riskometer-train-"));
  const r = await run(["train", "--trials", "2", "--seed", "1", "--json"]);
  expect(r.stderr).not.toMatch(/unexpected error/);
  expect(r.code).toBe(0);
  first = JSON.parse(r.stdout);
}, 300_000);

afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe("riskometer train on a fresh home", () => {
  it("prints the run id, the registered version and the metrics as JSON", () => {
    expect(first.runId).toMatch(/^[0-9a-f]{32}$/);
    expect(first.model).toMatchObject({ name: "credit-risk", version: 1 });
    expect(first.metrics.test.auc).toBeGreaterThan(0.6);
    expect(first.metrics.cv.cost.std).toBeGreaterThan(0);
  });

  it("records at least five candidate child runs with CV and test metrics, per-fold history and plots", async () => {
    await withContext(async (ctx) => {
      const page = await ctx.tracking.store.searchRuns({
        filter: `attributes.parent_run_id = '${first.runId}'`,
        orderBy: ["metrics.cv_cost ASC"],
      });
      expect(page.runs.length).toBeGreaterThanOrEqual(5);
      for (const child of page.runs) {
        expect(child.info.status).toBe("FINISHED");
        expect(child.params.kind).toMatch(/^(logreg|gbdt|forest|blend)$/);
        for (const key of [
          "cv_auc",
          "cv_auc_std",
          "cv_cost",
          "test_auc",
          "test_accuracy",
          "test_recall",
          "test_specificity",
          "test_cost",
        ]) {
          expect(child.metrics[key]?.value, `${child.info.name} ${key}`).toBeTypeOf("number");
        }
        expect(child.inputs.map((i) => i.role).sort()).toEqual(["test", "train"]);
        const history = await ctx.tracking.store.getMetricHistory(child.info.id, "cv_fold_auc");
        expect(history).toHaveLength(10);
        const full = await ctx.tracking.getRun(child.info.id);
        const paths = full.artifacts.map((a) => a.path);
        expect(paths).toEqual(
          expect.arrayContaining([
            "plots/roc.svg",
            "plots/confusion-matrix.svg",
            "plots/calibration.svg",
            "plots/cv-folds.svg",
          ]),
        );
        expect((await ctx.tracking.getArtifact(child.info.id, "plots/roc.svg")).toString()).toMatch(
          /^<svg[^>]*xmlns/,
        );
      }
      const costs = page.runs.map((r) => r.metrics.cv_cost.value);
      expect(costs).toEqual([...costs].sort((a, b) => a - b));
      const parent = await ctx.tracking.getRun(first.runId);
      expect(parent.info.status).toBe("FINISHED");
      expect(parent.params).toMatchObject({ trials: "2", seed: "1" });
      expect(parent.info.packageVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(parent.inputs.find((i) => i.role === "train")?.digest).toMatch(/^[0-9a-f]{64}$/);
      expect((await ctx.tracking.store.getMetricHistory(first.runId, "tune_gbdt_auc")).length).toBe(
        2,
      );
    });
  });

  it("stores the chosen model with its feature importance and registers it; the first version serves by bootstrap", async () => {
    await withContext(async (ctx) => {
      const chosen = await ctx.tracking.getRun(first.chosenRunId);
      expect(chosen.artifacts.map((a) => a.path)).toEqual(
        expect.arrayContaining(["model/model.json", "plots/feature-importance.svg"]),
      );
      const version = await ctx.registry.resolve("credit-risk@champion");
      expect(version).toMatchObject({ version: 1, runId: first.chosenRunId, status: "READY" });
      expect(version.signature.inputs).toHaveLength(20);
      expect(Object.keys(version.inputExample)).toHaveLength(20);
      const { model } = await ctx.registry.loadModel("credit-risk/1");
      expect(model.pipeline.threshold).toBeGreaterThan(0);
      const audit = await ctx.registry.store.listAudit({ name: "credit-risk" });
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({
        alias: "champion",
        toVersion: 1,
        bootstrap: true,
        actor: "system",
      });
    });
  });

  it("registers a second training as version 2 without moving champion", async () => {
    const r = await run([
      "train",
      "--trials",
      "1",
      "--algorithm",
      "logreg",
      "--seed",
      "2",
      "--top",
      "1",
      "--json",
    ]);
    expect(r.code).toBe(0);
    const second = JSON.parse(r.stdout);
    expect(second.model.version).toBe(2);
    expect(second.bootstrap).toBe(false);
    await withContext(async (ctx) => {
      expect((await ctx.registry.resolve("credit-risk@champion")).version).toBe(1);
      expect(await ctx.registry.store.listAudit({ name: "credit-risk" })).toHaveLength(1);
    });
  }, 120_000);

  it("scores the same through the registry reference as through the model file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "riskometer-consistency-"));
    try {
      const file = join(dir, "v1.json");
      await withContext(async (ctx) => {
        const { writeFile } = await import("node:fs/promises");
        const version = await ctx.registry.resolve("credit-risk/1");
        await writeFile(file, await ctx.artifacts.get(version.artifactPath));
      });
      const input = join(fileURLToPath(new URL("../data/", import.meta.url)), "credit-g.arff");
      const byRef = await run([
        "predict",
        "--model",
        "credit-risk@champion",
        "--input",
        input,
        "--output",
        join(dir, "a.csv"),
        "--json",
      ]);
      const byFile = await run([
        "predict",
        "--model",
        file,
        "--input",
        input,
        "--output",
        join(dir, "b.csv"),
        "--json",
      ]);
      expect(byRef.code).toBe(0);
      expect(byFile.code).toBe(0);
      const { readFile } = await import("node:fs/promises");
      expect(await readFile(join(dir, "a.csv"), "utf8")).toBe(
        await readFile(join(dir, "b.csv"), "utf8"),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe("kill -9 during training", () => {
  it("leaves no half-registered version and no run RUNNING after the next start", async () => {
    const before = await withContext((ctx) => ctx.registry.store.listModelVersions("credit-risk"));
    const child = spawn(process.execPath, [BIN, "train", "--trials", "20", "--seed", "5"], {
      env: env(),
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const runId = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`training did not start: ${stderr}`)),
        60_000,
      );
      child.stderr.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const m = /training run ([0-9a-f]{32})/.exec(stderr);
        // Kill it mid-way: once tuning has made progress.
        if (m && /tune \w+: [1-9]/.test(stderr)) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    await withContext(async (ctx) => {
      expect(ctx.reaped.map((r) => r.id)).toContain(runId);
      const running = await ctx.tracking.store.searchRuns({
        filter: "attributes.status = 'RUNNING'",
      });
      expect(running.runs).toEqual([]);
      const killed = await ctx.tracking.getRun(runId);
      expect(killed.info.status).toBe("KILLED");
      expect(killed.info.statusReason).toMatch(/process/);
      const after = await ctx.registry.store.listModelVersions("credit-risk");
      expect(after.map((v) => v.version)).toEqual(before.map((v) => v.version));
      for (const v of after) expect(await ctx.artifacts.exists(v.artifactPath)).toBe(true);
    });
  }, 180_000);
});
