import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyInstance, type FastifyRequest, LogController } from "fastify";
import { AppError, isAppError, PACKAGE_VERSION } from "../core/index.js";
import type { AppContext } from "../main.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import fastifyMultipart from "@fastify/multipart";
import helmet from "helmet";
import { SqlDecisionStore, openDecisionLog } from "../decisions/index.js";
import { ServingMetrics } from "./metrics.js";
import { MonitoringMetrics } from "./monitoring-metrics.js";
import {
  REFERENCE_PROFILE_ARTIFACT,
  parseReferenceProfile,
} from "../monitoring/reference-profile.js";
import { ModelHolder, type ServingModel } from "./model-holder.js";
import { sendClientError, sendNotFound, sendProblem } from "./problem.js";
import { decisionRoutes } from "./routes/decisions.js";
import { predictionRoutes } from "./routes/predictions.js";
import { ServingModels, ServingState } from "./serving-state.js";
import { modelRoutes } from "./routes/models.js";
import { runRoutes } from "./routes/runs.js";
import { webRoutes } from "./routes/web.js";
import { SHARED_SCHEMAS } from "./schemas.js";
import { type Flows, openFlows } from "../flows/index.js";
import { flowRoutes } from "./routes/flows.js";
import { reportRoutes } from "./routes/reports.js";
import { sessionRoutes } from "./routes/session.js";
import { ssoRoutes } from "./routes/sso.js";
import { adminRoutes } from "./routes/admin.js";
import { AccessControl, SESSION_COOKIE } from "./access.js";
import { AccessLog } from "../auth/access-log.js";
import { OidcSignIn, parseRoleMap } from "../auth/oidc.js";

/**
 * Fastify calls a trailing wildcard `*`; OpenAPI needs a named path parameter, so the document
 * shows `{path}` (the artifact path) where the router has `*`.
 */
function documentWildcard({ schema, url }: { schema: unknown; url: string }) {
  if (!url.endsWith("/*")) return { schema: schema as Record<string, unknown>, url };
  const s = { ...(schema as Record<string, unknown>) };
  const params = s.params as
    { properties?: Record<string, unknown>; required?: string[] } | undefined;
  if (params?.properties?.["*"]) {
    const { "*": wildcard, ...rest } = params.properties;
    s.params = {
      ...params,
      properties: { ...rest, path: wildcard },
      required: (params.required ?? []).map((name) => (name === "*" ? "path" : name)),
    };
  }
  return { schema: s, url: `${url.slice(0, -1)}:path` };
}

export interface BuildAppOptions {
  /**
   * Server log level (pino JSON lines on stdout), or false for none (the default, so tests stay
   * quiet). Requests are not logged one by one: /metrics counts them and the decision log keeps
   * every decision; refusals log at info, faults at error.
   */
  readonly logLevel?: string | false;
  /**
   * Log lines for a person at a terminal (pino-pretty: time, level, message, fields) instead of
   * one JSON object per line; `serve` and `up` turn it on when stdout is a TTY.
   */
  readonly prettyLogs?: boolean;
  /** Largest accepted JSON request body in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Largest uploaded applicant file in bytes (default 100 MB). */
  readonly maxFileBytes?: number;
  /** Largest JSON body of a scoring request in bytes (default 16 MiB: 10,000 applicants). */
  readonly maxJsonBytes?: number;
  /**
   * Host names (lower case, no port) requests may name in `Host`; others are refused with 403,
   * except the probes (`/healthz`, `/readyz`, `/metrics`), which reach a server by its address.
   * Default: any (see `allowedHostsFor`).
   */
  readonly allowedHosts?: readonly string[] | null;
  /** How often the serving alias is checked for moves made elsewhere (default 2 s; 0 = never). */
  readonly modelPollMs?: number;
  /** The flows the API shows and triggers (default: this context's). */
  readonly flows?: Flows;
  /**
   * `secured` (every route needs its role) or `open` (callers without credentials act as the
   * clerk `local`); default: the configuration's RISKOMETER_ACCESS.
   */
  readonly access?: "secured" | "open";
}

