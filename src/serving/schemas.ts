/**
 * JSON schemas shared by the routes. They are registered once with `app.addSchema` so each route
 * refers to them by `$id`, and @fastify/swagger lists them as named OpenAPI components. Response
 * schemas are also the allow-list of what leaves the server: a field not declared here is dropped
 * by the serializer, so adding a column to a store never leaks it by accident.
 */

const nullable = (type: string) => ({ type: [type, "null"] });
const stringMap = { type: "object", additionalProperties: { type: "string" } } as const;

/** The `?model=` query parameter of the scoring routes: a registered model's name. */
export function modelQuery(description: string) {
  return { type: "string", maxLength: 200, description } as const;
}

export const PROBLEM_SCHEMA = {
  $id: "Problem",
  type: "object",
  description:
    "An error as RFC 9457 problem details. `code` is stable (see docs/errors.md); `detail` says what went wrong in this request.",
  properties: {
    type: { type: "string", description: "URI naming the error code" },
    title: { type: "string", description: "What this kind of error means" },
    status: { type: "integer" },
    detail: { type: "string" },
    code: { type: "string" },
    errors: {
      type: "array",
      description: "Per-field problems of a refused applicant: row, column, message, value",
      items: { $ref: "RowError#" },
    },
  },
  required: ["type", "title", "status", "detail", "code"],
} as const;

export const ROW_ERROR_SCHEMA = {
  $id: "RowError",
  type: "object",
  description: "One problem of one input row: which row (1-based), which column, what is wrong",
  properties: {
    row: { type: "integer" },
    column: { type: ["string", "null"] },
    message: { type: "string" },
    value: { type: "string" },
  },
  required: ["row", "message"],
} as const;

export const EXPERIMENT_SCHEMA = {
  $id: "Experiment",
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    lifecycle: { type: "string", enum: ["active", "deleted"] },
    tags: stringMap,
    createdAt: { type: "integer", description: "ms since the epoch" },
    updatedAt: { type: "integer", description: "ms since the epoch" },
  },
  required: ["id", "name", "lifecycle", "tags", "createdAt", "updatedAt"],
} as const;

export const METRIC_POINT_SCHEMA = {
  $id: "MetricPoint",
  type: "object",
  properties: {
    key: { type: "string" },
    value: { type: "number" },
    step: { type: "integer" },
    timestamp: { type: "integer", description: "ms since the epoch" },
  },
  required: ["key", "value", "step", "timestamp"],
} as const;

const RUN_INFO = {
  type: "object",
  properties: {
    id: { type: "string" },
    experimentId: { type: "string" },
    name: { type: "string" },
    status: { type: "string", enum: ["RUNNING", "FINISHED", "FAILED", "KILLED"] },
    startTime: { type: "integer" },
    endTime: nullable("integer"),
    parentRunId: nullable("string"),
    codeVersion: nullable("string"),
    packageVersion: { type: "string" },
    statusReason: nullable("string"),
  },
  required: ["id", "experimentId", "name", "status", "startTime", "endTime", "parentRunId"],
} as const;

const RUN_PROPERTIES = {
  info: RUN_INFO,
  params: stringMap,
  tags: stringMap,
  metrics: {
    type: "object",
    description: "The latest point of each metric, by key",
    additionalProperties: { $ref: "MetricPoint#" },
  },
  inputs: {
    type: "array",
    items: {
      type: "object",
      properties: {
        name: { type: "string" },
        digest: { type: "string" },
        role: { type: "string" },
        rows: nullable("integer"),
      },
      required: ["name", "digest", "role"],
    },
  },
} as const;

/** A run as search lists it (no artifact list: that costs a query per page and is on the detail). */
export const RUN_SUMMARY_SCHEMA = {
  $id: "RunSummary",
  type: "object",
  properties: RUN_PROPERTIES,
  required: ["info", "params", "tags", "metrics", "inputs"],
} as const;

export const RUN_DETAIL_SCHEMA = {
  $id: "RunDetail",
  type: "object",
  properties: {
    ...RUN_PROPERTIES,
    artifacts: {
      type: "array",
      items: {
        type: "object",
        properties: {
          path: { type: "string" },
          size: { type: "integer" },
          mediaType: { type: "string" },
        },
        required: ["path", "size", "mediaType"],
      },
    },
    children: {
      type: "array",
      description: "Ids of the runs nested under this one (e.g. one per candidate model)",
      items: { type: "string" },
    },
  },
  required: ["info", "params", "tags", "metrics", "inputs", "artifacts", "children"],
} as const;

const VERSION_PROPERTIES = {
  name: { type: "string" },
  version: { type: "integer" },
  runId: { type: "string" },
  status: { type: "string" },
  description: { type: "string" },
  tags: stringMap,
  createdBy: { type: "string" },
  createdAt: { type: "integer" },
  aliases: { type: "array", items: { type: "string" } },
  metrics: {
    type: "object",
    description: "The latest value of each metric of the run the version came from",
    additionalProperties: { type: "number" },
  },
} as const;

