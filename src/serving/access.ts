import { createHash, timingSafeEqual } from "node:crypto";
import { parse as parseCookie, serialize as serializeCookie } from "cookie";
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  onRequestHookHandler,
  RouteOptions,
} from "fastify";
import {
  hasRole,
  type Role,
  type Session,
  type SqlSessionStore,
  type SqlUserStore,
  type User,
} from "../auth/index.js";
import { AppError } from "../core/index.js";
import type { AccessLog } from "../auth/access-log.js";
import { type Access, AUDITED_ROUTES, accessOf } from "./routes/roles.js";

/** The cookie that carries a browser session's secret. */
export const SESSION_COOKIE = "riskometer_session";
/** The header the pages send on every write, holding their session's CSRF token. */
export const CSRF_HEADER = "x-csrf-token";
/** Where pages send a visitor who is not signed in. */
export const SIGN_IN_PAGE = "/sign-in.html";

export interface AccessOptions {
  /** `open`: callers without credentials act as the clerk `local` (a trial on loopback only). */
  readonly mode: "secured" | "open";
  readonly users: SqlUserStore;
  readonly sessions: SqlSessionStore;
  /** The bearer token `/metrics` needs; none: `/metrics` is open. */
  readonly metricsToken?: string;
  /** Where accesses to applicants' data are recorded (AUDITED_ROUTES, sign-ins). */
  readonly log?: AccessLog;
}

/** Who calls in open mode without credentials. */
export const LOCAL_USER: User = {
  name: "local",
  role: "clerk",
  createdAt: 0,
  disabled: false,
  hasPassword: false,
};

export interface Caller {
  readonly user: User;
  /** Set when the caller came with a session cookie (then writes need the CSRF token). */
  readonly session?: Session;
  readonly sessionSecret?: string;
}

const callers = new WeakMap<FastifyRequest, Caller>();
interface AuditNote {
  target?: string | null;
  detail?: string;
  /** A scoring request's counts. */
  counts?: { rows: number; scored: number; rejected: number };
}
const auditNotes = new WeakMap<FastifyRequest, AuditNote>();

/**
 * What the access log should say of this request beyond its route's parameters: the batch a
 * scoring made, how many rows (never their values).
 */
export function noteForAudit(request: FastifyRequest, note: AuditNote): void {
  auditNotes.set(request, { ...auditNotes.get(request), ...note });
}

/** The user the access hook let in. */
export function userOf(request: FastifyRequest): User {
  const caller = callers.get(request);
  // Only reachable on a public route: refuse rather than act anonymously.
  if (!caller) throw new AppError("UNAUTHENTICATED", "this route needs credentials");
  return caller.user;
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** How long a checked token or session is taken on trust before it is looked up again. */
const TRUST_MS = 2000;
/** Failed credentials an address may send in a minute before it is refused for the rest of it. */
const FAILURES_PER_MINUTE = 30;

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === "") return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw new AppError("UNAUTHENTICATED", 'the Authorization header must be "Bearer <API token>"');
  }
  return match[1];
}

/** Whether the browser reached us over TLS (directly, or through a proxy that says so). */
export function overTls(request: FastifyRequest): boolean {
  return request.protocol === "https" || request.headers["x-forwarded-proto"] === "https";
}

/**
 * Authentication and the role check, as one hook: set up from the route table (ROUTE_ACCESS)
 * for every route as it is added. Callers prove who they are with an API token
 * (`Authorization: Bearer …`) or a session cookie from the sign-in page; cookie-authenticated
 * writes also need the session's CSRF token. No credentials: 401 (pages redirect to sign-in);
 * a role too low: 403; both problem+json.
 */
export class AccessControl {
  /** Recently checked credentials: a token or session is looked up at most every TRUST_MS. */
  private readonly trusted = new Map<string, { caller: Caller; until: number }>();
  /** Failed credentials per address in the current minute (the API's rate limit on guessing). */
  private failures = new Map<string, number>();
  private failuresMinute = 0;
  private readonly metricsHash: Buffer | null;

  constructor(private readonly options: AccessOptions) {
    this.metricsHash = options.metricsToken ? sha256(options.metricsToken) : null;
  }

  get mode(): "secured" | "open" {
    return this.options.mode;
  }

  /** Adds the hook to every route registered after this (call before any route). */
  install(app: FastifyInstance): void {
    app.addHook("onRoute", (route) => this.guardRoute(route));
  }

