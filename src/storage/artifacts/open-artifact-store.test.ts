import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { AppError } from "../../core/index.js";
import { FileArtifactStore } from "./file-artifact-store.js";
import { GcsArtifactStore } from "./gcs-artifact-store.js";
import { ARTIFACT_STORE_SCHEMES, openArtifactStore } from "./open-artifact-store.js";
import { S3ArtifactStore } from "./s3-artifact-store.js";

// Opening a store contacts nothing, so none of these tests needs a server or credentials.
const env = {};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
  return undefined;
}

describe("openArtifactStore", () => {
  it("knows exactly the file, gs and s3 schemes", () => {
    expect(ARTIFACT_STORE_SCHEMES).toEqual(["file:", "gs:", "s3:"]);
  });

  it("maps each scheme to its adapter", () => {
    const file = openArtifactStore("file:///srv/riskometer/artifacts", { env });
    expect(file).toBeInstanceOf(FileArtifactStore);
    expect(file.uri).toBe("file:///srv/riskometer/artifacts");

    const gcs = openArtifactStore("gs://acme-models/riskometer/", { env });
    expect(gcs).toBeInstanceOf(GcsArtifactStore);
    expect(gcs.uri).toBe("gs://acme-models/riskometer");

    const s3 = openArtifactStore("s3://acme-models", { env });
    expect(s3).toBeInstanceOf(S3ArtifactStore);
    expect(s3.uri).toBe("s3://acme-models");
  });

  it("treats a path without a scheme as a local folder, resolved against baseDir", () => {
    const relative = openArtifactStore("artifacts/prod", { baseDir: "/srv/riskometer", env });
    expect(relative).toBeInstanceOf(FileArtifactStore);
    expect(relative.uri).toBe(pathToFileURL("/srv/riskometer/artifacts/prod").href);

    expect(openArtifactStore("/var/lib/artifacts", { baseDir: "/srv", env }).uri).toBe(
      "file:///var/lib/artifacts",
    );
    expect(openArtifactStore("./artifacts", { env }).uri).toBe(
      pathToFileURL(resolve(process.cwd(), "artifacts")).href,
    );
  });

  it("writes a plain-path store into that folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "riskometer-open-store-"));
    try {
      const store = openArtifactStore("models", { baseDir: dir, env });
      await store.put("runs/r1/model.json", "{}");
      expect(await readFile(join(dir, "models", "runs", "r1", "model.json"), "utf8")).toBe("{}");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects an unknown scheme, listing the valid ones", () => {
    expect(() => openArtifactStore("ftp://x", { env })).toThrow(
      'unknown artifact store scheme "ftp:" in "ftp://x"; valid: file:, gs:, s3: (or a plain folder path)',
    );
    expect(codeOf(() => openArtifactStore("ftp://x", { env }))).toBe("STORE_URI_INVALID");
    expect(codeOf(() => openArtifactStore("azure://container/x", { env }))).toBe(
      "STORE_URI_INVALID",
    );
    // Inherited object keys are not schemes.
    expect(codeOf(() => openArtifactStore("constructor:x", { env }))).toBe("STORE_URI_INVALID");
  });

  it("rejects URIs that name no bucket or are malformed", () => {
    for (const uri of [
      "",
      "   ",
      "gs://",
      "gs:///prefix",
      "s3://",
      "s3:bucket",
      "gs://bucket/a/../b",
      "s3://bucket//x",
      "file:relative/dir",
      "file://remote-host/share",
    ]) {
      expect(
        codeOf(() => openArtifactStore(uri, { env })),
        uri,
      ).toBe("STORE_URI_INVALID");
    }
  });

  it("accepts upper-case schemes", () => {
    expect(openArtifactStore("FILE:///srv/a", { env })).toBeInstanceOf(FileArtifactStore);
    expect(openArtifactStore("GS://bkt/x", { env }).uri).toBe("gs://bkt/x");
    expect(openArtifactStore("S3://bkt", { env }).uri).toBe("s3://bkt");
  });
});
