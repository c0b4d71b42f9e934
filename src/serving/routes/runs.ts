import { basename, posix } from "node:path";
import type { FastifyInstance } from "fastify";
import { AppError } from "../../core/index.js";
import type { AppContext } from "../../main.js";
import type { Run, RunPage } from "../../tracking/index.js";
import { requireRole } from "../../auth/index.js";
import { userOf } from "../access.js";
import { withProblems } from "../schemas.js";

/** Headers that keep an artifact inert in the browser: an SVG opened directly cannot run script. */
export const ARTIFACT_SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
  "x-content-type-options": "nosniff",
} as const;

const MAX_PAGE = 1000;

interface SearchFields {
  experiment?: string[];
  filter?: string;
  orderBy?: string[];
  maxResults?: number;
  pageToken?: string;
}

/*
 * `experiment` and `orderBy` are declared as arrays: fastify's Ajv coerces a single value into a
 * one-item array, so `?orderBy=a&orderBy=b`, `?orderBy=a,b` and a JSON string or list all work.
 */
const SEARCH_PROPERTIES = {
  experiment: {
    type: "array",
    items: { type: "string", maxLength: 250 },
    maxItems: 100,
    description:
      "Experiment ids or names, repeated or comma-separated; every experiment when absent (runs of several experiments compare alike).",
  },
  filter: {
    type: "string",
    maxLength: 4000,
    description:
      "Search language, e.g. `metrics.test_auc > 0.78 AND params.kind IN ('gbdt','forest')`. AND, OR, parentheses, =, !=, <, <=, >, >=, [NOT] IN, [NOT] LIKE, IS [NOT] NULL.",
  },
  orderBy: {
    type: "array",
    items: { type: "string", maxLength: 500 },
    maxItems: 20,
    description:
      "Clauses such as `metrics.cv_cost ASC` or `start_time DESC`, repeated or comma-separated; newest first by default.",
  },
  maxResults: {
    type: "integer",
    minimum: 1,
    maximum: MAX_PAGE,
    default: 100,
    description: "Page size",
  },
  pageToken: {
    type: "string",
    maxLength: 200,
    description: "`nextPageToken` of the previous page",
  },
} as const;

const RUN_PAGE_RESPONSE = {
  type: "object",
  properties: {
    runs: { type: "array", items: { $ref: "RunSummary#" } },
    nextPageToken: { type: ["string", "null"] },
    total: { type: "integer", description: "How many runs match in all pages" },
  },
  required: ["runs", "nextPageToken", "total"],
} as const;

const RUN_ID_PARAMS = {
  type: "object",
  properties: { id: { type: "string", maxLength: 64 } },
  required: ["id"],
} as const;

/**
 * Splits comma-separated list items, leaving commas inside quotes or backticks alone (an
 * order-by key may be a backtick-quoted name).
 *
 * @example splitList(["a, b", "c"]) // ["a", "b", "c"]
 */
export function splitList(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const out: string[] = [];
  for (const value of values) {
    let quote: string | null = null;
    let current = "";
    for (const c of value) {
      if (quote !== null) {
        if (c === quote) quote = null;
      } else if (c === "'" || c === '"' || c === "`") {
        quote = c;
      } else if (c === ",") {
        out.push(current);
        current = "";
        continue;
      }
      current += c;
    }
    out.push(current);
  }
  const items = out.map((s) => s.trim()).filter((s) => s !== "");
  return items;
}

/** Run search for both the GET and the POST form. */
async function searchRuns(ctx: AppContext, fields: SearchFields) {
  const experiments = splitList(fields.experiment);
  let experimentIds: string[] | undefined;
  if (experiments !== undefined && experiments.length > 0) {
    experimentIds = [];
    for (const idOrName of experiments) {
      experimentIds.push((await ctx.tracking.store.getExperiment(idOrName)).id);
    }
  }
  const page: RunPage = await ctx.tracking.store.searchRuns({
    experimentIds,
    filter: fields.filter,
    orderBy: splitList(fields.orderBy),
    maxResults: fields.maxResults,
    pageToken: fields.pageToken === "" ? undefined : fields.pageToken,
    withTotal: true,
  });
  return { runs: page.runs, nextPageToken: page.nextPageToken, total: page.total ?? 0 };
}

/** Ids of the runs nested under `runId`, through the store's search (no extra store method). */
async function childIds(ctx: AppContext, runId: string): Promise<string[]> {
  const ids: string[] = [];
  let pageToken: string | undefined;
  const filter = `parent_run_id = '${runId.replaceAll("'", "''")}'`;
  do {
    const page = await ctx.tracking.store.searchRuns({
      filter,
      orderBy: ["start_time ASC"],
      maxResults: MAX_PAGE,
      pageToken,
    });
    ids.push(...page.runs.map((r: Run) => r.info.id));
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken !== undefined);
  return ids;
}

