import type { FastifyRequest } from "fastify";
import type { User } from "../auth/index.js";
import { AppError } from "../core/index.js";
import type { AppContext } from "../main.js";

/** OpenAPI security requirement for routes that change state. */
export const BEARER_SECURITY = [{ bearerAuth: [] }];

/** OpenAPI header schema for those routes (not required here: a missing token is a 401, not a 400). */
export const AUTHORIZATION_HEADERS = {
  type: "object",
  properties: {
    authorization: { type: "string", description: "Bearer <API token>" },
  },
} as const;

/**
 * The user behind `Authorization: Bearer <token>`. Every failure is UNAUTHENTICATED with the same
 * message shape whether the header is missing, malformed or the token unknown, so the response
 * does not help anyone guess tokens.
 */
export async function requireUser(ctx: AppContext, request: FastifyRequest): Promise<User> {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === "") return ctx.users.authenticate(undefined);
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new AppError("UNAUTHENTICATED", 'the Authorization header must be "Bearer <API token>"');
  }
  return ctx.users.authenticate(match[1]);
}

const authenticatedUsers = new WeakMap<FastifyRequest, User>();

/**
 * A `preValidation` hook for routes that change state: it runs before the body is validated, so
 * an anonymous caller learns only that a token is needed, never what the body should hold.
 */
export function authenticate(ctx: AppContext) {
  return async (request: FastifyRequest): Promise<void> => {
    authenticatedUsers.set(request, await requireUser(ctx, request));
  };
}

/** The user `authenticate` found for this request. */
export function userOf(request: FastifyRequest): User {
  const user = authenticatedUsers.get(request);
  // Only reachable if a route forgot its hook: refuse rather than act anonymously.
  if (!user) throw new AppError("UNAUTHENTICATED", "this route needs an API token");
  return user;
}
