import {
  type DatasetSpec,
  featureColumns,
  loadTrainingData,
  resolveDatasetSpec,
} from "../data/index.js";
import { SqlDecisionStore } from "../decisions/index.js";
import { DecisionEraser, specOfVersion } from "../decisions/erasure.js";
import { DEFAULT_TRIALS } from "../ml/index.js";
import { FairnessCounter } from "../monitoring/fairness.js";
import { CHART_SAMPLE, ChartSample } from "../monitoring/chart-sample.js";
import { DriftAccumulator } from "../monitoring/streaming-drift.js";
import { qualityReport } from "../monitoring/quality.js";
import {
  featureDistributions,
  renderDriftReportHtml,
  reportHtmlKey,
} from "../monitoring/report-html.js";
import {
  REFERENCE_PROFILE_ARTIFACT,
  type ReferenceProfile,
  parseReferenceProfile,
  profileFrame,
} from "../monitoring/reference-profile.js";
import { AccessLog } from "../auth/access-log.js";
import type { FlowContext, FlowDefinition } from "./flow-definition.js";
import { defaultModelName, runTrainFlow } from "./train-flow.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * `retrain`: the training flow (tune, compare by cross-validation, track, register) on the
 * bundled data, or on a file the params name with its spec (a spec file, or a target column to
 * infer one from). It registers a new version and never moves `champion` (a person promotes).
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
    data: {
      type: "string",
      description:
        "labelled ARFF or CSV file on the worker's disk (empty: the bundled German credit data)",
      default: "",
    },
    dataset: {
      type: "string",
      description: "the dataset spec file of `data` (see `riskometer datasets`)",
      default: "",
    },
    target: {
      type: "string",
      description: "without `dataset`: the target column; the spec is then inferred from `data`",
      default: "",
    },
    riskClass: {
      type: "string",
      description: "with `target`: the target value that means default (bad)",
      default: "",
    },
    missing: {
      type: "string",
      description:
        "with `target`: texts that also mean a missing value, separated by commas (empty, NA, N/A, null and NaN always do)",
      default: "",
    },
    model: {
      type: "string",
      description:
        "registered model the version is added to (empty: the configured model for German credit, else the spec's name)",
      default: "",
    },
    skipInvalid: {
      type: "boolean",
      description: "leave invalid rows out (listed in the log) instead of failing",
      default: false,
    },
    ifNoModel: {
      type: "boolean",
      description:
        "train only if the model has no version yet (how `up` and `worker` train the first model)",
      default: false,
    },
  },
  maxAttempts: 2,
  retryDelayMs: 5 * MINUTE,
  timeoutMs: 2 * HOUR,
  async run(ctx, params) {
    const text = (name: string): string | undefined =>
      params[name] === "" || params[name] === undefined ? undefined : String(params[name]);
    const data = await ctx.step("load data", async () => {
      const spec = await resolveDatasetSpec(
        {
          data: text("data"),
          dataset: text("dataset"),
          target: text("target"),
          riskClass: text("riskClass"),
          missing: text("missing")?.split(","),
        },
        (inferred) => {
          ctx.log(`spec "${inferred.spec.name}" inferred from ${inferred.rows} rows`);
          for (const w of inferred.warnings) ctx.log(`check: ${w}`);
        },
        { dataset: "dataset", target: "target", riskClass: "riskClass", missing: "missing" },
      );
      return loadTrainingData({
        path: text("data"),
        spec,
        skipInvalid: params.skipInvalid === true,
        onSkipped: (t) => ctx.log(t),
      });
    });
    ctx.log(
      `${data.path}: ${data.rows} rows, ${data.bad} bad, spec ${data.spec.name}, sha256 ${data.digest.slice(0, 12)}`,
    );
    const modelName = text("model") ?? defaultModelName(data.spec, ctx.app.config.modelName);
    if (params.ifNoModel === true) {
      const versions = await ctx.app.registry.store.listModelVersions(modelName).catch(() => []);
      if (versions.length > 0) {
        ctx.log(`${modelName} already has ${versions.length} version(s): nothing to train`);
        return { skipped: `${modelName} already has a version` };
      }
    }
    const result = await ctx.step("train and register", () => {
      let stage = "";
      return runTrainFlow(ctx.app, {
        data,
        modelName,
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
 * `drift-report`: one model's decisions (param `model`, default the configured one) of the
 * recent window (the latest N when it holds fewer) against its serving version's training data
 * (its reference profile, stored when it was trained):
 * data drift per column and for the dataset, prediction drift (the probability of bad),
 * classification quality of the decisions whose outcomes are known, and fairness between the
 * groups of the version's dataset spec. The result is kept with the run (its history is the flow's).
 */
export const DRIFT_REPORT_FLOW: FlowDefinition = {
  name: "drift-report",
  description:
    "Compare one model's decisions of the recent window with its serving version's training data: data drift per column and for the dataset, prediction drift, quality where outcomes are known, and fairness between the groups the model's dataset spec names (German credit: age band, foreign worker, sex).",
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
    model: {
      type: "string",
      description:
        "registered model whose decisions are compared with its champion's training data (empty: the configured model)",
      default: "",
    },
  },
  maxAttempts: 3,
  retryDelayMs: MINUTE,
  timeoutMs: 30 * MINUTE,
  async run(ctx, params) {
    const { app } = ctx;
    const store = new SqlDecisionStore(app.database);
    const until = Date.now();
    const since = until - Number(params.windowHours) * HOUR;
    const min = Number(params.minDecisions);
    const name = String(params.model) || app.config.modelName;
    const reference = await ctx.step("load the reference", () => servingReference(ctx, name));
    const window = await ctx.step("count decisions", async () => {
      // Only this model's decisions: another model's are on other columns and another scale.
      const inWindow = await store.countRange({ since, until, model: name });
      return inWindow >= min
        ? { since, widened: false, pages: store.pagesOfRange({ since, until, model: name }) }
        : { since: null, widened: true, pages: store.pagesOfRange({ until, model: name }, min) };
    });
    if (window.widened) {
      ctx.log(
        `fewer than ${min} decisions in the last ${params.windowHours} h: using the latest ${min} at most`,
      );
    }
    const result = await ctx.step("compare", async () => {
      // Decisions stream through a page at a time: the tests and fairness keep counts, not rows,
      // so a window of any size needs the same memory. Outcomes (known long after decisions,
      // so far fewer) are kept for the quality figures; the charts draw from a fixed sample.
      const columns = reference.spec ? featureColumns(reference.spec) : [];
      const schema = columns.map((c) => ({ name: c.name, kind: c.kind }));
      const PROBABILITY = [{ name: "probability_bad", kind: "numeric" as const }];
      const profile = reference.profile;
      const data = profile ? new DriftAccumulator(schema, profile) : null;
      const prediction = profile
        ? new DriftAccumulator(PROBABILITY, { probability_bad: profile.probabilityBad })
        : null;
      const fairness = new FairnessCounter(reference.spec?.fairness ?? []);
      const outcomes: number[] = [];
      const outcomeProbabilities: number[] = [];
      let threshold: number | undefined;
      const sample = new ChartSample(CHART_SAMPLE, schema);
      let n = 0;
      let bad = 0;
      let sumP = 0;
      for await (const page of window.pages) {
        // Erased decisions (retention) have no applicant's values left: they count for
        // prediction drift, quality and fairness (by their kept groups), not for data drift.
        const live = page.some((d) => d.erasedAt !== null)
          ? page.filter((d) => d.erasedAt === null)
          : page;
        const frame: Record<string, (string | null)[] | Float64Array> = {};
        for (const column of columns) {
          const values = live.map((d) => (d.input as Record<string, unknown>)[column.name]);
          frame[column.name] =
            column.kind === "numeric"
              ? Float64Array.from(values, (v) => (typeof v === "number" ? v : NaN))
              : values.map((v) => (typeof v === "string" ? v : null));
        }
        const probabilities = Float64Array.from(page, (d) => d.probabilityBad);
        if (live.length > 0) data?.add(frame);
        prediction?.add({ probability_bad: probabilities });
        live.forEach((d, i) => sample.offer(frame, i, d.probabilityBad));
        page.forEach((d) => {
          n++;
          sumP += d.probabilityBad;
          if (d.risk === "bad") bad++;
          fairness.add({
            values: d.input as Record<string, unknown>,
            approved: d.risk === "good",
            outcome: d.outcome?.outcome ?? null,
          });
          if (d.outcome) {
            outcomes.push(d.outcome.outcome === "bad" ? 1 : 0);
            outcomeProbabilities.push(d.probabilityBad);
            threshold ??= d.threshold;
          }
        });
      }
      const dataDrift = data?.result() ?? null;
      const predictionDrift = prediction?.result().columns[0] ?? null;
      const quality = qualityReport(
        Uint8Array.from(outcomes),
        Float64Array.from(outcomeProbabilities),
        threshold,
      );
      const distributions = profile
        ? {
            ...featureDistributions(schema, profileFrame(profile), sample.frame()),
            ...featureDistributions(
              PROBABILITY,
              { probability_bad: profile.probabilityBad },
              { probability_bad: sample.probabilities() },
            ),
          }
        : {};
      const notes = reference.why ? [reference.why] : [];
      if (n > CHART_SAMPLE) {
        notes.push(
          `the charts of the current data show a random sample of ${CHART_SAMPLE.toLocaleString("en")} of the ${n.toLocaleString("en")} decisions; every test and figure uses all of them`,
        );
      }
      if (dataDrift) {
        ctx.log(
          `${n} decisions: ${dataDrift.driftedColumns} of ${dataDrift.countedColumns} columns drifted (share ${dataDrift.driftShare.toFixed(2)})${dataDrift.datasetDrift ? ": the dataset DRIFTED" : ""}`,
        );
      } else ctx.log(reference.why ?? "no reference");
      return {
        modelName: name,
        model: reference.model,
        window: {
          since: window.since === null ? null : new Date(window.since).toISOString(),
          until: new Date(until).toISOString(),
          widenedToLatest: window.widened,
        },
        decisions: n,
        refusedShare: n === 0 ? null : bad / n,
        meanProbabilityBad: n === 0 ? null : sumP / n,
        dataDrift: dataDrift && jsonSafe(dataDrift),
        predictionDrift: predictionDrift && jsonSafe(predictionDrift),
        quality,
        fairness: fairness.result(),
        notes,
        distributions,
      };
    });

    // The same report as one self-contained page, kept in the artifact store (folder, GCS, S3).
    const html = renderDriftReportHtml({
      title: `Drift report: ${result.model ? `${result.model.name} v${result.model.version}` : "no model"}`,
      generatedAt: Date.now(),
      model: result.model,
      window: result.window,
      dataDrift: result.dataDrift,
      predictionDrift: result.predictionDrift,
      quality: result.quality,
      fairness: result.fairness,
      notes: result.notes,
      distributions: result.distributions,
    });
    await ctx.step("store the HTML page", () =>
      ctx.app.artifacts.put(reportHtmlKey(ctx.run.id), Buffer.from(html)),
    );
    ctx.log(`report page: /api/v1/reports/${ctx.run.id}/report.html`);
    return result;
  },
};

/** The version serving `name` and its reference profile, or why there is none. */
async function servingReference(
  ctx: FlowContext,
  name: string,
): Promise<{
  model: { name: string; version: number } | null;
  /** The dataset spec the serving version was trained on: its columns and fairness groups. */
  spec: DatasetSpec | null;
  profile: ReferenceProfile | null;
  why?: string;
}> {
  const { app } = ctx;
  const ref = `${name}@champion`;
  let loaded;
  try {
    loaded = await app.registry.loadModel(ref);
  } catch {
    return {
      model: null,
      spec: null,
      profile: null,
      why: `no model serves (${ref}): nothing to compare with`,
    };
  }
  const { version } = loaded;
  const { spec } = loaded.model;
  const model = { name: version.name, version: version.version };
  const key = `runs/${version.runId}/${REFERENCE_PROFILE_ARTIFACT}`;
  try {
    const bytes = await app.artifacts.get(key);
    return { model, spec, profile: parseReferenceProfile(bytes.toString("utf8"), key) };
  } catch {
    return {
      model,
      spec,
      profile: null,
      why: `${version.name}/${version.version} has no reference profile (trained before profiles were kept): retrain to compare drift`,
    };
  }
}

/** JSON has no Infinity (a category only in the current data): written as null. */
function jsonSafe<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === "number" && !Number.isFinite(v) ? null : v,
    ),
  ) as T;
}

