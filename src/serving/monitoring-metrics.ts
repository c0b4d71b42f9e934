import { Gauge, type Registry } from "prom-client";
import type { FlowRun, SqlFlowStore } from "../flows/index.js";
import type { ColumnDrift, DatasetDrift } from "../monitoring/drift.js";
import type { FairnessComparison } from "../monitoring/fairness.js";
import type { QualityReport } from "../monitoring/quality.js";

/** The parts of a `drift-report` result that become metrics. */
interface ReportResult {
  /** The registered model reported on (absent in reports made before reports named it). */
  readonly modelName?: string;
  readonly model: { name: string; version: number } | null;
  readonly decisions: number;
  readonly refusedShare: number | null;
  readonly dataDrift: DatasetDrift | null;
  readonly predictionDrift: ColumnDrift | null;
  readonly quality: QualityReport;
  readonly fairness: readonly FairnessComparison[];
}

/** How long a read of the latest reports is reused across scrapes. */
const CACHE_MS = 15_000;

/** Completed reports read per scrape: the latest report of each model is among them. */
const RECENT_REPORTS = 50;

/** The model a report is about: its name, or "" for an old report that names none. */
function reportModel(run: FlowRun): string {
  const r = run.result as ReportResult;
  return r.modelName ?? r.model?.name ?? "";
}

/**
 * The latest `drift-report` of each model as Prometheus gauges labelled `model`, read from the
 * run history at scrape time (a report written by any worker shows on every replica):
 * per-feature drift (score and flag, labelled with the test), dataset drift, prediction drift,
 * quality and fairness, and when the report ran. A metric without a value (no report yet, a
 * test skipped, AUC undefined) is absent rather than 0.
 */
export class MonitoringMetrics {
  private cached: { at: number; runs: FlowRun[] } | null = null;

  constructor(
    registry: Registry,
    private readonly store: SqlFlowStore,
  ) {
    // An arrow keeps this object: a gauge's collect() runs with `this` bound to the gauge.
    const latest = () => this.latest();
    // Each fill sets its gauge through `g`, which adds the report's `model` label.
    type Labelled<L extends string> = {
      set(labels: Partial<Record<L, string>>, v: number): void;
    };
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      fill: (g: Labelled<L>, r: ReportResult, run: FlowRun) => void,
    ) =>
      new Gauge<L | "model">({
        name,
        help,
        labelNames: ["model", ...labelNames],
        registers: [registry],
        collect: async function (this: Gauge<L | "model">) {
          this.reset();
          for (const run of await latest()) {
            const model = reportModel(run);
            const g: Labelled<L> = {
              set: (labels, v) => this.set({ model, ...labels } as Record<L | "model", string>, v),
            };
            fill(g, run.result as ReportResult, run);
          }
        },
      });
    const set = <L extends string>(
      g: Labelled<L>,
      labels: Partial<Record<L, string>>,
      v: number | null,
    ) => {
      if (v !== null && Number.isFinite(v)) g.set(labels, v);
    };

    gauge(
      "riskometer_drift_report_timestamp_seconds",
      "When the latest drift report finished (Unix time)",
      [],
      (g, _r, run) => g.set({}, (run.endedAt ?? 0) / 1000),
    );
    gauge(
      "riskometer_drift_report_decisions",
      "Decisions the latest drift report compared",
      [],
      (g, r) => g.set({}, r.decisions),
    );
    gauge(
      "riskometer_feature_drift_score",
      "Per-feature drift score of the latest report: the p-value of a statistical test, or the distance",
      ["feature", "test"],
      (g, r) => {
        for (const c of r.dataDrift?.columns ?? []) {
          if (c.test) set(g, { feature: c.column, test: c.test }, c.pValue ?? c.statistic);
        }
      },
    );
    gauge(
      "riskometer_feature_drift_detected",
      "1 when the latest report found drift in the feature, else 0",
      ["feature", "test"],
      (g, r) => {
        for (const c of r.dataDrift?.columns ?? []) {
          if (c.test) g.set({ feature: c.column, test: c.test }, c.drift ? 1 : 0);
        }
      },
    );
    gauge(
      "riskometer_feature_missing_share",
      "Share of missing values per feature in the latest report's window",
      ["feature"],
      (g, r) => {
        for (const c of r.dataDrift?.columns ?? []) g.set({ feature: c.column }, c.missing.current);
      },
    );
    gauge(
      "riskometer_dataset_drift_share",
      "Share of the features that drifted in the latest report",
      [],
      (g, r) => set(g, {}, r.dataDrift?.driftShare ?? null),
    );
    gauge(
      "riskometer_dataset_drift_detected",
      "1 when the latest report found dataset drift, else 0",
      [],
      (g, r) => {
        if (r.dataDrift) g.set({}, r.dataDrift.datasetDrift ? 1 : 0);
      },
    );
    gauge(
      "riskometer_prediction_drift_score",
      "Drift score of the probability of bad in the latest report (p-value or distance)",
      ["test"],
      (g, r) => {
        const p = r.predictionDrift;
        if (p?.test) set(g, { test: p.test }, p.pValue ?? p.statistic);
      },
    );
    gauge(
      "riskometer_model_quality",
      "Quality of the decisions with known outcomes in the latest report, at the model's threshold",
      ["metric"],
      (g, r) => {
        const q = r.quality;
        const at = q.atCuts.at(-1);
        set(g, { metric: "rows" }, q.rows);
        set(g, { metric: "roc_auc" }, q.rocAuc);
        set(g, { metric: "log_loss" }, q.logLoss);
        for (const m of ["accuracy", "precision", "recall", "f1"] as const)
          set(g, { metric: m }, at?.[m] ?? null);
      },
    );
    gauge(
      "riskometer_fairness_approval_rate_ratio",
      "Approval rate of the group ÷ that of the reference group in the latest report (1 = parity)",
      ["attribute", "group", "reference"],
      (g, r) => {
        for (const f of r.fairness) {
          set(
            g,
            { attribute: f.attribute, group: f.group.group, reference: f.reference.group },
            f.approvalRateRatio,
          );
        }
      },
    );
    gauge(
      "riskometer_fairness_equal_opportunity_difference",
      "True-positive approval rate of the group − that of the reference group (0 = parity)",
      ["attribute", "group", "reference"],
      (g, r) => {
        for (const f of r.fairness) {
          set(
            g,
            { attribute: f.attribute, group: f.group.group, reference: f.reference.group },
            f.equalOpportunityDifference,
          );
        }
      },
    );
  }

  /** The latest completed drift report of each model, re-read at most every 15 s. */
  private async latest(): Promise<FlowRun[]> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.runs;
    const runs = await this.store.listRuns({
      flow: "drift-report",
      states: ["COMPLETED"],
      limit: RECENT_REPORTS,
    });
    const byModel = new Map<string, FlowRun>();
    for (const run of runs) {
      // Newest first: the first usable report of a model is its latest.
      if (!(run.result as ReportResult | null)?.quality) continue;
      const model = reportModel(run);
      if (!byModel.has(model)) byModel.set(model, run);
    }
    this.cached = { at: now, runs: [...byModel.values()] };
    return this.cached.runs;
  }
}