  private guardRoute(route: RouteOptions): void {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const needs = new Set(methods.map((m) => accessOf(m, route.url)));
    const access = [...needs][0];
    if (needs.size !== 1 || access === undefined) {
      throw new Error(
        `${methods.join(",")} ${route.url} has no entry in ROUTE_ACCESS (src/serving/routes/roles.ts): every route needs a role`,
      );
    }
    route.config = { ...(route.config as object), access } as typeof route.config;
    document(route, access);
    const hook = this.hookFor(access);
    const action = AUDITED_ROUTES[`${methods[0]} ${route.url}`];
    if (action !== undefined && this.options.log) {
      const audit = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        this.recordRequest(request, reply.statusCode, action);
        done();
      };
      const after = route.onResponse;
      route.onResponse =
        after === undefined ? [audit] : [...(Array.isArray(after) ? after : [after]), audit];
    }
    if (hook === null) return;
    const own = route.onRequest;
    route.onRequest = own === undefined ? [hook] : [hook, ...(Array.isArray(own) ? own : [own])];
  }

  private recordRequest(request: FastifyRequest, status: number, action: string): void {
    const params = (request.params ?? {}) as Record<string, string | undefined>;
    const body = request.body as { decisionId?: unknown } | undefined;
    const note = auditNotes.get(request);
    if (action === "score") {
      const who = callers.get(request)?.user;
      this.options.log?.recordScoring({
        at: Date.now(),
        user: who?.name ?? "anonymous",
        role: who?.role ?? "none",
        status,
        address: request.ip,
        target: note?.target ?? null,
        rows: note?.counts?.rows ?? 0,
        scored: note?.counts?.scored ?? 0,
        rejected: note?.counts?.rejected ?? 0,
      });
      return;
    }
    const target =
      note?.target !== undefined
        ? note.target
        : (params.id ??
          params.batchId ??
          (typeof body?.decisionId === "string" ? body.decisionId : null));
    this.audit(request, action, status, target, note?.detail ?? null);
  }

  /** Records an access by this request's caller (or `anonymous` before one is known). */
  audit(
    request: FastifyRequest,
    action: string,
    status: number,
    target: string | null,
    detail: string | null,
    user?: User,
  ): void {
    const who = user ?? callers.get(request)?.user;
    this.options.log?.record({
      at: Date.now(),
      user: who?.name ?? "anonymous",
      role: who?.role ?? "none",
      action,
      target,
      status,
      address: request.ip,
      detail,
    });
  }

  private hookFor(access: Access): onRequestHookHandler | null {
    if (access === "public") return null;
    if (access === "metrics") {
      const expected = this.metricsHash;
      if (expected === null) return null;
      return async (request) => {
        const token = bearerToken(request);
        if (token === undefined || !timingSafeEqual(sha256(token), expected)) {
          this.countFailure(request);
          throw new AppError(
            "UNAUTHENTICATED",
            "/metrics needs the bearer token set as RISKOMETER_METRICS_TOKEN",
          );
        }
      };
    }
    const page = access === "page";
    const needed: Role = page ? "viewer" : access;
    return async (request, reply) => {
      let caller = await this.identify(request);
      if (caller === null) {
        if (this.options.mode === "open" && hasRole(LOCAL_USER.role, needed)) {
          caller = { user: LOCAL_USER };
        } else if (page) {
          return redirectToSignIn(request, reply);
        } else {
          throw new AppError(
            "UNAUTHENTICATED",
            request.headers.cookie?.includes(`${SESSION_COOKIE}=`)
              ? "the session has ended (signed out, expired or idle too long): sign in again"
              : "sign in, or send an API token (Authorization: Bearer <token>)",
          );
        }
      }
      if (!hasRole(caller.user.role, needed)) {
        throw new AppError(
          "FORBIDDEN",
          `${caller.user.name} (${caller.user.role}) may not ${request.method} ${request.routeOptions.url}: it needs the ${needed} role`,
        );
      }
      if (caller.session && !READ_METHODS.has(request.method)) checkCsrf(request, caller.session);
      callers.set(request, caller);
    };
  }

  /**
   * The caller behind a request's credentials: null when it has none (or only an ended
   * session's cookie); UNAUTHENTICATED for a bad token, RATE_LIMITED for an address that sent
   * too many bad ones this minute.
   */
  async identify(request: FastifyRequest): Promise<Caller | null> {
    const known = callers.get(request);
    if (known) return known;
    const token = bearerToken(request);
    const cookies = request.headers.cookie;
    const secret =
      token === undefined && cookies !== undefined
        ? parseCookie(cookies)[SESSION_COOKIE]
        : undefined;
    if (token === undefined && !secret) return null;
    const key = token !== undefined ? `t:${token}` : `s:${secret}`;
    const now = Date.now();
    const hit = this.trusted.get(key);
    if (hit && hit.until > now) return hit.caller;
    this.refuseFlooding(request, now);
    let caller: Caller | null;
    try {
      if (token !== undefined) {
        caller = { user: await this.options.users.authenticate(token, now) };
      } else {
        const session = await this.options.sessions.find(secret as string, now);
        caller = session && { user: session.user, session, sessionSecret: secret };
      }
    } catch (e) {
      this.countFailure(request);
      throw e;
    }
    if (caller === null) return null;
    if (this.trusted.size >= 10_000) this.trusted.clear();
    this.trusted.set(key, {
      caller,
      until: Math.min(now + TRUST_MS, caller.session?.expiresAt ?? Infinity),
    });
    return caller;
  }

  /**
   * A new session for `user` (a new secret at every sign-in, whatever the way in), ending the
   * one the browser came with; returns it with the cookie to set.
   */
  async startSession(
    request: FastifyRequest,
    user: string,
    via: string,
  ): Promise<{ session: Session; cookie: string }> {
    const previous = (await this.identify(request).catch(() => null))?.sessionSecret;
    if (previous) {
      await this.options.sessions.end(previous);
      this.forgetSession(previous);
    }
    const { secret, session } = await this.options.sessions.start(user, via);
    return { session, cookie: sessionCookie(request, secret) };
  }

  /** Forgets a session at once (sign-out), instead of after TRUST_MS. */
  forgetSession(secret: string): void {
    this.trusted.delete(`s:${secret}`);
  }

  private countFailure(request: FastifyRequest): void {
    this.rollMinute(Date.now());
    this.failures.set(request.ip, (this.failures.get(request.ip) ?? 0) + 1);
  }

  private refuseFlooding(request: FastifyRequest, now: number): void {
    this.rollMinute(now);
    if ((this.failures.get(request.ip) ?? 0) >= FAILURES_PER_MINUTE) {
      throw new AppError(
        "RATE_LIMITED",
        `too many requests with bad credentials from ${request.ip}; try again in ${60 - Math.floor((now / 1000) % 60)} s`,
      );
    }
  }

  private rollMinute(now: number): void {
    const minute = Math.floor(now / 60_000);
    if (minute !== this.failuresMinute) {
      this.failuresMinute = minute;
      this.failures = new Map();
    }
  }
}

