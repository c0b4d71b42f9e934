import { knownCsrfToken, writeHeaders } from "./session.js";
/**
 * The scoring API as the Risk-O-Meter page uses it. Unlike api.js these calls keep the whole
 * error body: a 422 carries per-row `errors` the page shows next to fields or in a table.
 */

/**
 * A failed call: the problem details (title, detail, code, status) plus any row `errors`.
 * `status` is 0 for a network failure and -1 for a cancelled upload.
 */
export class ScoringError extends Error {
  /** @param {{ title?: string, detail?: string, code?: string, status?: number, errors?: any[] }} problem */
  constructor(problem) {
    super(problem.detail || problem.title || "Request failed");
    this.name = "ScoringError";
    this.title = problem.title || "Request failed";
    this.detail = problem.detail || "";
    this.code = problem.code || "";
    this.status = problem.status ?? 0;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

const JSON_ACCEPT = "application/json, application/problem+json";

/** A problem from a non-2xx response, whatever shape its body has. */
function problemOf(status, statusText, data) {
  if (data && typeof data === "object" && ("detail" in data || "errors" in data)) {
    return new ScoringError({ ...data, status: data.status ?? status });
  }
  return new ScoringError({
    title: statusText || "Request failed",
    detail:
      status === 413
        ? "The file is larger than the server accepts. Split it into smaller files."
        : `The server answered HTTP ${status}.`,
    status,
  });
}

function networkError(e) {
  return new ScoringError({
    title: "The server could not be reached",
    detail: e instanceof Error ? e.message : String(e),
    code: "NETWORK",
    status: 0,
  });
}

/**
 * Sends a request and returns the JSON body; throws ScoringError for anything but 2xx.
 *
 * @param {string} path
 * @param {{ method?: string, body?: unknown }} [options]
 */
export async function request(path, options = {}) {
  let response;
  try {
    const method = options.method ?? "GET";
    response = await fetch(path, {
      method,
      headers: {
        accept: JSON_ACCEPT,
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        ...(method === "GET" ? {} : await writeHeaders()),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      credentials: "same-origin",
    });
  } catch (e) {
    throw networkError(e);
  }
  const type = response.headers.get("content-type") ?? "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  if (!response.ok) throw problemOf(response.status, response.statusText, data);
  return data;
}

/** `?model=NAME` and any other parameters set (none: the empty string); no model: the server's. */
function searchOf(model, params = {}) {
  const search = new URLSearchParams();
  if (model) search.set("model", model);
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * The registered models and the one the server scores with when a request names none:
 * `{ models: [{ name, aliases, … }], defaultModel }`.
 */
export function listModels() {
  return request("/api/v1/models");
}

/**
 * What a model's serving version expects: `{ model: { name, version }, dataset: { name,
 * version }, columns }`, each column with its label, kind, allowed values or range, whether it
 * may be missing and its typical value. Throws ScoringError: 503 while no version of the model
 * serves, 404 for a model the registry does not know.
 *
 * @param {string} [model] the registered model (default: the server's)
 */
export async function loadSchema(model) {
  const data = await request(`/api/v1/schema${searchOf(model)}`);
  return {
    model: data?.model ?? null,
    dataset: data?.dataset ?? null,
    columns: Array.isArray(data?.columns) ? data.columns : [],
  };
}

/**
 * Scores one applicant (an object keyed by column name) with `model`'s serving version.
 *
 * @param {Record<string, unknown>} applicant
 * @param {string} [model]
 */
export function scoreApplicant(applicant, model) {
  // One applicant at a time: ask for the reasons even when the decision is good.
  return request(`/api/v1/predictions${searchOf(model, { reasons: "all" })}`, {
    method: "POST",
    body: applicant,
  });
}

/**
 * Uploads a file for scoring with upload progress. `onProgress(fraction)` gets 0…1 while the
 * bytes go up, then `onProgress(null)` while the server reads and scores them.
 *
 * The answer lists the first `options.limit` predictions (all without it); the rest stay in the
 * decision log, for `batchPage`.
 *
 * `options.model` names the registered model that scores (default: the server's).
 *
 * @param {File} file
 * @param {{ onProgress?: (fraction: number | null) => void, limit?: number, model?: string }} [options]
 * @returns {{ promise: Promise<any>, abort: () => void }}
 */
export function uploadFile(file, options = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", `/api/v1/predictions${searchOf(options.model, { limit: options.limit })}`);
    xhr.setRequestHeader("accept", JSON_ACCEPT);
    const csrf = knownCsrfToken();
    if (csrf) xhr.setRequestHeader("x-csrf-token", csrf);
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) options.onProgress?.(e.total > 0 ? e.loaded / e.total : 1);
    });
    xhr.upload.addEventListener("load", () => options.onProgress?.(null));
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        // A non-JSON body (a proxy's error page): the status says enough.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(problemOf(xhr.status, xhr.statusText, data));
    });
    xhr.addEventListener("error", () => reject(networkError(new Error("the upload failed"))));
    xhr.addEventListener("abort", () =>
      reject(
        new ScoringError({
          title: "Upload cancelled",
          detail: "Nothing was scored.",
          status: -1,
        }),
      ),
    );
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/**
 * A page of a scored batch, sorted and filtered by the server:
 * `{ total, counts: { good, bad }, predictions }`.
 *
 * @param {string} batchId
 * @param {{ offset: number, limit: number, sort: string, direction: string, risk?: string, search?: string }} query
 */
export function batchPage(batchId, query) {
  return request(
    `/api/v1/batches/${encodeURIComponent(batchId)}/predictions${searchOf(undefined, query)}`,
  );
}

/** Where the scored file of a batch is downloaded from. */
export function scoredCsvUrl(batchId) {
  return `/api/v1/batches/${encodeURIComponent(batchId)}/scored.csv`;
}