export const MODEL_VERSION_SUMMARY_SCHEMA = {
  $id: "ModelVersionSummary",
  type: "object",
  properties: VERSION_PROPERTIES,
  required: ["name", "version", "runId", "status", "createdBy", "createdAt", "aliases"],
} as const;

export const MODEL_VERSION_SCHEMA = {
  $id: "ModelVersion",
  type: "object",
  properties: {
    ...VERSION_PROPERTIES,
    artifactPath: { type: "string" },
    sha256: { type: "string" },
    signature: {
      type: "object",
      description: "The feature schema the version accepts",
      properties: {
        dataset: {
          type: "object",
          description: "The dataset spec the version was trained on",
          properties: { name: { type: "string" }, version: { type: "integer" } },
          required: ["name", "version"],
        },
        inputs: {
          type: "array",
          items: {
            type: "object",
            properties: {
              name: { type: "string" },
              type: { type: "string", enum: ["numeric", "categorical"] },
              values: { type: "array", items: { type: "string" } },
              label: { type: "string" },
              optional: { type: "boolean" },
            },
            required: ["name", "type"],
          },
        },
        output: {
          type: "object",
          properties: {
            name: { type: "string" },
            values: { type: "array", items: { type: "string" } },
            riskClass: { type: "string" },
          },
          required: ["name", "values"],
        },
      },
      required: ["inputs", "output"],
    },
    inputExample: {
      type: "object",
      additionalProperties: { type: ["string", "number"] },
    },
  },
  required: [
    "name",
    "version",
    "runId",
    "artifactPath",
    "sha256",
    "status",
    "signature",
    "createdBy",
    "createdAt",
    "aliases",
  ],
} as const;

const REGISTERED_MODEL_PROPERTIES = {
  name: { type: "string" },
  description: { type: "string" },
  tags: stringMap,
  createdBy: { type: "string" },
  createdAt: { type: "integer" },
  updatedAt: { type: "integer" },
  aliases: {
    type: "object",
    description: "alias → version",
    additionalProperties: { type: "integer" },
  },
  latestVersion: nullable("integer"),
} as const;

const REGISTERED_MODEL_REQUIRED = ["name", "createdBy", "createdAt", "updatedAt", "aliases"];

/** A registered model with its newest version, as the model list shows it. */
export const REGISTERED_MODEL_SCHEMA = {
  $id: "RegisteredModel",
  type: "object",
  properties: {
    ...REGISTERED_MODEL_PROPERTIES,
    latest: {
      anyOf: [{ $ref: "ModelVersionSummary#" }, { type: "null" }],
      description: "The newest version, null before the first",
    },
  },
  required: [...REGISTERED_MODEL_REQUIRED, "latestVersion", "latest"],
} as const;

/** A registered model with every version, newest first. */
export const REGISTERED_MODEL_DETAIL_SCHEMA = {
  $id: "RegisteredModelDetail",
  type: "object",
  properties: {
    ...REGISTERED_MODEL_PROPERTIES,
    versions: { type: "array", items: { $ref: "ModelVersionSummary#" } },
  },
  required: [...REGISTERED_MODEL_REQUIRED, "latestVersion", "versions"],
} as const;

export const AUDIT_RECORD_SCHEMA = {
  $id: "AliasAuditRecord",
  type: "object",
  description: "One alias move, as the append-only audit log keeps it",
  properties: {
    id: { type: "integer" },
    name: { type: "string" },
    alias: { type: "string" },
    fromVersion: nullable("integer"),
    toVersion: nullable("integer"),
    actor: { type: "string" },
    actorRole: { type: "string" },
    note: { type: "string" },
    selfApproved: { type: "boolean" },
    bootstrap: { type: "boolean" },
    at: { type: "integer" },
  },
  required: [
    "id",
    "name",
    "alias",
    "fromVersion",
    "toVersion",
    "actor",
    "actorRole",
    "note",
    "selfApproved",
    "bootstrap",
    "at",
  ],
} as const;

/** Every shared schema, in an order where each one's references are registered before it. */
export const SHARED_SCHEMAS = [
  ROW_ERROR_SCHEMA,
  PROBLEM_SCHEMA,
  EXPERIMENT_SCHEMA,
  METRIC_POINT_SCHEMA,
  RUN_SUMMARY_SCHEMA,
  RUN_DETAIL_SCHEMA,
  MODEL_VERSION_SUMMARY_SCHEMA,
  MODEL_VERSION_SCHEMA,
  REGISTERED_MODEL_SCHEMA,
  REGISTERED_MODEL_DETAIL_SCHEMA,
  AUDIT_RECORD_SCHEMA,
] as const;

const PROBLEM_RESPONSE = {
  description: "Problem details (application/problem+json)",
  content: { "application/problem+json": { schema: { $ref: "Problem#" } } },
} as const;

/**
 * A route's responses plus the problem responses every route can give, so the error handler's
 * output is documented and serialized through the same allow-list.
 */
export function withProblems<T extends Record<string, unknown>>(responses: T) {
  return { ...responses, "4xx": PROBLEM_RESPONSE, "5xx": PROBLEM_RESPONSE };
}
