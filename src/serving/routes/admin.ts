import type { FastifyInstance } from "fastify";
import type { AccessLog } from "../../auth/access-log.js";
import type { SqlUserStore } from "../../auth/index.js";
import { withProblems } from "../schemas.js";

export interface AdminRouteOptions {
  readonly users: SqlUserStore;
  readonly log: AccessLog;
}

/** What admins read: the access log and the users. */
export async function adminRoutes(app: FastifyInstance, opts: AdminRouteOptions) {
  const { users } = opts;
  app.get<{
    Querystring: { user?: string; action?: string; since?: string; until?: string; limit: number };
  }>(
    "/api/v1/access-log",
    {
      schema: {
        tags: ["access"],
        summary: "Who accessed applicants' data",
        description:
          "The access log, newest first: who scored, read a decision or a batch, downloaded a scored file, recorded an outcome, erased decisions or signed in; when, from which address, and on which decision or batch. It never holds an applicant's data. Append-only.",
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: {
            user: { type: "string", maxLength: 64 },
            action: { type: "string", maxLength: 64 },
            since: { type: "string", format: "date-time" },
            until: { type: "string", format: "date-time" },
            limit: { type: "integer", minimum: 1, maximum: 10_000, default: 100 },
          },
        },
        response: withProblems({
          200: {
            type: "object",
            properties: {
              entries: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    at: { type: "string", format: "date-time" },
                    user: { type: "string" },
                    role: { type: "string" },
                    action: { type: "string" },
                    target: { type: ["string", "null"] },
                    status: { type: "integer" },
                    address: { type: "string" },
                    detail: { type: ["string", "null"] },
                  },
                },
              },
            },
          },
        }),
      },
    },
    async (request) => {
      const q = request.query;
      // What was recorded just before is part of the answer.
      await opts.log.flush();
      const entries = await opts.log.list({
        user: q.user,
        action: q.action,
        since: q.since === undefined ? undefined : Date.parse(q.since),
        until: q.until === undefined ? undefined : Date.parse(q.until),
        limit: q.limit,
      });
      return { entries: entries.map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    },
  );

  app.get(
    "/api/v1/users",
    {
      schema: {
        tags: ["access"],
        summary: "Users and their roles",
        response: withProblems({
          200: {
            type: "object",
            properties: {
              users: {
                type: "array",
                items: {
                  type: "object",
                  properties: {
                    name: { type: "string" },
                    role: { type: "string" },
                    createdAt: { type: "string", format: "date-time" },
                    disabled: { type: "boolean" },
                    hasPassword: { type: "boolean" },
                  },
                },
              },
            },
          },
        }),
      },
    },
    async () => ({
      users: (await users.listUsers()).map((u) => ({
        ...u,
        createdAt: new Date(u.createdAt).toISOString(),
      })),
    }),
  );
}
