import { writeHeaders } from "./session.js";

/**
 * Talking to the Riskometer API. Every failure becomes an ApiError carrying the server's problem
 * details (title, detail, code, status), so pages can show the server's own words.
 */

/** An error response of the API, or a network failure (status 0). */
export class ApiError extends Error {
  /** @param {{ title?: string, detail?: string, code?: string, status?: number }} problem */
  constructor(problem) {
    super(problem.detail || problem.title || "Request failed");
    this.name = "ApiError";
    this.title = problem.title || "Request failed";
    this.detail = problem.detail || "";
    this.code = problem.code || "";
    this.status = problem.status ?? 0;
  }
}

/**
 * Calls the API and returns its JSON.
 *
 * @param {string} path e.g. `/api/v1/runs`
 * @param {{ method?: string, query?: Record<string, unknown>, body?: unknown, token?: string }} [options]
 */
export async function api(path, options = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(options.query ?? {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) {
      url.searchParams.append(key, String(item));
    }
  }
  const headers = { accept: "application/json, application/problem+json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const method = options.method ?? "GET";
  if (method !== "GET") Object.assign(headers, await writeHeaders());
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
    });
  } catch (e) {
    throw new ApiError({
      title: "The server could not be reached",
      detail: e instanceof Error ? e.message : String(e),
      code: "NETWORK",
      status: 0,
    });
  }
  const type = response.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) {
    throw new ApiError(
      data && typeof data === "object" && "detail" in data
        ? data
        : {
            title: response.statusText,
            detail: `HTTP ${response.status}`,
            status: response.status,
          },
    );
  }
  return data;
}

/** URL of a run's artifact (path segments encoded, slashes kept). */
export function artifactUrl(runId, path) {
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return `/api/v1/runs/${encodeURIComponent(runId)}/artifacts/${encoded}`;
}
