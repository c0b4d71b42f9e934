/**
 * A small tracking + registry world for the API and browser suites: two experiments, a training
 * parent run with three candidate children (params, metrics with history, plots, model file), a
 * registered model with two versions (v1 serving as champion via the bootstrap), and users of
 * each role with tokens.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/core/config.js";
import { type AppContext, openContext } from "../../src/main.js";
import { runArtifactKey } from "../../src/tracking/index.js";

export interface SeededWorld {
  readonly ctx: AppContext;
  readonly experimentId: string;
  readonly otherExperimentId: string;
  readonly runs: {
    readonly parent: string;
    readonly gbdt: string;
    readonly forest: string;
    readonly logistic: string;
    readonly baseline: string;
  };
  readonly tokens: {
    readonly alice: string;
    readonly bob: string;
    readonly carol: string;
    readonly victor: string;
  };
  close(): Promise<void>;
}

interface Candidate {
  readonly kind: string;
  readonly params: Record<string, string | number>;
  readonly auc: number;
  readonly cost: number;
}

const CANDIDATES: readonly Candidate[] = [
  {
    kind: "gbdt",
    params: { "gbdt.learningRate": 0.05, "gbdt.trees": 300 },
    auc: 0.801,
    cost: 0.52,
  },
  {
    kind: "forest",
    params: { "forest.trees": 500, "forest.maxDepth": 12 },
    auc: 0.789,
    cost: 0.55,
  },
  { kind: "logistic", params: { "logistic.l2": 0.1 }, auc: 0.772, cost: 0.58 },
];

/** A small self-contained chart: a curve under a title, like the training plots. */
export function plotSvg(title: string, bend: number): string {
  const points = Array.from({ length: 21 }, (_, i) => {
    const x = i / 20;
    const y = 1 - (1 - x) ** (1 + bend * 4);
    return `${(40 + x * 260).toFixed(1)},${(210 - y * 170).toFixed(1)}`;
  }).join(" ");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 240" width="320" height="240" role="img" aria-label="${title}">`,
    `<rect width="320" height="240" fill="#ffffff"/>`,
    `<text x="160" y="22" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#1b2a41">${title}</text>`,
    `<line x1="40" y1="210" x2="300" y2="210" stroke="#6b7a90"/><line x1="40" y1="40" x2="40" y2="210" stroke="#6b7a90"/>`,
    `<line x1="40" y1="210" x2="300" y2="40" stroke="#b8c2d0" stroke-dasharray="4 4"/>`,
    `<polyline fill="none" stroke="#1f5fa8" stroke-width="2.5" points="${points}"/>`,
    `</svg>`,
  ].join("");
}

const SIGNATURE = {
  inputs: [
    { name: "duration", type: "numeric" as const, label: "Duration (months)" },
    {
      name: "purpose",
      type: "categorical" as const,
      label: "Purpose",
      values: ["car", "education"],
    },
  ],
  output: { name: "class", values: ["good", "bad"] },
};

/** Opens a context on a fresh SQLite file and artifact folder and fills it. */
export async function seedWorld(): Promise<SeededWorld> {
  const home = await mkdtemp(join(tmpdir(), "riskometer-api-"));
  let now = Date.UTC(2025, 2, 3, 9, 0, 0);
  const ctx = await openContext(
    loadConfig(
      {},
      {
        home,
        databaseUrl: `sqlite:${join(home, "riskometer.db")}`,
        artifactsUrl: join(home, "artifacts"),
        allowSelfApproval: false,
      },
    ),
    { clock: () => (now += 60_000) },
  );
  try {
    const experiment = await ctx.tracking.experiment("credit-risk");
    const other = await ctx.tracking.experiment("credit-risk-baseline");

    const parent = await ctx.tracking.startRun({
      experimentId: experiment.id,
      name: "weekly-retrain",
    });
    await parent.logParams({ seed: 7, trials: 40, chosen: "gbdt" });
    await parent.logInputs([
      { name: "german-credit", digest: "ab".repeat(32), role: "train", rows: 800 },
      { name: "german-credit", digest: "cd".repeat(32), role: "test", rows: 200 },
    ]);

    const ids: Record<string, string> = {};
    for (const [i, c] of CANDIDATES.entries()) {
      const run = await ctx.tracking.startRun({
        experimentId: experiment.id,
        name: `candidate-${c.kind}`,
        parentRunId: parent.id,
        tags: { stage: "candidate" },
      });
      await run.logParams({ kind: c.kind, ...c.params });
      // One point per CV fold, so the metric has a history.
      for (let fold = 0; fold < 5; fold++) {
        await run.logMetrics({ fold_auc: c.auc + (fold - 2) * 0.01 }, fold);
      }
      await run.logMetrics({
        cv_auc: c.auc,
        cv_auc_std: 0.02 + i * 0.005,
        cv_cost: c.cost,
        test_auc: c.auc - 0.01,
        test_cost: c.cost + 0.02,
        test_accuracy: 0.75 - i * 0.01,
        test_recall: 0.7 - i * 0.03,
        test_specificity: 0.78 + i * 0.01,
      });
      await run.logArtifact("plots/roc.svg", plotSvg(`ROC curve — ${c.kind}`, 0.6 - i * 0.15));
      await run.logArtifact("plots/cv-folds.svg", plotSvg(`CV folds — ${c.kind}`, 0.3));
      await run.logArtifact(
        "model/model.json",
        JSON.stringify({ format: "riskometer-test", kind: c.kind }),
      );
      await run.end();
      ids[c.kind] = run.id;
    }
    await parent.logMetrics({ cv_auc: CANDIDATES[0].auc, test_auc: CANDIDATES[0].auc - 0.01 });
    await parent.end();

    const baseline = await ctx.tracking.startRun({
      experimentId: other.id,
      name: "baseline-logistic",
    });
    await baseline.logParams({ kind: "logistic" });
    await baseline.logMetrics({ cv_auc: 0.74, cv_cost: 0.61, test_auc: 0.73, test_cost: 0.63 });
    await baseline.end();

    await ctx.users.createUser("alice", "approver");
    await ctx.users.createUser("bob", "approver");
    await ctx.users.createUser("carol", "clerk");
    await ctx.users.createUser("victor", "viewer");

    for (const kind of ["gbdt", "forest"]) {
      await ctx.registry.registerVersion({
        name: "credit-risk",
        runId: ids[kind],
        artifactPath: runArtifactKey(ids[kind], "model/model.json"),
        description: `${kind} chosen by weekly-retrain`,
        signature: SIGNATURE,
        inputExample: { duration: 24, purpose: "car" },
        createdBy: "alice",
      });
    }
    await ctx.registry.bootstrapServing("credit-risk", 1);

    return {
      ctx,
      experimentId: experiment.id,
      otherExperimentId: other.id,
      runs: {
        parent: parent.id,
        gbdt: ids.gbdt,
        forest: ids.forest,
        logistic: ids.logistic,
        baseline: baseline.id,
      },
      tokens: {
        alice: (await ctx.users.issueToken("alice")).token,
        bob: (await ctx.users.issueToken("bob")).token,
        carol: (await ctx.users.issueToken("carol")).token,
        victor: (await ctx.users.issueToken("victor")).token,
      },
      close: async () => {
        await ctx.close();
        await rm(home, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await ctx.close();
    await rm(home, { recursive: true, force: true });
    throw e;
  }
}
