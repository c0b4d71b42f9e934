import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { DecisionLogStats } from "../decisions/index.js";
import { RecentWindows } from "./recent-window.js";

/**
 * The server's Prometheus metrics, on a registry of its own (two apps in one process — tests —
 * never share counters). Names follow Prometheus conventions: base units, `_total` counters.
 */
export class ServingMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"method" | "route" | "status">;
  readonly latency: Histogram<"method" | "route">;
  readonly predictions: Counter<"model" | "risk" | "source">;
  readonly probabilityBad: Histogram<"model">;
  readonly modelInfo: Gauge<"name" | "version">;
  /** The real-time window of each served model. */
  readonly recent: RecentWindows;
  /** The version each served model's `modelInfo` series names. */
  private readonly serving = new Map<string, string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "riskometer_" });
    this.requests = new Counter({
      name: "riskometer_http_requests_total",
      help: "HTTP requests by method, route and status code",
      labelNames: ["method", "route", "status"],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: "riskometer_http_request_duration_seconds",
      help: "Time from request received to response sent, by method and route",
      labelNames: ["method", "route"],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.predictions = new Counter({
      name: "riskometer_predictions_total",
      help: "Credit decisions made, by registered model, risk class and source (api, file, form)",
      labelNames: ["model", "risk", "source"],
      registers: [this.registry],
    });
    this.probabilityBad = new Histogram({
      name: "riskometer_probability_bad",
      help: "Calibrated probability of a bad outcome of each decision, by registered model",
      labelNames: ["model"],
      buckets: [0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
      registers: [this.registry],
    });
    this.modelInfo = new Gauge({
      name: "riskometer_serving_model_info",
      help: "The version serving each registered model's decisions (value 1)",
      labelNames: ["name", "version"],
      registers: [this.registry],
    });
    this.recent = new RecentWindows(this.registry);
  }

  /**
   * Exposes the decision log's own counters (read at scrape time, so they match what was
   * committed): decisions and commits (their ratio is the mean group-commit size), failures
   * and the queue.
   */
  watchDecisionLog(stats: () => DecisionLogStats): void {
    const counter = (name: string, help: string, read: (s: DecisionLogStats) => number) =>
      new Counter({
        name,
        help,
        registers: [this.registry],
        collect() {
          // Totals kept by the log itself; mirror them rather than count twice.
          this.reset();
          this.inc(read(stats()));
        },
      });
    counter(
      "riskometer_decisions_logged_total",
      "Decisions committed to the decision log",
      (s) => s.committedDecisions,
    );
    counter(
      "riskometer_decision_log_commits_total",
      "Group commits of the decision log",
      (s) => s.commits,
    );
    counter(
      "riskometer_decision_log_failed_decisions_total",
      "Decisions whose commit failed (their requests were answered with an error)",
      (s) => s.failedDecisions,
    );
    new Gauge({
      name: "riskometer_decision_log_queued",
      help: "Decisions waiting for or in the commit under way",
      registers: [this.registry],
      collect() {
        const s = stats();
        this.set(s.queuedDecisions + s.inFlightDecisions);
      },
    });
  }

  /** Marks the version serving a model (one series per model name; none while none serves). */
  setModel(name: string, version: number | null): void {
    const before = this.serving.get(name);
    if (before !== undefined) this.modelInfo.remove({ name, version: before });
    this.serving.delete(name);
    if (version !== null) {
      this.modelInfo.set({ name, version: String(version) }, 1);
      this.serving.set(name, String(version));
    }
  }

  /** Counts every request by its route pattern (never the raw URL: ids would explode labels). */
  install(app: FastifyInstance): void {
    app.addHook("onResponse", (request, reply, done) => {
      const route = request.routeOptions.url ?? "unmatched";
      const labels = { method: request.method, route };
      this.requests.inc({ ...labels, status: String(reply.statusCode) });
      this.latency.observe(labels, reply.elapsedTime / 1000);
      done();
    });
    app.get(
      "/metrics",
      {
        schema: {
          hide: true,
        },
      },
      async (_request, reply) => {
        reply.type(this.registry.contentType);
        return this.registry.metrics();
      },
    );
  }
}
