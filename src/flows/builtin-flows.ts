import { loadTrainingData } from "../data/index.js";
import { SqlDecisionStore } from "../decisions/index.js";
import { DEFAULT_TRIALS } from "../ml/index.js";
import type { FlowDefinition } from "./flow-definition.js";
import { runTrainFlow } from "./train-flow.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * `retrain`: the training flow (tune, compare by cross-validation, track, register) on the
 * bundled data. It registers a new version and never moves `champion` (a person promotes).
 */
export const RETRAIN_FLOW: FlowDefinition = {
  name: "retrain",
  description:
    "Tune and compare every algorithm by repeated cross-validation, track the candidates and register the best as a new version (champion moves only by a person's promotion).",
  params: {
    trials: {
      type: "integer",
      description: "search trials per algorithm",
      default: DEFAULT_TRIALS,
      min: 1,
      max: 500,
    },
    seed: { type: "integer", description: "random seed", default: 0, min: 0 },
    top: {
      type: "integer",
      description: "candidates recorded as child runs",
      default: 5,
      min: 1,
      max: 20,
    },
  },
  maxAttempts: 2,
  retryDelayMs: 5 * MINUTE,
  timeoutMs: 2 * HOUR,
  async run(ctx, params) {
    const data = await ctx.step("load data", () => loadTrainingData());
    ctx.log(`${data.rows} rows, ${data.bad} bad, sha256 ${data.digest.slice(0, 12)}`);
    const result = await ctx.step("train and register", () => {
      let stage = "";
      return runTrainFlow(ctx.app, {
        data,
        trials: Number(params.trials),
        seed: Number(params.seed),
        top: Number(params.top),
        actor: "flow:retrain",
        onRunStarted: (id) => ctx.log(`training run ${id}`),
        onProgress: (name, done, total) => {
          // One line per stage, and its end: progress without flooding the log.
          if (name !== stage) {
            stage = name;
            ctx.log(`${name}: ${done}/${total}`);
          } else if (done === total) ctx.log(`${name}: done`);
          if (ctx.signal.aborted) throw ctx.signal.reason;
        },
      });
    });
    return {
      trainingRunId: result.parentRunId,
      chosenRunId: result.chosenRunId,
      chosen: result.chosen,
      model: { name: result.version.name, version: result.version.version },
      servingByBootstrap: result.bootstrap !== null,
      testMetrics: result.candidates.find((c) => c.chosen)?.test ?? null,
    };
  },
};

/**
 * `drift-report`: what the decision log says about the recent window: how many decisions, the
 * share refused and the mean probability of bad, by model version, next to the bad rate the
 * serving model was trained on. (The full drift and quality tests belong to the monitoring
 * reports; this flow computes what exists.)
 */
export const DRIFT_REPORT_FLOW: FlowDefinition = {
  name: "drift-report",
  description:
    "Summarise the decisions of the recent window (count, refusal share, mean probability of bad, by model version) against the serving model's training data.",
  params: {
    windowHours: {
      type: "number",
      description: "how far back the window reaches",
      default: 3,
      min: 0.01,
      max: 24 * 31,
    },
    minDecisions: {
      type: "integer",
      description: "if the window holds fewer, the latest this many decisions instead",
      default: 200,
      min: 1,
      max: 100_000,
    },
  },
  maxAttempts: 3,
  retryDelayMs: MINUTE,
  timeoutMs: 30 * MINUTE,
  async run(ctx, params) {
    const store = new SqlDecisionStore(ctx.app.database);
    const until = Date.now();
    const since = until - Number(params.windowHours) * HOUR;
    const min = Number(params.minDecisions);
    const window = await ctx.step("read decisions", async () => {
      const inWindow = await readDecisions(store, { since, until }, Infinity);
      if (inWindow.length >= min) return { since, decisions: inWindow, widened: false };
      const latest = await readDecisions(store, { until }, min);
      return { since: null, decisions: latest, widened: true };
    });
    if (window.widened) {
      ctx.log(
        `fewer than ${min} decisions in the last ${params.windowHours} h: using the latest ${window.decisions.length}`,
      );
    }
    return ctx.step("summarise", async () => {
      const byVersion = new Map<string, { n: number; bad: number; sumP: number }>();
      for (const d of window.decisions) {
        const key = `${d.modelName}/${d.modelVersion}`;
        const s = byVersion.get(key) ?? { n: 0, bad: 0, sumP: 0 };
        s.n++;
        if (d.risk === "bad") s.bad++;
        s.sumP += d.probabilityBad;
        byVersion.set(key, s);
      }
      const served = await ctx.app.registry
        .loadModel(`${ctx.app.config.modelName}@champion`)
        .then((m) => m.model.body.training.data)
        .catch(() => null);
      const n = window.decisions.length;
      const bad = window.decisions.filter((d) => d.risk === "bad").length;
      const summary = {
        window: {
          since: window.since === null ? null : new Date(window.since).toISOString(),
          until: new Date(until).toISOString(),
          widenedToLatest: window.widened,
        },
        decisions: n,
        refusedShare: n === 0 ? null : bad / n,
        meanProbabilityBad:
          n === 0 ? null : window.decisions.reduce((a, d) => a + d.probabilityBad, 0) / n,
        byModelVersion: Object.fromEntries(
          [...byVersion].map(([k, s]) => [
            k,
            { decisions: s.n, refusedShare: s.bad / s.n, meanProbabilityBad: s.sumP / s.n },
          ]),
        ),
        trainingBadRate: served ? served.bad / served.rows : null,
      };
      ctx.log(
        n === 0
          ? "no decisions logged yet"
          : `${n} decisions, ${(100 * (summary.refusedShare ?? 0)).toFixed(1)} % refused, mean probability of bad ${(summary.meanProbabilityBad ?? 0).toFixed(3)}`,
      );
      return summary;
    });
  },
};

/** Newest first, page by page, at most `max`. */
async function readDecisions(
  store: SqlDecisionStore,
  range: { since?: number; until: number },
  max: number,
) {
  const out = [];
  let after: string | undefined;
  while (out.length < max) {
    const page = await store.listDecisions({
      ...range,
      limit: Math.min(1000, max - out.length),
      after,
    });
    out.push(...page.decisions);
    if (page.nextCursor === null) break;
    after = page.nextCursor;
  }
  return out;
}

/** The flows this version knows, by name. */
export const BUILTIN_FLOWS: ReadonlyMap<string, FlowDefinition> = new Map(
  [RETRAIN_FLOW, DRIFT_REPORT_FLOW].map((f) => [f.name, f]),
);
