import type { FastifyInstance, FastifyRequest } from "fastify";
import rateLimit from "@fastify/rate-limit";
import type { Session, SqlSessionStore, SqlUserStore, User } from "../../auth/index.js";
import { AppError } from "../../core/errors.js";
import { type AccessControl, LOCAL_USER, SIGN_IN_PAGE, sessionCookie, userOf } from "../access.js";
import { withProblems } from "../schemas.js";

export interface SessionRouteOptions {
  readonly access: AccessControl;
  readonly users: SqlUserStore;
  readonly sessions: SqlSessionStore;
  /** Whether single sign-on is set up (the sign-in page then offers it). */
  readonly sso: boolean;
}

/** Sign-ins a user name may fail in a row before it is locked for a while (doubling). */
const FREE_FAILURES = 5;
const FIRST_LOCK_MS = 30_000;
const LONGEST_LOCK_MS = 15 * 60_000;

/**
 * Back-off per user name after failed sign-ins: from the sixth failure in a row, the name is
 * locked for 30 s, then 60 s, … up to 15 minutes; a success clears it. (Per address, the
 * rate-limit plugin on the route caps the attempts whatever the names.)
 */
class SignInThrottle {
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>();

  check(name: string, now: number): void {
    const entry = this.failures.get(name);
    if (entry && entry.lockedUntil > now) {
      throw new AppError(
        "RATE_LIMITED",
        `too many failed sign-ins for "${name}"; try again in ${Math.ceil((entry.lockedUntil - now) / 1000)} s`,
      );
    }
  }

  failed(name: string, now: number): void {
    const entry = this.failures.get(name) ?? { count: 0, lockedUntil: 0 };
    entry.count += 1;
    if (entry.count > FREE_FAILURES) {
      const lock = FIRST_LOCK_MS * 2 ** (entry.count - FREE_FAILURES - 1);
      entry.lockedUntil = now + Math.min(lock, LONGEST_LOCK_MS);
    }
    if (this.failures.size >= 10_000) this.failures.clear();
    this.failures.set(name, entry);
  }

  succeeded(name: string): void {
    this.failures.delete(name);
  }
}

const SESSION_SCHEMA = {
  type: "object",
  properties: {
    signedIn: { type: "boolean" },
    access: { type: "string", enum: ["secured", "open"] },
    user: {
      type: ["object", "null"],
      properties: {
        name: { type: "string" },
        role: { type: "string" },
        hasPassword: { type: "boolean" },
      },
    },
    via: { type: ["string", "null"], description: "password, link, sso, token or open" },
    sso: {
      type: "boolean",
      description: "Whether single sign-on is offered (GET /sign-in/oidc)",
    },
    expiresAt: { type: ["string", "null"], format: "date-time" },
    csrfToken: {
      type: ["string", "null"],
      description: "Send it as X-CSRF-Token on every write made with the session cookie",
    },
  },
} as const;

function sessionOut(
  access: AccessControl,
  who: { user: User; session?: Session; via?: string } | null,
  sso = false,
) {
  return {
    signedIn: who !== null,
    access: access.mode,
    sso,
    user: who && {
      name: who.user.name,
      role: who.user.role,
      hasPassword: who.user.hasPassword,
    },
    via: who === null ? null : (who.session?.via ?? who.via ?? null),
    expiresAt: who?.session ? new Date(who.session.expiresAt).toISOString() : null,
    csrfToken: who?.session?.csrfToken ?? null,
  };
}

/** Where to go after signing in: a path of this site only (never another site's address). */
export function localPath(next: string | undefined): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.includes("\\")
    ? next
    : "/";
}