const DAY = 24 * HOUR;

/**
 * `retention`: erases the personal fields of decisions older than the retention period
 * (RISKOMETER_DECISION_RETENTION_DAYS, or the `days` param), keeping what monitoring needs
 * (see DecisionEraser). Scheduled daily when a retention period is set.
 */
export const RETENTION_FLOW: FlowDefinition = {
  name: "retention",
  description:
    "Erase the applicant's values, reasons and explanation of decisions older than the retention period (RISKOMETER_DECISION_RETENTION_DAYS), keeping scores, risk, outcome, model, time and the fairness groups; each run is in the access log.",
  params: {
    days: {
      type: "integer",
      description:
        "erase decisions older than this many days (0: RISKOMETER_DECISION_RETENTION_DAYS)",
      default: 0,
      min: 0,
      max: 36_500,
    },
  },
  maxAttempts: 3,
  retryDelayMs: 5 * MINUTE,
  timeoutMs: 6 * HOUR,
  async run(ctx, params) {
    const days = Number(params.days) || ctx.app.config.decisionRetentionDays;
    if (days === 0) {
      ctx.log("no retention period set (RISKOMETER_DECISION_RETENTION_DAYS=0): nothing erased");
      return { days: 0, erased: 0 };
    }
    const now = Date.now();
    const before = now - days * DAY;
    const eraser = new DecisionEraser(ctx.app.database, specOfVersion(ctx.app.registry));
    const erased = await ctx.step("erase", () =>
      eraser.erase({ before }, now, (n) => ctx.log(`${n} decisions erased so far`)),
    );
    ctx.log(
      `${erased} decisions older than ${days} days erased (made before ${new Date(before).toISOString()})`,
    );
    const log = new AccessLog(ctx.app.database);
    log.record({
      at: now,
      user: "system",
      role: "system",
      action: "retention-erase",
      target: null,
      status: 200,
      address: "local",
      detail: `${erased} decisions older than ${days} days (flow run ${ctx.run.id})`,
    });
    await log.close();
    return { days, before: new Date(before).toISOString(), erased };
  },
};

/** The flows this version knows, by name. */
export const BUILTIN_FLOWS: ReadonlyMap<string, FlowDefinition> = new Map(
  [RETRAIN_FLOW, DRIFT_REPORT_FLOW, RETENTION_FLOW].map((f) => [f.name, f]),
);
