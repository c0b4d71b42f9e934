// Writes the Grafana dashboards of deploy/grafana/dashboards/ from the short descriptions below:
// the panels, their PromQL and units are what matters, and Grafana's JSON around them is the
// same for every panel. Run `node deploy/grafana/make-dashboards.mjs` after changing a panel;
// a test checks that the files are current and that every metric they query is exported.
import { writeFileSync } from "node:fs";

const DATASOURCE = { type: "prometheus", uid: "riskometer-prometheus" };

const DASHBOARDS = [
  {
    uid: "riskometer-service",
    title: "Riskometer · Service health",
    panels: [
      [
        "Requests per second by route",
        "timeseries",
        "reqps",
        "sum by (route) (rate(riskometer_http_requests_total[5m]))",
      ],
      [
        "Error rate (5xx share)",
        "timeseries",
        "percentunit",
        'sum(rate(riskometer_http_requests_total{status=~"5.."}[5m])) / sum(rate(riskometer_http_requests_total[5m]))',
      ],
      [
        "Latency p99 by route",
        "timeseries",
        "s",
        "histogram_quantile(0.99, sum by (le, route) (rate(riskometer_http_request_duration_seconds_bucket[5m])))",
      ],
      ["Serving version of each model", "stat", "none", "riskometer_serving_model_info"],
      ["Decisions waiting for commit", "timeseries", "none", "riskometer_decision_log_queued"],
      [
        "Decisions per group commit",
        "timeseries",
        "none",
        "rate(riskometer_decisions_logged_total[5m]) / rate(riskometer_decision_log_commits_total[5m])",
      ],
      ["Resident memory", "timeseries", "bytes", "riskometer_process_resident_memory_bytes"],
    ],
  },
  {
    uid: "riskometer-predictions",
    title: "Riskometer · Predictions",
    panels: [
      [
        "Decisions per second by risk",
        "timeseries",
        "ops",
        'sum by (risk) (rate(riskometer_predictions_total{model="$model"}[5m]))',
      ],
      [
        "Refused share",
        "timeseries",
        "percentunit",
        'sum(rate(riskometer_predictions_total{model="$model",risk="bad"}[1h])) / sum(rate(riskometer_predictions_total{model="$model"}[1h]))',
      ],
      [
        "Decisions by source",
        "timeseries",
        "ops",
        'sum by (source) (rate(riskometer_predictions_total{model="$model"}[5m]))',
      ],
      [
        "Median probability of bad",
        "timeseries",
        "percentunit",
        'histogram_quantile(0.5, sum by (le) (rate(riskometer_probability_bad_bucket{model="$model"}[1h])))',
      ],
      ["Serving version", "stat", "none", 'riskometer_serving_model_info{name="$model"}'],
      ["Decisions logged (all models)", "stat", "short", "riskometer_decisions_logged_total"],
    ],
  },
  {
    uid: "riskometer-drift",
    title: "Riskometer · Data drift",
    panels: [
      [
        "Dataset drift share",
        "timeseries",
        "percentunit",
        'riskometer_dataset_drift_share{model="$model"}',
      ],
      ["Dataset drift", "stat", "none", 'riskometer_dataset_drift_detected{model="$model"}'],
      [
        "Features drifted",
        "timeseries",
        "none",
        'sum(riskometer_feature_drift_detected{model="$model"})',
      ],
      [
        "Drift score by feature (p-value or distance)",
        "timeseries",
        "none",
        'riskometer_feature_drift_score{model="$model"}',
      ],
      [
        "Missing share by feature",
        "timeseries",
        "percentunit",
        'riskometer_feature_missing_share{model="$model"}',
      ],
      [
        "Prediction drift (probability of bad)",
        "timeseries",
        "none",
        'riskometer_prediction_drift_score{model="$model"}',
      ],
      [
        "Hours since the last report",
        "stat",
        "h",
        '(time() - riskometer_drift_report_timestamp_seconds{model="$model"}) / 3600',
      ],
      [
        "Decisions in the last report",
        "stat",
        "short",
        'riskometer_drift_report_decisions{model="$model"}',
      ],
      [
        "Real-time drift share (latest 500 decisions)",
        "timeseries",
        "percentunit",
        'riskometer_recent_drift_share{model="$model"}',
      ],
      [
        "Real-time drifted features",
        "timeseries",
        "none",
        'riskometer_recent_feature_drift_detected{model="$model"} == 1',
      ],
      [
        "Real-time refused share",
        "timeseries",
        "percentunit",
        'riskometer_recent_refused_share{model="$model"}',
      ],
    ],
  },
  {
    uid: "riskometer-quality",
    title: "Riskometer · Model quality",
    panels: [
      [
        "ROC AUC",
        "timeseries",
        "none",
        'riskometer_model_quality{model="$model",metric="roc_auc"}',
      ],
      [
        "Precision and recall at the threshold",
        "timeseries",
        "percentunit",
        'riskometer_model_quality{model="$model",metric=~"precision|recall|f1|accuracy"}',
      ],
      [
        "Log loss",
        "timeseries",
        "none",
        'riskometer_model_quality{model="$model",metric="log_loss"}',
      ],
      [
        "Decisions with known outcomes",
        "stat",
        "short",
        'riskometer_model_quality{model="$model",metric="rows"}',
      ],
    ],
  },
  {
    uid: "riskometer-fairness",
    title: "Riskometer · Fairness",
    panels: [
      [
        "Approval-rate ratio (1 = parity; below 0.8 fails the four-fifths rule)",
        "timeseries",
        "none",
        'riskometer_fairness_approval_rate_ratio{model="$model"}',
      ],
      [
        "Equal-opportunity difference (0 = parity)",
        "timeseries",
        "none",
        'riskometer_fairness_equal_opportunity_difference{model="$model"}',
      ],
    ],
  },
];