/** Sign-in, sign-out, the first admin's one-time link, and password change. */
export async function sessionRoutes(app: FastifyInstance, opts: SessionRouteOptions) {
  const { access, users, sessions } = opts;
  const throttle = new SignInThrottle();
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => {
      throw new AppError(
        "RATE_LIMITED",
        `too many sign-in attempts from this address; try again in ${Math.ceil(context.ttl / 1000)} s`,
      );
    },
  });

  const startSession = async (
    request: FastifyRequest,
    reply: { header(name: string, value: string): unknown },
    user: string,
    via: string,
  ) => {
    const { session, cookie } = await access.startSession(request, user, via);
    reply.header("set-cookie", cookie);
    return session;
  };

  app.get(
    "/api/v1/session",
    {
      schema: {
        tags: ["access"],
        summary: "Who is signed in",
        description:
          "The signed-in user (or the API token's), the session's expiry and its CSRF token; `signedIn: false` without credentials.",
        response: withProblems({ 200: SESSION_SCHEMA }),
      },
    },
    async (request) => {
      const who = await access.identify(request);
      const { sso } = opts;
      if (who === null && access.mode === "open") {
        return sessionOut(access, { user: LOCAL_USER, via: "open" }, sso);
      }
      return sessionOut(access, who && { ...who, via: who.session ? undefined : "token" }, sso);
    },
  );

  app.post<{ Body: { user: string; password: string } }>(
    "/api/v1/session",
    {
      config: { rateLimit: { max: 10, timeWindow: 60_000 } },
      schema: {
        tags: ["access"],
        summary: "Sign in",
        description:
          "Checks the user name and password and starts a session: the answer sets an HttpOnly session cookie. After five failures in a row a user name is locked for 30 s, doubling up to 15 minutes; an address may try ten times a minute.",
        body: {
          type: "object",
          required: ["user", "password"],
          additionalProperties: false,
          properties: {
            user: { type: "string", minLength: 1, maxLength: 64 },
            password: { type: "string", minLength: 1, maxLength: 1024 },
          },
        },
        response: withProblems({ 200: SESSION_SCHEMA }),
      },
    },
    async (request, reply) => {
      const { user, password } = request.body;
      const now = Date.now();
      throttle.check(user, now);
      let found: User;
      try {
        found = await users.checkPassword(user, password);
      } catch (e) {
        throttle.failed(user, now);
        access.audit(request, "sign-in-failed", 401, user, null);
        throw e;
      }
      throttle.succeeded(user);
      access.audit(request, "sign-in", 200, found.name, "password", found);
      const session = await startSession(request, reply, found.name, "password");
      return sessionOut(access, { user: found, session });
    },
  );

  app.delete(
    "/api/v1/session",
    {
      schema: {
        tags: ["access"],
        summary: "Sign out",
        description:
          "Ends the browser's session on the server (its cookie no longer works anywhere) and clears the cookie.",
        response: withProblems({ 204: { type: "null" } }),
      },
    },
    async (request, reply) => {
      const who = await access.identify(request).catch(() => null);
      if (who?.sessionSecret) {
        await sessions.end(who.sessionSecret);
        access.forgetSession(who.sessionSecret);
      }
      reply.header("set-cookie", sessionCookie(request, null));
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { token: string; next?: string } }>(
    "/sign-in/link",
    {
      schema: {
        tags: ["access"],
        summary: "Sign in with a one-time link",
        description:
          "The link `riskometer up` prints for the first admin (or `riskometer users link NAME` makes): it works once, within 24 hours, then starts a session and opens the page that asks for a password.",
        querystring: {
          type: "object",
          required: ["token"],
          properties: { token: { type: "string", maxLength: 200 }, next: { type: "string" } },
        },
      },
    },
    async (request, reply) => {
      let name: string;
      try {
        name = await sessions.redeemLink(request.query.token);
      } catch {
        return reply.redirect(`${SIGN_IN_PAGE}?link=spent`, 303);
      }
      await startSession(request, reply, name, "link");
      const user = await users.getUser(name);
      access.audit(request, "sign-in", 200, name, "one-time link", user);
      return reply.redirect(
        user.hasPassword ? localPath(request.query.next) : `${SIGN_IN_PAGE}?set-password=1`,
        303,
      );
    },
  );

  app.put<{ Body: { password: string; currentPassword?: string } }>(
    "/api/v1/session/password",
    {
      schema: {
        tags: ["access"],
        summary: "Set one's own password",
        description: `Sets the signed-in user's password (at least 12 characters). A user who has one gives it as \`currentPassword\`; the first admin, signed in by the one-time link, sets the first. Every other session of the user ends; this one is renewed.`,
        body: {
          type: "object",
          required: ["password"],
          additionalProperties: false,
          properties: {
            password: { type: "string", maxLength: 1024 },
            currentPassword: { type: "string", maxLength: 1024 },
          },
        },
        response: withProblems({ 200: SESSION_SCHEMA }),
      },
    },
    async (request, reply) => {
      const user = userOf(request);
      const who = await access.identify(request);
      if (!who?.sessionSecret) {
        throw new AppError(
          "FORBIDDEN",
          "a password is set from a signed-in session; an admin sets others' with `riskometer users password`",
        );
      }
      if (user.hasPassword) {
        if (request.body.currentPassword === undefined) {
          throw new AppError(
            "INVALID_ARGUMENT",
            "currentPassword is required to change a password",
          );
        }
        await users.checkPassword(user.name, request.body.currentPassword);
      }
      await users.setPassword(user.name, request.body.password);
      access.forgetSession(who.sessionSecret);
      const session = await startSession(request, reply, user.name, who.session?.via ?? "password");
      return sessionOut(access, { user: await users.getUser(user.name), session });
    },
  );
}
