import type { FastifyInstance } from "fastify";
import type { AppContext } from "../../main.js";
import type { ModelVersion } from "../../registry/index.js";
import { userOf } from "../access.js";
import { withProblems } from "../schemas.js";

const WRITE_NOTE =
  "Moving `champion` (the alias serving loads) needs a note, and the approver may not be the person who registered the version (four-eyes rule, 403). Every move is appended to the audit log; a refusal changes nothing.";

const NAME_PARAMS = {
  type: "object",
  properties: { name: { type: "string", minLength: 1, maxLength: 128 } },
  required: ["name"],
} as const;

const ALIAS_PARAMS = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1, maxLength: 128 },
    alias: { type: "string", minLength: 1, maxLength: 64 },
  },
  required: ["name", "alias"],
} as const;

// The service, not the schema, decides whether a note is needed (only for `champion`), so a
// missing note gets the governance message rather than a generic validation error.
const NOTE_SCHEMA = {
  type: "string",
  maxLength: 2000,
  default: "",
  description: "Why (required for champion)",
} as const;

/** Latest metric values of the runs behind `versions`, in one search per 500 runs. */
async function runMetrics(
  ctx: AppContext,
  versions: readonly ModelVersion[],
): Promise<Map<string, Record<string, number>>> {
  const ids = [...new Set(versions.map((v) => v.runId))];
  const out = new Map<string, Record<string, number>>();
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const filter = `id IN (${chunk.map((id) => `'${id.replaceAll("'", "''")}'`).join(", ")})`;
    const page = await ctx.tracking.store.searchRuns({ filter, maxResults: chunk.length });
    for (const run of page.runs) {
      out.set(
        run.info.id,
        Object.fromEntries(Object.entries(run.metrics).map(([k, p]) => [k, p.value])),
      );
    }
  }
  return out;
}

async function withMetrics(ctx: AppContext, versions: readonly ModelVersion[]) {
  const metrics = await runMetrics(ctx, versions);
  return versions.map((v) => ({ ...v, metrics: metrics.get(v.runId) ?? {} }));
}

