import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/core/index.js";
import {
  FileArtifactStore,
  GcsArtifactStore,
  S3ArtifactStore,
  openArtifactStore,
} from "../../src/storage/artifacts/index.js";
import { artifactStoreContract } from "./artifact-store.contract.js";
import { type FakeGcsServer, startFakeGcsServer } from "./fake-gcs-server.js";

// Everything below talks to 127.0.0.1 only: s3rver for S3, a hand-written fake for GCS.
const S3_BUCKET = "riskometer-contract";
const GCS_BUCKET = "riskometer-contract";
const GCS_FORBIDDEN_BUCKET = "riskometer-forbidden";

let tempRoot: string;
let s3rver: ChildProcess | undefined;
let s3Endpoint: string;
let s3Admin: S3Client;
let gcs: FakeGcsServer;
let counter = 0;

beforeAll(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), "riskometer-artifact-stores-"));
  // The adapters take S3 credentials from the SDK's default chain; the environment comes first.
  // s3rver accepts exactly this key pair. Stubbing also keeps the chain off the instance metadata
  // service, which would be a network call.
  vi.stubEnv("AWS_ACCESS_KEY_ID", "S3RVER");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "S3RVER");
  vi.stubEnv("AWS_SESSION_TOKEN", "");
  vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");

  const started = await startS3rver(join(tempRoot, "s3rver"), S3_BUCKET);
  s3rver = started.child;
  s3Endpoint = started.endpoint;
  s3Admin = new S3Client({ endpoint: s3Endpoint, region: "us-east-1", forcePathStyle: true });

  gcs = await startFakeGcsServer({
    buckets: [GCS_BUCKET],
    forbiddenBuckets: [GCS_FORBIDDEN_BUCKET],
    // Small pages so listings of a few dozen objects follow nextPageToken.
    maxPageSize: 10,
  });
});

afterAll(async () => {
  s3Admin?.destroy();
  await stopProcess(s3rver);
  await gcs?.close();
  await rm(tempRoot, { recursive: true, force: true });
  vi.unstubAllEnvs();
});

const noCleanup = async (): Promise<void> => undefined;