function checkCsrf(request: FastifyRequest, session: Session): void {
  const sent = request.headers[CSRF_HEADER];
  const ok = typeof sent === "string" && timingSafeEqual(sha256(sent), sha256(session.csrfToken));
  if (!ok) {
    throw new AppError(
      "FORBIDDEN",
      `a write with a session cookie needs its CSRF token in the ${CSRF_HEADER} header (the pages send it; reload the page)`,
    );
  }
}

function redirectToSignIn(request: FastifyRequest, reply: FastifyReply) {
  return reply.redirect(`${SIGN_IN_PAGE}?next=${encodeURIComponent(request.url)}`, 303);
}

/** The session cookie, HttpOnly and SameSite=Lax, Secure over TLS; no secret clears it. */
export function sessionCookie(request: FastifyRequest, secret: string | null): string {
  return serializeCookie(SESSION_COOKIE, secret ?? "", {
    httpOnly: true,
    sameSite: "lax",
    secure: overTls(request),
    path: "/",
    ...(secret === null ? { maxAge: 0 } : {}),
  });
}

/** The OpenAPI document says what each route needs (its security and, in words, the role). */
function document(route: RouteOptions, access: Access): void {
  const schema = route.schema as Record<string, unknown> | undefined;
  if (!schema || schema.hide) return;
  if (access === "public" || access === "page") {
    schema.security = [];
    return;
  }
  if (access === "metrics") {
    schema.security = [{ bearerAuth: [] }, {}];
    return;
  }
  schema.security = [{ bearerAuth: [] }, { sessionCookie: [] }];
  const note = `Needs the ${access} role.`;
  const text = typeof schema.description === "string" ? schema.description : "";
  if (!text.includes(note)) schema.description = text ? `${text} ${note}` : note;
}
