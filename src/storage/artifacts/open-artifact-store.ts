import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../../core/index.js";
import type { ArtifactStore } from "./artifact-store.js";
import { FileArtifactStore } from "./file-artifact-store.js";
import { GcsArtifactStore } from "./gcs-artifact-store.js";
import { S3ArtifactStore } from "./s3-artifact-store.js";

/** Options for {@link openArtifactStore}. */
export interface OpenArtifactStoreOptions {
  /** Folder that plain relative paths are resolved against; default `process.cwd()`. */
  baseDir?: string;
  /** Environment to read endpoint and region overrides from; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

type StoreFactory = (uri: string, env: NodeJS.ProcessEnv) => ArtifactStore;

// The one place a scheme maps to an adapter: adding a backend is one entry here.
const STORE_FACTORIES = {
  "file:": (uri) => new FileArtifactStore(fileUriToPath(uri)),
  "gs:": (uri, env) =>
    new GcsArtifactStore(uri, { apiEndpoint: nonEmpty(env.RISKOMETER_GCS_ENDPOINT) }),
  "s3:": (uri, env) =>
    new S3ArtifactStore(uri, {
      endpoint: nonEmpty(env.RISKOMETER_S3_ENDPOINT),
      region: nonEmpty(env.RISKOMETER_S3_REGION) ?? nonEmpty(env.AWS_REGION) ?? "us-east-1",
    }),
} satisfies Record<string, StoreFactory>;

/** A URI scheme {@link openArtifactStore} understands, with its colon (`"gs:"`). */
export type ArtifactStoreScheme = keyof typeof STORE_FACTORIES;

/** The schemes {@link openArtifactStore} accepts, in the order error messages list them. */
export const ARTIFACT_STORE_SCHEMES = Object.freeze(
  Object.keys(STORE_FACTORIES) as ArtifactStoreScheme[],
);

// Two or more letters so a Windows drive ("C:\\models") reads as a plain path, not a scheme.
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+:)/;

/**
 * Opens the artifact store a URI names: `file:///abs/dir`, `gs://bucket/prefix`,
 * `s3://bucket/prefix`, or a plain folder path (resolved against `baseDir`). Endpoint overrides
 * come from `RISKOMETER_GCS_ENDPOINT` and `RISKOMETER_S3_ENDPOINT`, the S3 region from
 * `RISKOMETER_S3_REGION` or `AWS_REGION` (default `us-east-1`). An unknown scheme or a malformed
 * URI is STORE_URI_INVALID; nothing is contacted until the first operation.
 *
 * @example
 * const store = openArtifactStore(process.env.RISKOMETER_ARTIFACTS ?? ".riskometer/artifacts");
 */
export function openArtifactStore(
  uri: string,
  options: OpenArtifactStoreOptions = {},
): ArtifactStore {
  const env = options.env ?? process.env;
  if (uri.trim() === "") {
    throw new AppError("STORE_URI_INVALID", `artifact store URI is empty; ${validSchemes()}`);
  }
  const scheme = SCHEME.exec(uri)?.[1];
  if (scheme === undefined) {
    return new FileArtifactStore(resolve(options.baseDir ?? process.cwd(), uri));
  }
  const normalized = scheme.toLowerCase();
  const factory = lookup(normalized);
  if (!factory) {
    throw new AppError(
      "STORE_URI_INVALID",
      `unknown artifact store scheme "${scheme}" in "${uri}"; ${validSchemes()}`,
    );
  }
  // Schemes are case-insensitive (RFC 3986); the adapters parse the canonical lower-case form.
  return factory(normalized + uri.slice(scheme.length), env);
}

function lookup(scheme: string): StoreFactory | undefined {
  return Object.hasOwn(STORE_FACTORIES, scheme)
    ? STORE_FACTORIES[scheme as ArtifactStoreScheme]
    : undefined;
}

function validSchemes(): string {
  return `valid: ${ARTIFACT_STORE_SCHEMES.join(", ")} (or a plain folder path)`;
}

function fileUriToPath(uri: string): string {
  // "file:relative/dir" would silently become "/relative/dir"; a file URI must be absolute.
  if (!/^file:\/\//i.test(uri)) {
    throw new AppError(
      "STORE_URI_INVALID",
      `invalid file URI "${uri}": use file:///absolute/path or a plain folder path`,
    );
  }
  try {
    return fileURLToPath(uri);
  } catch (e) {
    throw new AppError("STORE_URI_INVALID", `invalid file URI "${uri}": ${(e as Error).message}`, {
      cause: e,
    });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