/** RFC 6266 filename, safe for any characters in an artifact name. */
function contentDisposition(path: string, mediaType: string): string {
  // HTML could run script if opened in our origin: make the browser save it instead.
  const kind = mediaType.startsWith("text/html") ? "attachment" : "inline";
  const name = basename(path);
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** Experiments, run search, run detail, metric history and artifact download (all reads). */
export async function runRoutes(app: FastifyInstance, opts: { ctx: AppContext }) {
  const { ctx } = opts;

  app.get<{ Querystring: { includeDeleted?: boolean } }>(
    "/api/v1/experiments",
    {
      schema: {
        tags: ["tracking"],
        summary: "List experiments",
        description: "Every experiment, with its run counts.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { includeDeleted: { type: "boolean", default: false } },
        },
        response: withProblems({
          200: {
            type: "object",
            properties: { experiments: { type: "array", items: { $ref: "Experiment#" } } },
            required: ["experiments"],
          },
        }),
      },
    },
    async (request) => ({
      experiments: await ctx.tracking.store.listExperiments(request.query.includeDeleted),
    }),
  );

  app.get<{ Querystring: SearchFields }>(
    "/api/v1/runs",
    {
      schema: {
        tags: ["tracking"],
        summary: "Search runs",
        description: `Filter, order and page through runs of one or more experiments.`,
        querystring: { type: "object", additionalProperties: false, properties: SEARCH_PROPERTIES },
        response: withProblems({ 200: RUN_PAGE_RESPONSE }),
      },
    },
    async (request) => searchRuns(ctx, request.query),
  );

  app.post<{ Body: SearchFields }>(
    "/api/v1/runs/search",
    {
      schema: {
        tags: ["tracking"],
        summary: "Search runs (JSON body)",
        description: `The same search as GET /api/v1/runs, for filters too long for a URL.`,
        body: { type: "object", additionalProperties: false, properties: SEARCH_PROPERTIES },
        response: withProblems({ 200: RUN_PAGE_RESPONSE }),
      },
    },
    async (request) => searchRuns(ctx, request.body ?? {}),
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/runs/:id",
    {
      schema: {
        tags: ["tracking"],
        summary: "Get a run",
        description: `A run with its params, tags, latest metrics, dataset inputs, artifacts and the ids of its child runs.`,
        params: RUN_ID_PARAMS,
        response: withProblems({ 200: { $ref: "RunDetail#" } }),
      },
    },
    async (request) => {
      const run = await ctx.tracking.getRun(request.params.id);
      return { ...run, children: await childIds(ctx, run.info.id) };
    },
  );

  app.get<{ Params: { id: string; key: string } }>(
    "/api/v1/runs/:id/metrics/:key",
    {
      schema: {
        tags: ["tracking"],
        summary: "Metric history",
        description: `Every logged point of one metric, by step then time.`,
        params: {
          type: "object",
          properties: {
            id: { type: "string", maxLength: 64 },
            key: { type: "string", maxLength: 250 },
          },
          required: ["id", "key"],
        },
        response: withProblems({
          200: {
            type: "object",
            properties: {
              runId: { type: "string" },
              key: { type: "string" },
              points: { type: "array", items: { $ref: "MetricPoint#" } },
            },
            required: ["runId", "key", "points"],
          },
        }),
      },
    },
    async (request) => {
      const { id, key } = request.params;
      const points = await ctx.tracking.store.getMetricHistory(id, key);
      if (points.length === 0) {
        throw new AppError("NOT_FOUND", `run ${id} has no metric "${key}"`);
      }
      return { runId: id, key, points };
    },
  );

  /**
   * The model file (thresholds and category sets learnt from the rows) and the reference
   * profile (every training value, sorted) hold the training data: personal data, seen only by
   * those whose role allows it. Plots and the dataset spec do not.
   */
  const holdsTrainingData = (path: string): boolean =>
    // Judged on the path as the store will resolve it, however it is spelt.
    posix
      .normalize(path.replaceAll("\\", "/"))
      .replace(/^(\.?\/)+/, "")
      .toLowerCase()
      .startsWith("model/");

  app.get<{ Params: { id: string; "*": string } }>(
    "/api/v1/runs/:id/artifacts/*",
    {
      schema: {
        tags: ["tracking"],
        summary: "Download an artifact",
        description: `Streams one file of a run (e.g. \`plots/roc.svg\`, \`model/model.json\`) with its recorded media type. Served with a CSP that forbids script, so an SVG cannot run code. The files under \`model/\` (the model file and the reference profile, which hold the training data's values) need a clerk's \`Authorization: Bearer <API token>\`; other reads need none.`,
        params: {
          type: "object",
          properties: {
            id: { type: "string", maxLength: 64 },
            "*": { type: "string", minLength: 1, maxLength: 1000 },
          },
          required: ["id", "*"],
        },
        response: withProblems({
          200: {
            description: "The artifact's bytes, with the media type recorded for it",
            content: { "*/*": { schema: { type: "string", format: "binary" } } },
          },
        }),
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const path = request.params["*"];
      if (holdsTrainingData(path)) {
        requireRole(userOf(request), "clerk", `download ${path}, which holds training data`);
      }
      const { stream, entry } = await ctx.tracking.getArtifactStream(id, path);
      return reply
        .headers(ARTIFACT_SECURITY_HEADERS)
        .header("content-disposition", contentDisposition(entry.path, entry.mediaType))
        .header("cache-control", "private, max-age=300")
        .type(entry.mediaType)
        .send(stream);
    },
  );
}