/** Registered models, versions, model references, the audit log, and alias moves (writes). */
export async function modelRoutes(
  app: FastifyInstance,
  opts: { ctx: AppContext; onAliasMoved?: () => Promise<void> },
) {
  const { ctx } = opts;
  const registry = ctx.registry;

  app.get(
    "/api/v1/models",
    {
      schema: {
        tags: ["registry"],
        summary: "List registered models",
        description: `Each model with its aliases and its newest version, and the model scoring uses when a request names none.`,
        response: withProblems({
          200: {
            type: "object",
            properties: {
              models: { type: "array", items: { $ref: "RegisteredModel#" } },
              defaultModel: {
                type: "string",
                description:
                  "The configured model (RISKOMETER_MODEL_NAME): what `POST /api/v1/predictions` and `GET /api/v1/schema` use without `?model=`, registered or not",
              },
            },
            required: ["models", "defaultModel"],
          },
        }),
      },
    },
    async () => {
      const models = await registry.store.listRegisteredModels();
      const latest = await Promise.all(
        models.map((m) =>
          m.latestVersion === null ? null : registry.store.getModelVersion(m.name, m.latestVersion),
        ),
      );
      const present = latest.filter((v): v is ModelVersion => v !== null);
      const enriched = new Map(
        (await withMetrics(ctx, present)).map((v) => [`${v.name}/${v.version}`, v]),
      );
      return {
        models: models.map((m) => ({
          ...m,
          latest: m.latestVersion === null ? null : enriched.get(`${m.name}/${m.latestVersion}`),
        })),
        defaultModel: ctx.config.modelName,
      };
    },
  );

  app.get<{ Params: { name: string } }>(
    "/api/v1/models/:name",
    {
      schema: {
        tags: ["registry"],
        summary: "Get a registered model",
        description: `The model with its aliases and every version (newest first), each with the metrics of its run.`,
        params: NAME_PARAMS,
        response: withProblems({ 200: { $ref: "RegisteredModelDetail#" } }),
      },
    },
    async (request) => {
      const model = await registry.store.getRegisteredModel(request.params.name);
      const versions = await registry.store.listModelVersions(model.name);
      return { ...model, versions: await withMetrics(ctx, versions) };
    },
  );

  app.get<{ Params: { name: string; version: number } }>(
    "/api/v1/models/:name/versions/:version",
    {
      schema: {
        tags: ["registry"],
        summary: "Get a model version",
        description: `A version with its signature, input example and run metrics.`,
        params: {
          type: "object",
          properties: {
            name: { type: "string", minLength: 1, maxLength: 128 },
            version: { type: "integer", minimum: 1 },
          },
          required: ["name", "version"],
        },
        response: withProblems({ 200: { $ref: "ModelVersion#" } }),
      },
    },
    async (request) => {
      const version = await registry.store.getModelVersion(
        request.params.name,
        request.params.version,
      );
      return (await withMetrics(ctx, [version]))[0];
    },
  );

  app.get<{ Params: { ref: string } }>(
    "/api/v1/model-versions/:ref",
    {
      schema: {
        tags: ["registry"],
        summary: "Resolve a model reference",
        description: `The version \`name@alias\` or \`name/version\` names, URL-encoded in the path (\`credit-risk%40champion\`, \`credit-risk%2F3\`).`,
        params: {
          type: "object",
          properties: { ref: { type: "string", minLength: 1, maxLength: 300 } },
          required: ["ref"],
        },
        response: withProblems({ 200: { $ref: "ModelVersion#" } }),
      },
    },
    async (request) => {
      const version = await registry.resolve(request.params.ref);
      return (await withMetrics(ctx, [version]))[0];
    },
  );

  app.get<{ Params: { name: string }; Querystring: { alias?: string; limit?: number } }>(
    "/api/v1/models/:name/audit",
    {
      schema: {
        tags: ["registry"],
        summary: "Alias audit log",
        description: `Who moved which alias to which version, when and why; newest first.`,
        params: NAME_PARAMS,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            alias: { type: "string", maxLength: 64 },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 200 },
          },
        },
        response: withProblems({
          200: {
            type: "object",
            properties: { records: { type: "array", items: { $ref: "AliasAuditRecord#" } } },
            required: ["records"],
          },
        }),
      },
    },
    async (request) => {
      const model = await registry.store.getRegisteredModel(request.params.name);
      const records = await registry.store.listAudit({
        name: model.name,
        alias: request.query.alias,
        limit: request.query.limit,
      });
      return { records };
    },
  );

  app.put<{ Params: { name: string; alias: string }; Body: { version: number; note: string } }>(
    "/api/v1/models/:name/aliases/:alias",
    {
      schema: {
        tags: ["registry"],
        summary: "Move an alias (promote a version)",
        description: WRITE_NOTE,
        params: ALIAS_PARAMS,
        body: {
          type: "object",
          additionalProperties: false,
          properties: { version: { type: "integer", minimum: 1 }, note: NOTE_SCHEMA },
          required: ["version"],
        },
        response: withProblems({ 200: { $ref: "AliasAuditRecord#" } }),
      },
    },
    async (request) => {
      const actor = userOf(request);
      const record = await registry.promote({
        name: request.params.name,
        alias: request.params.alias,
        version: request.body.version,
        note: request.body.note,
        actor,
      });
      await opts.onAliasMoved?.();
      return record;
    },
  );

  app.delete<{ Params: { name: string; alias: string }; Body: { note: string } }>(
    "/api/v1/models/:name/aliases/:alias",
    {
      schema: {
        tags: ["registry"],
        summary: "Remove an alias",
        description: `E.g. stop serving a model. ${WRITE_NOTE}`,
        params: ALIAS_PARAMS,
        body: {
          type: "object",
          additionalProperties: false,
          properties: { note: NOTE_SCHEMA },
        },
        response: withProblems({ 200: { $ref: "AliasAuditRecord#" } }),
      },
      preValidation: [
        // DELETE usually comes without a body; treat that as an empty one, not a bad request.
        async (request) => {
          if (request.body === undefined || request.body === null) request.body = { note: "" };
        },
      ],
    },
    async (request) => {
      const actor = userOf(request);
      const record = await registry.removeAlias({
        name: request.params.name,
        alias: request.params.alias,
        note: request.body.note,
        actor,
      });
      await opts.onAliasMoved?.();
      return record;
    },
  );
}
