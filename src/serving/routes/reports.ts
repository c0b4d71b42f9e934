import type { FastifyInstance } from "fastify";
import { AppError } from "../../core/errors.js";
import type { FlowRun, Flows } from "../../flows/index.js";
import type { AppContext } from "../../main.js";
import type { DatasetDrift } from "../../monitoring/drift.js";
import type { FairnessComparison } from "../../monitoring/fairness.js";
import type { QualityReport } from "../../monitoring/quality.js";
import { reportHtmlKey } from "../../monitoring/report-html.js";
import { withProblems } from "../schemas.js";

export interface ReportRouteOptions {
  readonly ctx: AppContext;
  readonly flows: Flows;
}

interface ReportResult {
  readonly model: { name: string; version: number } | null;
  readonly decisions: number;
  readonly refusedShare: number | null;
  readonly dataDrift: DatasetDrift | null;
  readonly predictionDrift: {
    test: string | null;
    pValue: number | null;
    statistic: number | null;
    drift: boolean;
  } | null;
  readonly quality: QualityReport;
  readonly fairness: readonly FairnessComparison[];
}

/** A report's headline figures: what a history chart or a list needs. */
function summaryOf(run: FlowRun) {
  const r = run.result as ReportResult;
  const at = r.quality.atCuts.at(-1);
  return {
    id: run.id,
    at: new Date(run.endedAt ?? run.createdAt).toISOString(),
    model: r.model,
    decisions: r.decisions,
    refusedShare: r.refusedShare,
    datasetDrift: r.dataDrift?.datasetDrift ?? null,
    driftShare: r.dataDrift?.driftShare ?? null,
    driftedColumns: r.dataDrift?.columns.filter((c) => c.drift).map((c) => c.column) ?? [],
    predictionDrift: r.predictionDrift?.drift ?? null,
    quality: {
      rows: r.quality.rows,
      rocAuc: r.quality.rocAuc,
      accuracy: at?.accuracy ?? null,
      recall: at?.recall ?? null,
      precision: at?.precision ?? null,
    },
    fairness: r.fairness.map((f) => ({
      attribute: f.attribute,
      approvalRateRatio: f.approvalRateRatio,
      equalOpportunityDifference: f.equalOpportunityDifference,
    })),
    html: `/api/v1/reports/${run.id}/report.html`,
  };
}

const isReport = (run: FlowRun) =>
  run.flow === "drift-report" &&
  run.state === "COMPLETED" &&
  (run.result as ReportResult | null)?.quality !== undefined;

/** The drift reports: their history, each report in full, and its HTML page. */
export async function reportRoutes(app: FastifyInstance, opts: ReportRouteOptions) {
  const { flows, ctx } = opts;

  app.get<{ Querystring: { limit: number } }>(
    "/api/v1/reports",
    {
      schema: {
        tags: ["monitoring"],
        summary: "Drift report history",
        description:
          "Completed drift reports, newest first, with their headline figures: dataset drift and share, drifted columns, prediction drift, quality on known outcomes, fairness, and the link to each report's HTML page.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { limit: { type: "integer", minimum: 1, maximum: 1000, default: 100 } },
        },
        response: withProblems({
          200: {
            type: "object",
            properties: {
              reports: { type: "array", items: { type: "object", additionalProperties: true } },
            },
          },
        }),
      },
    },
    async (request) => {
      const runs = await flows.store.listRuns({
        flow: "drift-report",
        states: ["COMPLETED"],
        limit: request.query.limit,
      });
      return { reports: runs.filter(isReport).map(summaryOf) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/reports/:id",
    {
      schema: {
        tags: ["monitoring"],
        summary: "A drift report in full",
        params: {
          type: "object",
          properties: { id: { type: "string", maxLength: 64 } },
          required: ["id"],
        },
        response: withProblems({
          200: {
            type: "object",
            properties: {
              summary: { type: "object", additionalProperties: true },
              report: { type: "object", additionalProperties: true },
            },
          },
        }),
      },
    },
    async (request) => {
      const run = await flows.store.getRun(request.params.id);
      if (!isReport(run)) throw new AppError("NOT_FOUND", `no drift report "${request.params.id}"`);
      return { summary: summaryOf(run), report: run.result };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/reports/:id/report.html",
    {
      schema: {
        tags: ["monitoring"],
        summary: "A drift report as one self-contained HTML page",
        params: {
          type: "object",
          properties: { id: { type: "string", maxLength: 64 } },
          required: ["id"],
        },
      },
    },
    async (request, reply) => {
      const bytes = await ctx.artifacts.get(reportHtmlKey(request.params.id)).catch(() => null);
      if (!bytes)
        throw new AppError("NOT_FOUND", `no HTML for drift report "${request.params.id}"`);
      // Inline styles and drawings only: no script may run in it.
      reply
        .type("text/html; charset=utf-8")
        .header(
          "content-security-policy",
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        );
      return bytes;
    },
  );
}
