import type { Duplex } from "node:stream";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CODES, isAppError, type ErrorCode } from "../core/index.js";

/** What every error response looks like (RFC 9457 problem details with our stable code). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly code: ErrorCode;
  /** Per-row problems of a refused applicant or file. */
  readonly errors?: readonly unknown[];
}

export const PROBLEM_MEDIA_TYPE = "application/problem+json; charset=utf-8";

/** A URN rather than a web address: the codes are documented in docs/errors.md, not online. */
function problem(code: ErrorCode, status: number, detail: string): Problem {
  return {
    type: `urn:riskometer:error:${code}`,
    title: ERROR_CODES[code].summary,
    status,
    detail,
    code,
  };
}

/**
 * Turns anything a route throws into problem details. AppErrors carry a safe message by design;
 * fastify's own 4xx errors (validation, malformed JSON, body too large) describe the request, not
 * the server, so they pass through as INVALID_ARGUMENT with their HTTP status. Anything else is
 * a bug: it is logged in full and the client gets a generic message with no stack or internals.
 */
export function toProblem(error: unknown): Problem {
  if (isAppError(error)) {
    const body = problem(error.code, error.status, error.message);
    const details = error.details as { errors?: unknown } | undefined;
    return Array.isArray(details?.errors) ? { ...body, errors: details.errors } : body;
  }
  const fastifyError = error as Partial<FastifyError>;
  if (fastifyError.validation) {
    return problem("INVALID_ARGUMENT", 400, validationDetail(fastifyError));
  }
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return problem("INVALID_ARGUMENT", status, String(fastifyError.message));
  }
  return problem(
    "INTERNAL",
    500,
    "An unexpected error occurred on the server; it has been logged. Please try again or contact the platform team.",
  );
}

/** e.g. `querystring.maxResults: must be <= 1000`: where the bad field is, and what is wrong. */
function validationDetail(error: Partial<FastifyError>): string {
  const first = error.validation?.[0];
  if (!first) return String(error.message);
  const where = error.validationContext ?? "request";
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty;
  const field = missing ?? first.instancePath.replace(/^\//, "").replaceAll("/", ".");
  const extra = (first.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  if (extra !== undefined) return `${where}: unknown field "${extra}"`;
  return field === ""
    ? `${where} ${first.message ?? "is invalid"}`
    : `${where}.${field}: ${missing !== undefined ? "is required" : (first.message ?? "is invalid")}`;
}

/** A state that refuses requests (no model serving yet) is logged again after this long. */
const STATE_LOG_MS = 60_000;
/** When each such state was last logged, by code and detail (a handful: one per model). */
const stateLogged = new Map<string, number>();

/**
 * Whether to log a refusal caused by a state of the server now: once, then at most once a
 * minute while it lasts, so a readiness probe polling every few seconds does not fill the log.
 */
function stateNews(code: string, detail: string, now = Date.now()): boolean {
  const key = `${code}\u0000${detail}`;
  const last = stateLogged.get(key);
  if (last !== undefined && now - last < STATE_LOG_MS) return false;
  if (stateLogged.size >= 100) stateLogged.clear();
  stateLogged.set(key, now);
  return true;
}

/** Fastify error handler: logs server faults, answers with problem details. */
export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply) {
  const body = toProblem(error);
  // A fault (an unexpected error, or a store that failed) is logged with its stack; a state the
  // server knows (no model serving yet) and a refused request are logged as what they are.
  if (body.status === 503 && isAppError(error)) {
    if (stateNews(body.code, body.detail)) {
      request.log.warn({ code: body.code, detail: body.detail }, "request not served");
    }
  } else if (body.status >= 500) request.log.error({ err: error }, "request failed");
  else request.log.info({ code: body.code, detail: body.detail }, "request refused");
  return reply.status(body.status).type(PROBLEM_MEDIA_TYPE).send(body);
}

/**
 * Fastify's client-error handler (a request the HTTP parser refuses before any route: headers
 * over Node's 16 kB, a timeout, malformed HTTP), answering in the same problem format as every
 * other error instead of Fastify's plain JSON, then closing the connection.
 */
export function sendClientError(error: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, detail] =
    error.code === "HPE_HEADER_OVERFLOW"
      ? [
          431,
          "Request Header Fields Too Large",
          "the request's headers are larger than the 16 kB the server reads",
        ]
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [408, "Request Timeout", "the request did not arrive in time"]
        : [400, "Bad Request", "the request is not valid HTTP"];
  const body = JSON.stringify(problem("INVALID_ARGUMENT", status as number, detail as string));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Fastify not-found handler, in the same format as every other error. */
export function sendNotFound(request: FastifyRequest, reply: FastifyReply) {
  const body = problem("NOT_FOUND", 404, `no route ${request.method} ${request.url.split("?")[0]}`);
  return reply.status(404).type(PROBLEM_MEDIA_TYPE).send(body);
}
