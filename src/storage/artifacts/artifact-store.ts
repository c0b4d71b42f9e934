import { type Stats } from "node:fs";
import { stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { AppError } from "../../core/index.js";

/** One stored object, as `list` reports it. */
export interface ArtifactInfo {
  /** POSIX-style key relative to the store root, e.g. `runs/<runId>/model.json`. */
  path: string;
  /** Size in bytes. */
  size: number;
}

/**
 * The narrow port every artifact backend implements (local folder, Google Cloud Storage, S3).
 * Keys are POSIX-style relative paths; every method validates them with
 * {@link normalizeArtifactKey} so a key can never escape the store root. A `prefix` is a folder
 * (`runs/1` covers `runs/1/model.json` but not `runs/10/model.json`); `""` is the whole store.
 */
export interface ArtifactStore {
  /** The root URI, e.g. `file:///abs/dir`, `gs://bucket/prefix`, `s3://bucket/prefix`. */
  readonly uri: string;
  /** Writes a whole object atomically: a reader never sees a half-written object. */
  put(path: string, body: Buffer | string): Promise<void>;
  /** Uploads a local file without reading it into memory; also atomic. */
  putFile(path: string, localFile: string): Promise<void>;
  /** Reads a whole object; AppError NOT_FOUND if it does not exist. */
  get(path: string): Promise<Buffer>;
  /** Opens an object for streaming; the promise rejects with NOT_FOUND if it does not exist. */
  getStream(path: string): Promise<Readable>;
  /** Every object under the folder `prefix` (recursive), sorted by path, paths relative to the root. */
  list(prefix: string): Promise<ArtifactInfo[]>;
  /** Whether an object exists at `path` (a folder is not an object). */
  exists(path: string): Promise<boolean>;
  /** Deletes every object under the folder `prefix`; used when a run or experiment is hard-deleted. */
  deletePrefix(prefix: string): Promise<void>;
}

/**
 * Validates an artifact key and returns it unchanged. Absolute paths, empty segments (`a//b`,
 * a trailing `/`), `.` and `..` segments, backslashes and control characters are rejected with
 * INVALID_ARGUMENT: a local folder would resolve them outside its root, and object stores would
 * silently keep them as odd-looking keys that other adapters cannot represent.
 *
 * @example normalizeArtifactKey("runs/42/model.json") // "runs/42/model.json"
 */
export function normalizeArtifactKey(path: string): string {
  const problem = keyProblem(path);
  if (problem) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `invalid artifact path ${JSON.stringify(path)}: ${problem}`,
    );
  }
  return path;
}

/**
 * Validates a folder prefix: `""` (the whole store) or a key, optionally with one trailing `/`.
 * Returns it without the trailing slash.
 *
 * @example normalizeArtifactPrefix("runs/42/") // "runs/42"
 */
export function normalizeArtifactPrefix(prefix: string): string {
  const trimmed = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
  if (trimmed === "" && prefix === "") return "";
  const problem = keyProblem(trimmed);
  if (problem) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `invalid artifact prefix ${JSON.stringify(prefix)}: ${problem}`,
    );
  }
  return trimmed;
}

function keyProblem(path: string): string | undefined {
  if (path === "") return "it is empty";
  if (path.includes("\\")) return "backslashes are not allowed, use /";
  // eslint-disable-next-line no-control-regex -- control characters are exactly what we reject
  if (/[\u0000-\u001f\u007f]/.test(path)) return "control characters are not allowed";
  if (path.startsWith("/")) return "it must be relative, not absolute";
  if (/^[A-Za-z]:/.test(path)) return "it must be relative, not a drive path";
  for (const segment of path.split("/")) {
    if (segment === "") return "empty path segments are not allowed";
    if (segment === "." || segment === "..") return `"${segment}" segments are not allowed`;
  }
  return undefined;
}

