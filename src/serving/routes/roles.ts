import type { Role } from "../../auth/index.js";

/**
 * What a route needs: `public` (anyone), `metrics` (Prometheus' token when one is set), `page`
 * (a web page: a signed-in user, else the sign-in page), or the least role of the caller.
 */
export type Access = "public" | "metrics" | "page" | Role;

/**
 * The least role each API route needs: the one place this is decided. The access hook reads it
 * for every route at start, and a route that is not here stops the server from starting, so
 * no route can be added without a decision. Roles include the ones below them (viewer < clerk <
 * approver < admin). Personal data (applicants, decisions, scored files, training data) needs
 * the clerk role; runs, models, flows and reports hold none.
 */
export const ROUTE_ACCESS: Readonly<Record<string, Access>> = {
  "GET /healthz": "public",
  "GET /readyz": "public",
  "GET /metrics": "metrics",

  "GET /api/v1/session": "public",
  "POST /api/v1/session": "public",
  "DELETE /api/v1/session": "public",
  "PUT /api/v1/session/password": "viewer",
  "GET /sign-in/link": "public",
  "GET /sign-in/oidc": "public",
  "GET /sign-in/oidc/callback": "public",

  "GET /api/v1/schema": "viewer",
  "GET /api/v1/experiments": "viewer",
  "GET /api/v1/runs": "viewer",
  "POST /api/v1/runs/search": "viewer",
  "GET /api/v1/runs/:id": "viewer",
  "GET /api/v1/runs/:id/metrics/:key": "viewer",
  // Files under model/ hold training data: the route asks for the clerk role for those.
  "GET /api/v1/runs/:id/artifacts/*": "viewer",

  "GET /api/v1/models": "viewer",
  "GET /api/v1/models/:name": "viewer",
  "GET /api/v1/models/:name/versions/:version": "viewer",
  "GET /api/v1/model-versions/:ref": "viewer",
  "GET /api/v1/models/:name/audit": "viewer",
  "PUT /api/v1/models/:name/aliases/:alias": "approver",
  "DELETE /api/v1/models/:name/aliases/:alias": "approver",

  "POST /api/v1/predictions": "clerk",
  "GET /api/v1/decisions/:id": "clerk",
  "POST /api/v1/outcomes": "clerk",
  "GET /api/v1/batches/:batchId/predictions": "clerk",
  "GET /api/v1/batches/:batchId/scored.csv": "clerk",

  "GET /api/v1/flows": "viewer",
  "GET /api/v1/flows/runs": "viewer",
  "GET /api/v1/flows/runs/:id": "viewer",
  "POST /api/v1/flows/runs/:id/cancel": "approver",
  "POST /api/v1/flows/:name/runs": "approver",

  "GET /api/v1/reports": "viewer",
  "GET /api/v1/reports/:id": "viewer",
  "GET /api/v1/reports/:id/report.html": "viewer",

  "GET /api/v1/users": "admin",
  "GET /api/v1/access-log": "admin",
  "POST /api/v1/decisions/erase": "admin",
};

/** Files of the web UI that hold no data: the sign-in page and every script, style and image. */
const PUBLIC_PAGES = new Set(["/sign-in.html"]);

/**
 * The access a route needs: from the table, or for the web UI's files and the API
 * documentation by kind (pages need a signed-in user, their assets and the API's description
 * do not); undefined for a route nobody decided on.
 */
export function accessOf(method: string, url: string): Access | undefined {
  const key = `${method === "HEAD" ? "GET" : method} ${url}`;
  const listed = ROUTE_ACCESS[key];
  if (listed !== undefined) return listed;
  if (method !== "GET" && method !== "HEAD") return undefined;
  if (url === "/api/docs" || url.startsWith("/api/docs/")) return "public";
  if (url.startsWith("/api/")) return undefined;
  if (PUBLIC_PAGES.has(url)) return "public";
  if (url === "/" || url.endsWith(".html")) return "page";
  if (/\.(js|css|svg|png|ico|woff2?)$/.test(url)) return "public";
  return undefined;
}

/**
 * The routes whose every answer goes into the access log (who, when, from where, which decision
 * or batch; never the data): those that show, take or change applicants' data.
 */
export const AUDITED_ROUTES: Readonly<Record<string, string>> = {
  "POST /api/v1/predictions": "score",
  "GET /api/v1/decisions/:id": "read-decision",
  "POST /api/v1/outcomes": "record-outcome",
  "GET /api/v1/batches/:batchId/predictions": "read-batch",
  "GET /api/v1/batches/:batchId/scored.csv": "download-scored",
  "POST /api/v1/decisions/erase": "erase",
  "GET /api/v1/access-log": "read-access-log",
};
