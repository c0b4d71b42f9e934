import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { featureColumns, formatCsvRow } from "../../data/index.js";
import {
  BATCH_SORT_KEYS,
  type BatchSortKey,
  type Risk,
  type SqlDecisionStore,
} from "../../decisions/index.js";
import type { AppContext } from "../../main.js";
import { noteForAudit, userOf } from "../access.js";
import { DecisionEraser, specOfVersion } from "../../decisions/erasure.js";
import { AppError } from "../../core/errors.js";
import { modelQuery, withProblems } from "../schemas.js";
import type { ServingModel } from "../model-holder.js";
import type { ServingModels } from "../serving-state.js";
import { type TypicalValue, typicalValues } from "../typical.js";
import type { ReferenceProfile } from "../../monitoring/reference-profile.js";
import { PREDICTION_SCHEMA, predictionOf } from "./predictions.js";

export interface DecisionRouteOptions {
  readonly ctx: AppContext;
  readonly models: ServingModels;
  readonly decisions: SqlDecisionStore;
  /** The reference profile of a version (null when it has none): its typical values go on the schema. */
  readonly referenceOf?: (model: ServingModel) => Promise<ReferenceProfile | null>;
}

const PAGE = 5000;

/** Typical values are kept for this many model versions (each is a few values per column). */
const TYPICAL_CACHE = 64;

