import type { FastifyInstance } from "fastify";
import { AppError } from "../../core/errors.js";
import { type FlowRun, type Flows, describeFlows, triggerFlow } from "../../flows/index.js";
import { userOf } from "../access.js";
import { withProblems } from "../schemas.js";

export interface FlowRouteOptions {
  readonly flows: Flows;
}

const RUN_SCHEMA = {
  type: "object",
  properties: {
    id: { type: "string" },
    flow: { type: "string" },
    state: {
      type: "string",
      enum: ["SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED"],
    },
    trigger: { type: "string", enum: ["schedule", "manual", "retry"] },
    scheduledFor: { type: "string", format: "date-time" },
    params: { type: "object", additionalProperties: true },
    attempt: { type: "integer" },
    maxAttempts: { type: "integer" },
    retryOf: { type: ["string", "null"] },
    requestedBy: { type: ["string", "null"] },
    createdAt: { type: "string", format: "date-time" },
    startedAt: { type: ["string", "null"], format: "date-time" },
    endedAt: { type: ["string", "null"], format: "date-time" },
    durationSeconds: { type: ["number", "null"] },
    worker: { type: ["string", "null"] },
    result: {},
    error: { type: ["string", "null"] },
    steps: {
      type: "array",
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          state: { type: "string" },
          startedAt: { type: "string", format: "date-time" },
          endedAt: { type: ["string", "null"], format: "date-time" },
        },
      },
    },
  },
} as const;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function runOut(run: FlowRun) {
  return {
    ...run,
    scheduledFor: iso(run.scheduledFor),
    createdAt: iso(run.createdAt),
    startedAt: iso(run.startedAt),
    endedAt: iso(run.endedAt),
    durationSeconds:
      run.startedAt === null ? null : ((run.endedAt ?? Date.now()) - run.startedAt) / 1000,
    steps: run.steps.map((s) => ({ ...s, startedAt: iso(s.startedAt), endedAt: iso(s.endedAt) })),
  };
}

/** The flows, their runs with logs, and manual triggers (approvers). */
export async function flowRoutes(app: FastifyInstance, opts: FlowRouteOptions) {
  const { flows } = opts;

  app.get(
    "/api/v1/flows",
    {
      schema: {
        tags: ["flows"],
        summary: "Flows with their schedules",
        description:
          "Each flow with its description, schedule (cron in the configured time zone, or an interval), next run, late-run policy, parameters (type, default, bounds), attempts, timeout and last run.",
        response: withProblems({
          200: {
            type: "object",
            properties: {
              flows: { type: "array", items: { type: "object", additionalProperties: true } },
            },
          },
        }),
      },
    },
    async () => ({ flows: await describeFlows(flows) }),
  );

  app.get<{ Querystring: { flow?: string; limit: number } }>(
    "/api/v1/flows/runs",
    {
      schema: {
        tags: ["flows"],
        summary: "Flow run history",
        description: "Flow runs newest first, optionally of one flow.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            flow: { type: "string", maxLength: 100 },
            limit: { type: "integer", minimum: 1, maximum: 1000, default: 50 },
          },
        },
        response: withProblems({
          200: { type: "object", properties: { runs: { type: "array", items: RUN_SCHEMA } } },
        }),
      },
    },
    async (request) => ({
      runs: (
        await flows.store.listRuns({ flow: request.query.flow, limit: request.query.limit })
      ).map(runOut),
    }),
  );

  app.get<{ Params: { id: string } }>(
    "/api/v1/flows/runs/:id",
    {
      schema: {
        tags: ["flows"],
        summary: "A flow run with its log",
        params: {
          type: "object",
          properties: { id: { type: "string", maxLength: 64 } },
          required: ["id"],
        },
        response: withProblems({
          200: {
            type: "object",
            properties: {
              run: RUN_SCHEMA,
              logs: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    seq: { type: "integer" },
                    at: { type: "string", format: "date-time" },
                    level: { type: "string" },
                    message: { type: "string" },
                  },
                },
              },
            },
          },
        }),
      },
    },
    async (request) => {
      const run = await flows.store.getRun(request.params.id);
      const logs = await flows.store.logs(run.id);
      return { run: runOut(run), logs: logs.map((l) => ({ ...l, at: iso(l.at) })) };
    },
  );

  app.post<{ Params: { id: string } }>(
    "/api/v1/flows/runs/:id/cancel",
    {
      schema: {
        tags: ["flows"],
        summary: "Cancel a flow run",
        description:
          "Cancels a run that has not ended: a scheduled run never starts; a running one stops at its worker's next heartbeat. A run that has ended → 409. Needs an approver's `Authorization: Bearer <API token>`.",
        params: {
          type: "object",
          properties: { id: { type: "string", maxLength: 64 } },
          required: ["id"],
        },
        response: withProblems({ 200: RUN_SCHEMA }),
      },
    },
    async (request) => {
      const user = userOf(request);
      const run = await flows.store.getRun(request.params.id);
      if (!(await flows.store.cancel(run.id, user.name, Date.now()))) {
        throw new AppError("CONFLICT", `run ${run.id} has already ended (${run.state})`);
      }
      return runOut(await flows.store.getRun(run.id));
    },
  );

  app.post<{ Params: { name: string }; Body: { params?: Record<string, unknown> } }>(
    "/api/v1/flows/:name/runs",
    {
      schema: {
        tags: ["flows"],
        summary: "Trigger a flow run",
        description:
          "Queues a run of the flow now with the given parameters (checked against the flow's; defaults fill the rest). A worker (`riskometer worker` or `up`) runs it; a flow never runs twice at once, so it may wait for the run under way. Needs an approver's `Authorization: Bearer <API token>`.",
        params: {
          type: "object",
          properties: { name: { type: "string", maxLength: 100 } },
          required: ["name"],
        },
        body: {
          type: "object",
          additionalProperties: false,
          properties: { params: { type: "object", additionalProperties: true } },
        },
        response: withProblems({ 201: RUN_SCHEMA }),
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const run = await triggerFlow(
        flows,
        request.params.name,
        request.body?.params ?? {},
        user.name,
      );
      reply.status(201);
      return runOut(run);
    },
  );
}
