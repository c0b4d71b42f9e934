import { createHash } from "node:crypto";
import { readFile, writeFile, rename } from "node:fs/promises";
import { AppError } from "../../core/errors.js";

/** Marker and versions of the model file format. Bump the version on any incompatible change. */
export const MODEL_FORMAT = "riskometer-model";
/**
 * 2: the body carries its dataset spec as `dataset`; 1 carried the German credit schema as
 * `schema` (still read, see saved-model.ts).
 */
export const MODEL_FORMAT_VERSION = 2;
export const SUPPORTED_MODEL_FORMAT_VERSIONS: readonly number[] = [1, 2];

/**
 * A model file is plain JSON: `{ format, formatVersion, ...body, checksum }`, where `checksum` is
 * the SHA-256 of the JSON text of everything before it. It holds no timestamps, so the same data,
 * settings and seed give a byte-identical file.
 */
export interface ModelEnvelope<B> {
  readonly format: typeof MODEL_FORMAT;
  readonly formatVersion: number;
  readonly body: B;
}

function digest(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Serialises a model body into the file text (with format marker, version and checksum). */
export function encodeModelFile(body: unknown): string {
  const head = { format: MODEL_FORMAT, formatVersion: MODEL_FORMAT_VERSION, body };
  const text = JSON.stringify(head);
  return `${JSON.stringify({ ...head, checksum: digest(text) })}\n`;
}

/**
 * Parses model file text, checking the format marker, version and checksum, and returns the body.
 * @throws AppError MODEL_FILE_INVALID or MODEL_VERSION_UNSUPPORTED with a message that says why.
 */
export function decodeModelFile(text: string, source = "model file"): unknown {
  return decodeModelEnvelope(text, source).body;
}

/** Like decodeModelFile, with the format version the body was written in. */
export function decodeModelEnvelope(
  text: string,
  source = "model file",
): { formatVersion: number; body: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new AppError(
      "MODEL_FILE_INVALID",
      `${source} is not valid JSON (truncated or corrupted?): ${(e as Error).message}`,
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new AppError("MODEL_FILE_INVALID", `${source} is not a Riskometer model file`);
  }
  const { format, formatVersion, body, checksum } = parsed as Record<string, unknown>;
  if (format !== MODEL_FORMAT) {
    throw new AppError(
      "MODEL_FILE_INVALID",
      `${source} is not a Riskometer model file (format marker ${JSON.stringify(format)}, expected "${MODEL_FORMAT}")`,
    );
  }
  if (
    typeof formatVersion !== "number" ||
    !SUPPORTED_MODEL_FORMAT_VERSIONS.includes(formatVersion)
  ) {
    throw new AppError(
      "MODEL_VERSION_UNSUPPORTED",
      `${source} has model format version ${JSON.stringify(formatVersion)}; this release reads version(s) ${SUPPORTED_MODEL_FORMAT_VERSIONS.join(", ")}`,
    );
  }
  const expected = digest(JSON.stringify({ format, formatVersion, body }));
  if (checksum !== expected) {
    throw new AppError(
      "MODEL_FILE_INVALID",
      `${source} failed its checksum: the file was modified or corrupted after it was written`,
    );
  }
  return { formatVersion, body };
}

/** Writes atomically (temporary file + rename) so a crash never leaves half a model file. */
export async function writeModelFile(path: string, body: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, encodeModelFile(body));
  await rename(tmp, path);
}

export async function readModelFile(path: string): Promise<unknown> {
  return (await readModelEnvelope(path)).body;
}

export async function readModelEnvelope(
  path: string,
): Promise<{ formatVersion: number; body: unknown }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new AppError(
      "FILE_NOT_FOUND",
      `cannot read model file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  return decodeModelEnvelope(text, `model file ${path}`);
}