/**
 * The dashboard's model picker: panels that query `$model` show one registered model (its
 * decisions, real-time window and reports), chosen among those the server serves.
 */
const MODEL_VARIABLE = {
  name: "model",
  label: "Model",
  type: "query",
  datasource: DATASOURCE,
  definition: "label_values(riskometer_serving_model_info, name)",
  query: {
    query: "label_values(riskometer_serving_model_info, name)",
    refId: "PrometheusVariableQueryEditor-VariableQuery",
  },
  refresh: 2,
  includeAll: false,
  multi: false,
  sort: 1,
  current: {},
};

function panel([title, type, unit, expr], i) {
  const width = type === "stat" ? 6 : 12;
  return {
    id: i + 1,
    title,
    type,
    datasource: DATASOURCE,
    gridPos: { x: (i % 2) * 12, y: Math.floor(i / 2) * 8, w: width, h: 8 },
    fieldConfig: { defaults: { unit }, overrides: [] },
    options: {},
    targets: [{ refId: "A", datasource: DATASOURCE, expr, legendFormat: "__auto" }],
  };
}

/** Every dashboard as Grafana's JSON, by file name. */
export function dashboards() {
  return Object.fromEntries(
    DASHBOARDS.map((d) => [
      `${d.uid}.json`,
      {
        uid: d.uid,
        title: d.title,
        tags: ["riskometer"],
        timezone: "browser",
        schemaVersion: 39,
        version: 1,
        refresh: "30s",
        time: { from: "now-24h", to: "now" },
        templating: {
          list: d.panels.some(([, , , expr]) => expr.includes("$model")) ? [MODEL_VARIABLE] : [],
        },
        panels: d.panels.map(panel),
      },
    ]),
  );
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop())) {
  const out = new URL("./dashboards/", import.meta.url);
  for (const [name, json] of Object.entries(dashboards())) {
    writeFileSync(new URL(name, out), `${JSON.stringify(json, null, 2)}\n`);
  }
}