/**
 * Security headers on every answer, as helmet sets them (nosniff, no referrer, same-origin
 * opener and resources, HSTS behind TLS, …). No page of ours is meant to be framed (the API
 * docs' "try it out", a Risk-O-Meter form under another site's page). Each kind of page sets its
 * own Content-Security-Policy (web pages, SVG artifacts, report pages, the API docs), so
 * helmet's one policy for all stays off. helmet's headers depend on no request, so they are
 * taken from it once, at start: its per-request middleware cost a tenth of the scoring
 * throughput (12,651 against 11,403 requests/s, `node bench/serve.bench.mjs gbdt 10`).
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = (() => {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
  };
  helmet({ contentSecurityPolicy: false, frameguard: { action: "deny" } })(
    {} as IncomingMessage,
    response as unknown as ServerResponse,
    () => {},
  );
  return headers;
})();

/**
 * Log lines for a person at a terminal. Loaded only then: a server whose log goes to a collector
 * should not carry the printer and its dependencies.
 */
async function prettyStream() {
  const { default: pretty } = await import("pino-pretty");
  return pretty({
    colorize: true,
    sync: true,
    translateTime: "SYS:HH:MM:ss",
    ignore: "pid,hostname",
  });
}

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Loopback names: what a server bound to loopback answers to by default. */
export const LOOPBACK_HOSTS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

/** Probes and scrapes name the server by its address; they read no personal data. */
const PROBE_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * The host names a server bound to `bindHost` answers to: the configured ones (and the loopback
 * names when bound to loopback), or by default the loopback names on loopback and any name
 * (null) elsewhere.
 */
export function allowedHostsFor(
  bindHost: string,
  configured: readonly string[],
): readonly string[] | null {
  const loopback = LOOPBACK_HOSTS.includes(bindHost.toLowerCase());
  if (configured.length > 0) return loopback ? [...configured, ...LOOPBACK_HOSTS] : configured;
  return loopback ? LOOPBACK_HOSTS : null;
}

/**
 * A check refusing requests that name another host than the server's (DNS rebinding: a page of
 * evil.example whose name now resolves to 127.0.0.1 reaches a server on the clerk's machine);
 * null allows any host.
 */
function hostCheck(
  allowed: ReadonlySet<string> | null,
): (request: FastifyRequest) => AppError | undefined {
  if (allowed === null) return () => undefined;
  // Every request asks, and a server sees few Host headers: each is judged once.
  const verdicts = new Map<string, boolean>();
  return (request) => {
    const header = request.headers.host ?? "";
    let ok = verdicts.get(header);
    if (ok === undefined) {
      const name = (parseUrl(`http://${header}`)?.hostname ?? "").replace(/^\[(.*)\]$/, "$1");
      ok = allowed.has(name.toLowerCase());
      if (verdicts.size >= 256) verdicts.clear();
      verdicts.set(header, ok);
    }
    if (ok || PROBE_PATHS.has(request.url.split("?")[0])) return undefined;
    return new AppError(
      "FORBIDDEN",
      `this server does not answer to the host "${header}" (it answers to ${[...allowed].join(", ")}; RISKOMETER_ALLOWED_HOSTS adds names)`,
    );
  };
}

/**
 * A write sent by a web page of another site (what a page the clerk visits could do with the
 * clerk's browser): refused whatever credentials it carries. Browsers mark such requests with
 * `Sec-Fetch-Site: cross-site` and an `Origin` of the other site; the command line and API
 * clients send neither. Our own pages' origin is the host they were served from (`Host`, or
 * `X-Forwarded-Host` behind a proxy that rewrites it).
 */