artifactStoreContract("FileArtifactStore", async () => {
  const dir = await mkdtemp(join(tmpdir(), "riskometer-file-artifacts-"));
  // A folder that does not exist yet: the store must create it on first write.
  return {
    store: new FileArtifactStore(join(dir, "artifacts")),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// s3rver rewrites an object file in place, so a concurrent GET can see a torn body; real S3 (and
// the S3-compatible stores we target) replace objects atomically on PUT.
const S3RVER_LIMITS = { overwriteNotAtomic: "s3rver rewrites objects in place; S3 PUT is atomic" };

// A fresh prefix per test in one bucket (objects go away with s3rver's temp folder)...
artifactStoreContract(
  "S3ArtifactStore under a prefix (s3rver)",
  async () => ({
    store: new S3ArtifactStore(`s3://${S3_BUCKET}/t${++counter}/artifacts`, {
      endpoint: s3Endpoint,
      // Small pages so listings of a few dozen objects follow continuation tokens.
      listPageSize: 7,
    }),
    cleanup: noCleanup,
  }),
  S3RVER_LIMITS,
);

// ...and a fresh bucket per test for the bucket-root case (no key prefix at all).
artifactStoreContract(
  "S3ArtifactStore at a bucket root (s3rver)",
  async () => {
    const bucket = `root-${++counter}`;
    await s3Admin.send(new CreateBucketCommand({ Bucket: bucket }));
    return {
      store: new S3ArtifactStore(`s3://${bucket}`, { endpoint: s3Endpoint, listPageSize: 7 }),
      cleanup: noCleanup,
    };
  },
  S3RVER_LIMITS,
);

artifactStoreContract("GcsArtifactStore under a prefix (fake GCS JSON API)", async () => ({
  store: new GcsArtifactStore(`gs://${GCS_BUCKET}/t${++counter}/artifacts`, {
    apiEndpoint: gcs.endpoint,
  }),
  cleanup: noCleanup,
}));

describe("FileArtifactStore specifics", () => {
  it("creates its folder only on first write and leaves no temporary files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "riskometer-file-artifacts-"));
    try {
      const root = join(dir, "nested", "artifacts");
      const store = new FileArtifactStore(root);
      expect(store.uri).toBe(`file://${root}`);
      expect(await store.list("")).toEqual([]);
      await expect(readdir(dir)).resolves.toEqual([]);
      await store.put("runs/r1/model.json", "{}");
      await store.put("runs/r1/model.json", "{ }");
      expect(await readdir(join(root, "runs", "r1"))).toEqual(["model.json"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reports an object/folder clash as CONFLICT", async () => {
    const dir = await mkdtemp(join(tmpdir(), "riskometer-file-artifacts-"));
    try {
      const store = new FileArtifactStore(dir);
      await store.put("runs/r1", "a file");
      await expect(store.put("runs/r1/model.json", "{}")).rejects.toMatchObject({
        code: "CONFLICT",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("S3ArtifactStore specifics", () => {
  it("keeps objects under the URI prefix in the bucket", async () => {
    const prefix = `iso-${++counter}`;
    await new S3ArtifactStore(`s3://${S3_BUCKET}/${prefix}/`, { endpoint: s3Endpoint }).put(
      "runs/r1/model.json",
      "{}",
    );
    const bucketRoot = new S3ArtifactStore(`s3://${S3_BUCKET}`, { endpoint: s3Endpoint });
    expect(await bucketRoot.list(prefix)).toEqual([
      { path: `${prefix}/runs/r1/model.json`, size: 2 },
    ]);
  });

  it("is opened from an s3:// URI with the endpoint from RISKOMETER_S3_ENDPOINT", async () => {
    const prefix = `opened-${++counter}`;
    const store = openArtifactStore(`s3://${S3_BUCKET}/${prefix}`, {
      env: { RISKOMETER_S3_ENDPOINT: s3Endpoint, RISKOMETER_S3_REGION: "eu-west-1" },
    });
    expect(store).toBeInstanceOf(S3ArtifactStore);
    expect(store.uri).toBe(`s3://${S3_BUCKET}/${prefix}`);
    await store.put("hello.txt", "hi");
    expect((await store.get("hello.txt")).toString()).toBe("hi");
  });

  it("reports a missing bucket as STORE_UNAVAILABLE, not as a missing artifact", async () => {
    const store = new S3ArtifactStore("s3://no-such-bucket/x", { endpoint: s3Endpoint });
    for (const attempt of [
      () => store.get("model.json"),
      () => store.put("model.json", "{}"),
      () => store.list(""),
    ]) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("STORE_UNAVAILABLE");
      expect((error as AppError).message).toContain("s3://no-such-bucket/x");
      expect((error as AppError).cause).toBeDefined();
    }
  });

  it("wraps an unreachable endpoint as STORE_UNAVAILABLE naming the URI and operation", async () => {
    const store = new S3ArtifactStore(`s3://${S3_BUCKET}`, {
      endpoint: `http://127.0.0.1:${await closedPort()}`,
    });
    const error = await store.get("runs/r1/model.json").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "STORE_UNAVAILABLE" });
    expect((error as AppError).message).toMatch(
      new RegExp(`s3://${S3_BUCKET}: get "runs/r1/model.json" failed`),
    );
    expect((error as AppError).cause).toBeInstanceOf(Error);
  });
});

describe("GcsArtifactStore specifics (fake GCS JSON API)", () => {
  it("streams putFile through a resumable session and follows listing page tokens", async () => {
    // The contract passing against the fake means little unless the client took the paths real
    // GCS sees: paged listings, multipart uploads for put and a resumable session for putFile.
    const store = new GcsArtifactStore(`gs://${GCS_BUCKET}/paging-${++counter}`, {
      apiEndpoint: gcs.endpoint,
    });
    await Promise.all(Array.from({ length: 23 }, (_, i) => store.put(`k/${i}`, "x")));
    gcs.requests.length = 0;
    expect(await store.list("k")).toHaveLength(23);
    expect(gcs.requests.filter((r) => r.includes("pageToken"))).toHaveLength(2);
    expect(gcs.requests.join("\n")).not.toContain("uploadType=resumable");
    const local = join(tempRoot, `gcs-${counter}.bin`);
    await writeFile(local, Buffer.alloc(1024, 7));
    await store.putFile("big.bin", local);
    expect(gcs.requests.join("\n")).toContain(
      "POST /upload/storage/v1/b/riskometer-contract/o uploadType=resumable",
    );
  });

  it("keeps objects under the URI prefix in the bucket", async () => {
    const prefix = `iso-${++counter}`;
    await new GcsArtifactStore(`gs://${GCS_BUCKET}/${prefix}/`, {
      apiEndpoint: gcs.endpoint,
    }).put("runs/r1/model.json", "{}");
    const bucketRoot = new GcsArtifactStore(`gs://${GCS_BUCKET}`, { apiEndpoint: gcs.endpoint });
    expect(await bucketRoot.list(prefix)).toEqual([
      { path: `${prefix}/runs/r1/model.json`, size: 2 },
    ]);
  });

  it("is opened from a gs:// URI with the endpoint from RISKOMETER_GCS_ENDPOINT", async () => {
    const prefix = `opened-${++counter}`;
    const store = openArtifactStore(`gs://${GCS_BUCKET}/${prefix}`, {
      env: { RISKOMETER_GCS_ENDPOINT: gcs.endpoint },
    });
    expect(store).toBeInstanceOf(GcsArtifactStore);
    await store.put("hello.txt", "hi");
    expect((await store.get("hello.txt")).toString()).toBe("hi");
  });

  it("wraps permission failures as STORE_UNAVAILABLE with the SDK error as cause", async () => {
    const store = new GcsArtifactStore(`gs://${GCS_FORBIDDEN_BUCKET}/models`, {
      apiEndpoint: gcs.endpoint,
    });
    const attempts: [string, () => Promise<unknown>][] = [
      ["put", () => store.put("m.json", "{}")],
      ["get", () => store.get("m.json")],
      ["getStream", () => store.getStream("m.json")],
      ["list", () => store.list("")],
      ["exists", () => store.exists("m.json")],
      ["deletePrefix", () => store.deletePrefix("runs")],
    ];
    for (const [operation, attempt] of attempts) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, operation).toBeInstanceOf(AppError);
      expect((error as AppError).code, operation).toBe("STORE_UNAVAILABLE");
      expect((error as AppError).message, operation).toContain(
        `gs://${GCS_FORBIDDEN_BUCKET}/models: ${operation}`,
      );
      expect((error as AppError).cause, operation).toMatchObject({ code: 403 });
    }
  });

  it("reports a missing bucket as STORE_UNAVAILABLE, not as a missing artifact", async () => {
    const store = new GcsArtifactStore("gs://no-such-bucket", { apiEndpoint: gcs.endpoint });
    await expect(store.get("m.json")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
    await expect(store.getStream("m.json")).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
  });

  it("parses gs:// URIs into bucket and prefix", () => {
    expect(new GcsArtifactStore("gs://bkt").uri).toBe("gs://bkt");
    expect(new GcsArtifactStore("gs://bkt/").uri).toBe("gs://bkt");
    expect(new GcsArtifactStore("gs://bkt/a/b/").uri).toBe("gs://bkt/a/b");
    for (const bad of ["gs://", "gs:///prefix", "gs://bkt/a/../b", "gs://bkt//a", "gs:bkt"]) {
      expect(() => new GcsArtifactStore(bad), bad).toThrow(
        expect.objectContaining({ code: "STORE_URI_INVALID" }),
      );
    }
  });
});

/** A port on 127.0.0.1 that nothing listens on (bound, read, released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Runs s3rver in a child process. It signs ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 only offers through its legacy provider, and that can only be enabled at process
 * start; a separate process also keeps the emulator's blocking file I/O out of the test runner.
 */
async function startS3rver(
  directory: string,
  bucket: string,
): Promise<{ child: ChildProcess; endpoint: string }> {
  await mkdir(directory, { recursive: true });
  const bin = createRequire(import.meta.url).resolve("s3rver/bin/s3rver.js");
  const child = spawn(
    process.execPath,
    [
      "--openssl-legacy-provider",
      bin,
      "--directory",
      directory,
      "--address",
      "127.0.0.1",
      "--port",
      "0",
      "--silent",
      "--configure-bucket",
      bucket,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.on("data", (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on [^:\s]+:(\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      child.once("error", reject);
      child.once("exit", (code) => reject(new Error(`s3rver exited with ${code}: ${output}`)));
    });
    return { child, endpoint: `http://127.0.0.1:${port}` };
  } catch (e) {
    await stopProcess(child);
    throw e;
  }
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}