/** The parts of a `gs://bucket/prefix` or `s3://bucket/prefix` URI. */
export interface BucketUri {
  bucket: string;
  /** Key prefix inside the bucket without leading or trailing slash; `""` for the bucket root. */
  prefix: string;
  /** The canonical form, e.g. `gs://bucket/prefix` (no trailing slash). */
  uri: string;
}

/**
 * Parses `<scheme>//bucket[/prefix]`; a missing bucket or an invalid prefix is STORE_URI_INVALID.
 *
 * @example parseBucketUri("s3://models/prod/", "s3:") // { bucket: "models", prefix: "prod", uri: "s3://models/prod" }
 */
export function parseBucketUri(uri: string, scheme: string): BucketUri {
  const match = new RegExp(`^${scheme}//([^/?#]*)(/[^?#]*)?$`).exec(uri);
  if (!match) {
    throw new AppError(
      "STORE_URI_INVALID",
      `invalid artifact store URI "${uri}": expected ${scheme}//<bucket>[/<prefix>]`,
    );
  }
  const bucket = match[1];
  if (bucket === "") {
    throw new AppError("STORE_URI_INVALID", `artifact store URI "${uri}" names no bucket`);
  }
  // Tolerate "gs://bucket/" and "gs://bucket/prefix/"; anything stranger is a typo worth reporting.
  const rawPrefix = (match[2] ?? "").replace(/^\//, "");
  let prefix: string;
  try {
    prefix = normalizeArtifactPrefix(rawPrefix);
  } catch (e) {
    throw new AppError(
      "STORE_URI_INVALID",
      `invalid prefix in artifact store URI "${uri}": ${(e as Error).message}`,
    );
  }
  return { bucket, prefix, uri: `${scheme}//${bucket}${prefix ? `/${prefix}` : ""}` };
}

/** Orders artifact listings the same way in every adapter (code-unit order, not locale order). */
export function compareArtifactPaths(a: ArtifactInfo, b: ArtifactInfo): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Joins a bucket prefix and a validated key into an object name. */
export function joinObjectKey(rootPrefix: string, key: string): string {
  return rootPrefix === "" ? key : `${rootPrefix}/${key}`;
}

/**
 * The object-name prefix that selects a folder: `root/folder/`, or `root/` / `""` for the whole
 * store. The trailing slash keeps `runs/1` from matching `runs/10/...`.
 */
export function folderObjectPrefix(rootPrefix: string, folder: string): string {
  const joined = folder === "" ? rootPrefix : joinObjectKey(rootPrefix, folder);
  return joined === "" ? "" : `${joined}/`;
}

/** The NOT_FOUND error every adapter raises for a missing object. */
export function artifactNotFound(storeUri: string, path: string, cause?: unknown): AppError {
  return new AppError("NOT_FOUND", `artifact "${path}" not found in ${storeUri}`, { cause });
}

/**
 * Wraps a backend failure (network, permission, full disk) as STORE_UNAVAILABLE, naming the store
 * and the operation so the message is actionable without the stack; the original error is kept
 * as `cause`.
 */
export function artifactStoreUnavailable(
  storeUri: string,
  operation: string,
  target: string,
  cause: unknown,
): AppError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const what = target === "" ? "" : ` "${target}"`;
  return new AppError(
    "STORE_UNAVAILABLE",
    `artifact store ${storeUri}: ${operation}${what} failed: ${reason}`,
    { cause },
  );
}

/**
 * The size of a local file about to be uploaded; FILE_NOT_FOUND if it is missing or not a regular
 * file, so every adapter reports a bad source the same way before contacting the store.
 */
export async function localFileSize(localFile: string): Promise<number> {
  let info: Stats;
  try {
    info = await stat(localFile);
  } catch (e) {
    throw new AppError("FILE_NOT_FOUND", `cannot read local file "${localFile}"`, { cause: e });
  }
  if (!info.isFile()) throw new AppError("FILE_NOT_FOUND", `"${localFile}" is not a regular file`);
  return info.size;
}