function crossSiteWrite(request: FastifyRequest): AppError | undefined {
  if (READ_METHODS.has(request.method)) return undefined;
  const origin = request.headers.origin;
  let foreign = request.headers["sec-fetch-site"] === "cross-site";
  if (!foreign && origin !== undefined) {
    const from = parseUrl(origin);
    const forwarded = request.headers["x-forwarded-host"];
    const hosts = [
      request.headers.host,
      ...(typeof forwarded === "string" ? forwarded.split(",") : []),
    ];
    // Compared as URLs of the origin's scheme, so that a default port written or not is alike.
    foreign =
      from === null ||
      !hosts.some((h) => h && parseUrl(`${from.protocol}//${h.trim()}`)?.host === from.host);
  }
  if (!foreign) return undefined;
  return new AppError(
    "FORBIDDEN",
    `cross-site request refused: a ${request.method} from ${origin ?? "another site"} may not change anything here`,
  );
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

/** Single sign-on as configured (RISKOMETER_OIDC_*), or null. */
function oidcOf(config: AppContext["config"]): OidcSignIn | null {
  if (config.oidcIssuer === undefined || config.oidcClientId === undefined) return null;
  return new OidcSignIn({
    issuer: config.oidcIssuer,
    clientId: config.oidcClientId,
    clientSecret: config.oidcClientSecret,
    scopes: config.oidcScopes,
    roleClaim: config.oidcRoleClaim,
    roles: parseRoleMap(config.oidcRoles),
  });
}

/** Where the interactive API documentation lives; its OpenAPI document is at `<here>/json`. */
export const API_DOCS_PATH = "/api/docs";

/**
 * Builds the HTTP application on an open context: the API (tracking, registry), its OpenAPI
 * document and explorer, and the web UI. It never listens: the `serve` command does that, and
 * tests call `app.inject` without a socket. Closing the app does not close the context.
 *
 * @example
 * const app = await buildApp(await openContext());
 * await app.listen({ host: "127.0.0.1", port: 9696 });
 */
export async function buildApp(
  ctx: AppContext,
  options: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const foreignHost = hostCheck(options.allowedHosts ? new Set(options.allowedHosts) : null);
  const app = Fastify({
    logger: options.logLevel
      ? { level: options.logLevel, ...(options.prettyLogs ? { stream: await prettyStream() } : {}) }
      : false,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Slow clients cannot hold a connection open forever. No per-handler timeout: it costs an
    // AbortSignal per request (measured at about 5 % of a prediction's CPU), and every handler
    // waits only on the database, whose own timeouts (busy_timeout, pool) end a stuck wait.
    requestTimeout: 30_000,
    keepAliveTimeout: 65_000,
    return503OnClosing: true,
    clientErrorHandler: sendClientError,
    // Artifact paths and model references are longer than the router's default 100 characters.
    routerOptions: { maxParamLength: 1000 },
    ajv: {
      // Reject unknown fields instead of silently dropping them: a typo such as "notes" must
      // not turn into an empty note.
      customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true },
    },
  });

  const accessLog = new AccessLog(ctx.database, (e) =>
    app.log.error({ err: e }, "access log entries not written"),
  );
  const access = new AccessControl({
    mode: options.access ?? ctx.config.access,
    users: ctx.users,
    sessions: ctx.sessions,
    metricsToken: ctx.config.metricsToken,
    log: accessLog,
  });
  // Before any route, so that every one is guarded from the route table.
  access.install(app);

  app.setErrorHandler(sendProblem);
  app.setNotFoundHandler(sendNotFound);
  // Callback-style hooks: an async hook costs a promise per request on the hot path.
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done(foreignHost(request) ?? crossSiteWrite(request));
  });

  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Riskometer API",
        version: PACKAGE_VERSION,
        description:
          "Credit scoring with reasons, the decision log, experiment tracking, the model registry and scheduled flows of Riskometer. Every route but the probes, the sign-in and this description needs a user with a role (viewer < clerk < approver < admin; each route says which): send `Authorization: Bearer <API token>` (`riskometer users add` prints one), or sign in (`POST /api/v1/session`) and send the session cookie with `X-CSRF-Token` on writes. No credentials: 401; too low a role: 403. Errors are `application/problem+json` with a stable `code` (docs/errors.md).",
      },
      tags: [
        { name: "tracking", description: "Experiments, runs, metrics and artifacts" },
        { name: "registry", description: "Registered models, versions, aliases and their audit" },
        {
          name: "scoring",
          description: "Credit decisions with reasons, the decision log, outcomes",
        },
        {
          name: "monitoring",
          description: "Drift reports: history, each report in full, its HTML page",
        },
        {
          name: "flows",
          description: "Scheduled flows (retrain, drift-report), their runs and logs, triggers",
        },
        { name: "operations", description: "Health and readiness" },
        { name: "access", description: "Sign-in, sign-out, passwords and users" },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: "http", scheme: "bearer", description: "A Riskometer API token" },
          sessionCookie: {
            type: "apiKey",
            in: "cookie",
            name: SESSION_COOKIE,
            description: "A signed-in session (writes also need its X-CSRF-Token header)",
          },
        },
      },
    },
    transform: documentWildcard,
    // Name shared components by their $id instead of def-0, def-1…
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`),
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: API_DOCS_PATH });

  const metrics = new ServingMetrics();
  metrics.install(app);
  const log = await openDecisionLog(ctx.database, { sqliteSync: ctx.config.decisionSync });
  metrics.watchDecisionLog(() => log.stats());
  const decisions = new SqlDecisionStore(ctx.database);
  const referenceOf = async (model: ServingModel) => {
    const key = `runs/${model.modelVersion.runId}/${REFERENCE_PROFILE_ARTIFACT}`;
    // A version trained before profiles were kept has none: the window then shows no drift.
    const bytes = await ctx.artifacts.get(key).catch(() => null);
    return bytes ? parseReferenceProfile(bytes.toString("utf8"), key) : null;
  };
  /** A holder following `name@champion` and the state that scores with it. */
  const openState = (name: string): ServingState => {
    let state: ServingState | null = null;
    const holder = new ModelHolder(ctx.registry, {
      name,
      pollMs: options.modelPollMs ?? 2000,
      onLoad: (model) => state?.prepare(model),
      // Nothing registered yet is a state, not a fault: said once, without a stack.
      onError: (error) =>
        isAppError(error) && error.code === "NOT_FOUND"
          ? app.log.info({ detail: error.message, model: name }, "no model to serve yet")
          : app.log.warn({ err: error, model: name }, "serving model not (re)loaded"),
    });
    state = new ServingState(holder, log, metrics, referenceOf);
    return state;
  };
  const primary = openState(ctx.config.modelName);
  const models = new ServingModels(
    primary,
    async (name) => {
      const state = openState(name);
      await state.holder.start();
      return state;
    },
    async (name) => (await ctx.registry.store.listModelVersions(name).catch(() => [])).length > 0,
  );
  const holder = primary.holder;
  app.addHook("onClose", async () => {
    await models.close();
    // Every decision acknowledged so far is already durable; this waits for those in flight.
    await log.close();
    await accessLog.close();
  });
  await holder.start();
  if (holder.current() === null) metrics.setModel(ctx.config.modelName, null);

  await app.register(fastifyMultipart);
  const oidc = oidcOf(ctx.config);
  await app.register(sessionRoutes, {
    access,
    users: ctx.users,
    sessions: ctx.sessions,
    sso: oidc !== null,
  });
  await app.register(ssoRoutes, { access, users: ctx.users, oidc });
  await app.register(adminRoutes, { users: ctx.users, log: accessLog });
  await app.register(runRoutes, { ctx });
  await app.register(modelRoutes, { ctx, onAliasMoved: () => models.checkAll() });
  await app.register(predictionRoutes, {
    models,
    maxFileBytes: options.maxFileBytes ?? 100e6,
    maxJsonBytes: options.maxJsonBytes,
  });
  await app.register(decisionRoutes, { ctx, models, decisions, referenceOf });
  const flows = options.flows ?? openFlows(ctx);
  new MonitoringMetrics(metrics.registry, flows.store);
  await app.register(flowRoutes, { flows });
  await app.register(reportRoutes, { ctx, flows });
  await app.register(webRoutes);
  return app;
}