/** Health, readiness, the applicant schema, decisions, outcomes and scored-file downloads. */
export async function decisionRoutes(app: FastifyInstance, opts: DecisionRouteOptions) {
  const { models, decisions, ctx } = opts;
  const state = models.primary;
  const typicals = new Map<string, Promise<ReadonlyMap<string, TypicalValue>>>();
  /** The typical applicant of a version, read once from its reference profile (empty without one). */
  const typicalOf = (served: ServingModel): Promise<ReadonlyMap<string, TypicalValue>> => {
    const key = `${served.name}/${served.version}`;
    let known = typicals.get(key);
    if (known === undefined) {
      const referenceOf = opts.referenceOf ?? (async () => null);
      known = referenceOf(served).then(
        (profile) => (profile ? typicalValues(served.loaded.spec, profile) : new Map()),
        () => {
          // Asked again next time: a store that failed once may answer later.
          typicals.delete(key);
          return new Map();
        },
      );
      if (typicals.size >= TYPICAL_CACHE) typicals.delete(typicals.keys().next().value as string);
      typicals.set(key, known);
    }
    return known;
  };

  app.get("/healthz", { schema: { tags: ["operations"], summary: "Liveness" } }, async () => ({
    status: "ok",
  }));

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["operations"],
        summary: "Readiness: 200 once a model serves, 503 before",
      },
    },
    async () => {
      const model = state.holder.require();
      return { status: "ready", model: { name: model.name, version: model.version } };
    },
  );

  app.get<{ Querystring: { model?: string } }>(
    "/api/v1/schema",
    {
      schema: {
        tags: ["scoring"],
        summary: "The applicant fields",
        description:
          "The fields an applicant has for the serving version's dataset spec (German credit: 20), with readable labels, allowed values (categorical) or ranges (numeric), whether a field may be left missing, and its typical value in the version's training data (the most common category, the median number; null when every value was missing; absent for a version trained without a reference profile), for forms. 404 for an unknown model, 503 while no version serves.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            model: modelQuery("The registered model (default: the configured model)"),
          },
        },
      },
    },
    async (request) => {
      const served = (await models.get(request.query.model)).holder.require();
      const { spec } = served.loaded;
      const typical = await typicalOf(served);
      const typicalField = (name: string) =>
        typical.has(name) ? { typical: typical.get(name) ?? null } : {};
      return {
        model: { name: served.name, version: served.version },
        dataset: { name: spec.name, version: spec.version },
        columns: featureColumns(spec).map((c) =>
          c.kind === "categorical"
            ? {
                name: c.name,
                label: c.label,
                description: c.description,
                kind: c.kind,
                allowMissing: c.allowMissing,
                values: c.values.map((v) => ({ value: v.value, label: v.label })),
                ...typicalField(c.name),
              }
            : {
                name: c.name,
                label: c.label,
                description: c.description,
                kind: c.kind,
                allowMissing: c.allowMissing,
                min: c.min,
                max: c.max,
                integer: c.integer,
                ...(c.unit ? { unit: c.unit } : {}),
                ...typicalField(c.name),
              },
        ),
      };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/decisions/:id",
    {
      schema: {
        tags: ["scoring"],
        summary: "A logged decision",
        description:
          "The decision as logged: input, output, reasons, model version, and its outcome once known.",
        params: {
          type: "object",
          properties: { id: { type: "string", maxLength: 64 } },
          required: ["id"],
        },
      },
    },
    async (request) => decisions.getDecision(request.params.id),
  );

  const eraser = new DecisionEraser(ctx.database, specOfVersion(ctx.registry));
  app.post<{
    Body: {
      decisionIds?: string[];
      match?: { column: string; value: string | number };
      note: string;
    };
  }>(
    "/api/v1/decisions/erase",
    {
      schema: {
        tags: ["scoring"],
        summary: "Erase an applicant's decisions",
        description:
          "On an applicant's request: erases the personal fields (the applicant's values, reasons, explanation) of the decisions named by id, or of every decision whose applicant had `value` in `column` (an applicant id, say), keeping scores, risk, outcome, model, time and the fairness groups. A decision already erased is left as it is. The erasure, with its note, goes into the access log.",
        body: {
          type: "object",
          required: ["note"],
          additionalProperties: false,
          properties: {
            decisionIds: {
              type: "array",
              items: { type: "string", maxLength: 64 },
              minItems: 1,
              maxItems: 10_000,
            },
            match: {
              type: "object",
              required: ["column", "value"],
              additionalProperties: false,
              properties: {
                column: { type: "string", minLength: 1, maxLength: 128 },
                value: { anyOf: [{ type: "string" }, { type: "number" }] },
              },
            },
            note: {
              type: "string",
              minLength: 1,
              maxLength: 2000,
              description: "The request being honoured (a ticket number)",
            },
          },
        },
        response: withProblems({
          200: {
            type: "object",
            properties: { erased: { type: "integer" } },
          },
        }),
      },
    },
    async (request) => {
      const { decisionIds, match, note } = request.body;
      if (decisionIds === undefined && match === undefined) {
        throw new AppError("INVALID_ARGUMENT", "name the decisions: decisionIds, or match");
      }
      const erased = await eraser.erase({ ids: decisionIds, match });
      noteForAudit(request, {
        target: null,
        detail: `${erased} decisions erased${match ? ` by ${match.column}` : ""}; note: ${note.trim()}`,
      });
      return { erased };
    },
  );

  app.post<{ Body: { decisionId: string; outcome: "good" | "bad" } }>(
    "/api/v1/outcomes",
    {
      schema: {
        tags: ["scoring"],
        summary: "Record the actual outcome of a decision",
        description:
          "The applicant's actual good/bad outcome once known (for monitoring). Needs a clerk's `Authorization: Bearer <API token>`. Unknown decision → 404; a second outcome for the same decision → 409 (outcomes are write-once).",
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            decisionId: { type: "string", minLength: 1, maxLength: 64 },
            outcome: { type: "string", enum: ["good", "bad"] },
          },
          required: ["decisionId", "outcome"],
        },
        response: withProblems({
          201: {
            type: "object",
            properties: {
              decisionId: { type: "string" },
              outcome: { type: "string" },
              recordedAt: { type: "integer" },
              recordedBy: { type: "string" },
            },
          },
        }),
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const at = Date.now();
      await decisions.recordOutcome(request.body.decisionId, request.body.outcome, user.name, at);
      reply.status(201);
      return {
        decisionId: request.body.decisionId,
        outcome: request.body.outcome,
        recordedAt: at,
        recordedBy: user.name,
      };
    },
  );

  app.get<{
    Params: { batchId: string };
    Querystring: {
      offset: number;
      limit: number;
      sort: BatchSortKey;
      direction: "asc" | "desc";
      risk?: Risk;
      search?: string;
    };
  }>(
    "/api/v1/batches/:batchId/predictions",
    {
      schema: {
        tags: ["scoring"],
        summary: "Page through a scored batch",
        description:
          "The predictions of one scored file or array, a page at a time, sorted and filtered by the database: what the Risk-O-Meter's results table shows for a file of any size. `total` counts the matches of `search` and `risk`; `counts` those of `search` by risk class.",
        params: {
          type: "object",
          properties: { batchId: { type: "string", maxLength: 64 } },
          required: ["batchId"],
        },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            offset: { type: "integer", minimum: 0, default: 0 },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
            sort: {
              type: "string",
              enum: [...BATCH_SORT_KEYS],
              default: "row",
              description:
                "`row` (file order), `risk` (ascending: good first), `probabilityBad`, `confidence`, or `reason` (the top reason's text). Ties keep file order",
            },
            direction: { type: "string", enum: ["asc", "desc"], default: "asc" },
            risk: { type: "string", enum: ["good", "bad"], description: "Only this class" },
            search: {
              type: "string",
              maxLength: 200,
              description: "Case-insensitive text in any reason, or a row number",
            },
          },
        },
        response: withProblems({
          200: {
            type: "object",
            properties: {
              batchId: { type: "string" },
              offset: { type: "integer" },
              total: { type: "integer" },
              counts: {
                type: "object",
                properties: { good: { type: "integer" }, bad: { type: "integer" } },
              },
              predictions: { type: "array", items: PREDICTION_SCHEMA },
            },
          },
        }),
      },
    },
    async (request) => {
      const { batchId } = request.params;
      const q = request.query;
      const page = await decisions.queryBatch(batchId, {
        offset: q.offset,
        limit: q.limit,
        sort: q.sort,
        direction: q.direction,
        risk: q.risk,
        search: q.search,
      });
      if (page.counts.good + page.counts.bad === 0) {
        const any = q.search ? await decisions.listBatch(batchId, { offset: 0, limit: 1 }) : null;
        if (!any || any.total === 0)
          throw new AppError("NOT_FOUND", `no scored batch "${batchId}"`);
      }
      return {
        batchId,
        offset: q.offset,
        total: page.total,
        counts: page.counts,
        predictions: page.decisions.map(predictionOf),
      };
    },
  );

  app.get<{ Params: { batchId: string } }>(
    "/api/v1/batches/:batchId/scored.csv",
    {
      schema: {
        tags: ["scoring"],
        summary: "Download a scored file",
        description:
          "The decisions of one uploaded file as CSV, in file order: `row` (the data row in the upload), the applicant's fields and extra columns, then risk, probability_bad, confidence and reason_1..3. Cells a spreadsheet would run as a formula are escaped.",
        params: {
          type: "object",
          properties: { batchId: { type: "string", maxLength: 64 } },
          required: ["batchId"],
        },
      },
    },
    async (request, reply) => {
      const { batchId } = request.params;
      const first = await decisions.listBatch(batchId, { offset: 0, limit: PAGE });
      if (first.total === 0) throw new AppError("NOT_FOUND", `no scored file "${batchId}"`);
      // The fields of the version that scored the file, in its spec's order (a stored input's
      // keys need not keep theirs).
      const { modelName, modelVersion } = first.decisions[0];
      const serving = state.holder.current();
      const fields =
        serving?.name === modelName && serving.version === modelVersion
          ? featureColumns(serving.loaded.spec).map((c) => c.name)
          : (await ctx.registry.resolve(`${modelName}/${modelVersion}`)).signature.inputs.map(
              (c) => c.name,
            );
      const extra = Object.keys(first.decisions[0].input).filter((k) => !fields.includes(k));
      const header = [
        "row",
        ...fields,
        ...extra,
        "risk",
        "probability_bad",
        "confidence",
        "reason_1",
        "reason_2",
        "reason_3",
      ];
      reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="scored-${batchId}.csv"`);
      async function* lines() {
        yield `${formatCsvRow(header)}\n`;
        let page = first;
        let offset = 0;
        for (;;) {
          let text = "";
          for (const d of page.decisions) {
            const input = d.input as Record<string, unknown>;
            const reasons = (d.reasons as { text: string }[]).map((r) => r.text);
            const cells = [
              String(d.rowNumber ?? ""),
              ...fields.map((f) => String(input[f] ?? "")),
              ...extra.map((f) => String(input[f] ?? "")),
              d.risk,
              d.probabilityBad.toFixed(6),
              d.confidence.toFixed(6),
              reasons[0] ?? "",
              reasons[1] ?? "",
              reasons[2] ?? "",
            ];
            text += `${formatCsvRow(cells)}\n`;
          }
          yield text;
          offset += page.decisions.length;
          if (offset >= page.total || page.decisions.length === 0) return;
          page = await decisions.listBatch(batchId, { offset, limit: PAGE });
        }
      }
      return reply.send(Readable.from(lines()));
    },
  );
}
