import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import type { S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import type { AppError } from "../../core/index.js";
import {
  type ArtifactInfo,
  type ArtifactStore,
  artifactNotFound,
  artifactStoreUnavailable,
  compareArtifactPaths,
  folderObjectPrefix,
  joinObjectKey,
  localFileSize,
  normalizeArtifactKey,
  normalizeArtifactPrefix,
  parseBucketUri,
} from "./artifact-store.js";

/** Options for {@link S3ArtifactStore}; credentials always come from the SDK's default chain. */
export interface S3ArtifactStoreOptions {
  /** Endpoint of an S3-compatible store (MinIO, Ceph, R2…), `RISKOMETER_S3_ENDPOINT`. */
  endpoint?: string;
  /** Region; default `us-east-1`. */
  region?: string;
  /** Path-style addressing (`host/bucket/key`); default: true when `endpoint` is set. */
  forcePathStyle?: boolean;
  /** Keys per ListObjectsV2 page (S3's maximum and default is 1000). */
  listPageSize?: number;
}

type S3Sdk = typeof import("@aws-sdk/client-s3");

interface S3Connection {
  sdk: S3Sdk;
  client: S3Client;
}

// DeleteObjects accepts at most 1000 keys per request.
const DELETE_BATCH = 1000;

/**
 * Artifacts in an S3 (or S3-compatible) bucket under an optional prefix. Credentials come from
 * the SDK's default provider chain (environment, shared config/credentials files, SSO, instance
 * or task role). A PutObject is atomic, so readers never see a partial object.
 *
 * @example
 * const store = new S3ArtifactStore("s3://acme-models/riskometer", { endpoint: "http://minio:9000" });
 * const models = await store.list("runs/42");
 */
export class S3ArtifactStore implements ArtifactStore {
  readonly uri: string;
  private readonly config: S3ClientConfig;
  private connection: Promise<S3Connection> | undefined;
  private readonly bucket: string;
  private readonly rootPrefix: string;
  private readonly listPageSize: number | undefined;

  constructor(uri: string, options: S3ArtifactStoreOptions = {}) {
    const parsed = parseBucketUri(uri, "s3:");
    this.uri = parsed.uri;
    this.bucket = parsed.bucket;
    this.rootPrefix = parsed.prefix;
    this.listPageSize = options.listPageSize;
    const config: S3ClientConfig = {
      region: options.region ?? "us-east-1",
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    };
    if (options.endpoint !== undefined) {
      config.endpoint = options.endpoint;
      // Many S3-compatible stores do not understand the SDK's default flexible checksums
      // (aws-chunked bodies with trailing CRC32) and would store the chunk framing as data;
      // only send checksums where an operation requires one.
      config.requestChecksumCalculation = "WHEN_REQUIRED";
      config.responseChecksumValidation = "WHEN_REQUIRED";
    }
    this.config = config;
  }

  async put(path: string, body: Buffer | string): Promise<void> {
    const key = normalizeArtifactKey(path);
    try {
      const { sdk, client } = await this.connect();
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.objectName(key),
          Body: typeof body === "string" ? Buffer.from(body, "utf8") : body,
        }),
      );
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "put", key, e);
    }
  }

  async putFile(path: string, localFile: string): Promise<void> {
    const key = normalizeArtifactKey(path);
    const size = await localFileSize(localFile);
    try {
      const { sdk, client } = await this.connect();
      // One streamed PutObject: the length must be known up front for a stream body. This caps
      // an artifact at 5 GB (S3's single-PUT limit), far above any model we produce; multipart
      // upload (@aws-sdk/lib-storage) is not a dependency of this project.
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.bucket,
          Key: this.objectName(key),
          Body: createReadStream(localFile),
          ContentLength: size,
        }),
      );
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "putFile", key, e);
    }
  }

  async get(path: string): Promise<Buffer> {
    const key = normalizeArtifactKey(path);
    try {
      const { sdk, client } = await this.connect();
      const result = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.objectName(key) }),
      );
      if (!result.Body) return Buffer.alloc(0);
      const bytes = await result.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (e) {
      throw this.readError("get", key, e);
    }
  }

  async getStream(path: string): Promise<Readable> {
    const key = normalizeArtifactKey(path);
    try {
      const { sdk, client } = await this.connect();
      // The SDK resolves once headers arrive, so a missing key rejects here; the body streams.
      const result = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.bucket, Key: this.objectName(key) }),
      );
      // In Node the SDK's body is an http.IncomingMessage, a Readable.
      return result.Body instanceof Readable ? result.Body : Readable.from([]);
    } catch (e) {
      throw this.readError("getStream", key, e);
    }
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    const folder = normalizeArtifactPrefix(prefix);
    const rootLength = this.rootPrefix === "" ? 0 : this.rootPrefix.length + 1;
    try {
      const found: ArtifactInfo[] = [];
      for await (const object of this.objectsUnder(folder)) {
        // Zero-byte "folder/" markers some tools create are not artifacts.
        if (object.key.endsWith("/")) continue;
        found.push({ path: object.key.slice(rootLength), size: object.size });
      }
      return found.sort(compareArtifactPaths);
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "list", folder, e);
    }
  }

  async exists(path: string): Promise<boolean> {
    const key = normalizeArtifactKey(path);
    try {
      const { sdk, client } = await this.connect();
      await client.send(
        new sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectName(key) }),
      );
      return true;
    } catch (e) {
      // HEAD responses have no body, so a missing bucket cannot be told from a missing key here.
      if (httpStatus(e) === 404) return false;
      throw artifactStoreUnavailable(this.uri, "exists", key, e);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const folder = normalizeArtifactPrefix(prefix);
    try {
      const { sdk, client } = await this.connect();
      let batch: string[] = [];
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const result = await client.send(
          new sdk.DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        batch = [];
        // DeleteObjects answers 200 even when single keys fail; those failures are in the body.
        const failed = result.Errors ?? [];
        if (failed.length > 0) {
          const first = failed[0];
          throw new Error(
            `${failed.length} object(s) not deleted, e.g. "${first.Key}": ${first.Code} ${first.Message}`,
          );
        }
      };
      for await (const object of this.objectsUnder(folder)) {
        batch.push(object.key);
        if (batch.length === DELETE_BATCH) await flush();
      }
      await flush();
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "deletePrefix", folder, e);
    }
  }

  /** Every object name under a folder, following ListObjectsV2 continuation tokens. */
  private async *objectsUnder(folder: string): AsyncGenerator<{ key: string; size: number }> {
    const { sdk, client } = await this.connect();
    const objectPrefix = folderObjectPrefix(this.rootPrefix, folder);
    let token: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: objectPrefix === "" ? undefined : objectPrefix,
          ContinuationToken: token,
          MaxKeys: this.listPageSize,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private connect(): Promise<S3Connection> {
    // The SDK takes a noticeable fraction of a second to import; loading it on first use keeps
    // every command that only touches local artifacts from paying for it.
    this.connection ??= import("@aws-sdk/client-s3").then((sdk) => ({
      sdk,
      client: new sdk.S3Client(this.config),
    }));
    return this.connection;
  }

  private objectName(key: string): string {
    return joinObjectKey(this.rootPrefix, key);
  }

  private readError(operation: string, key: string, e: unknown): AppError {
    // NoSuchBucket is also a 404, but it is a configuration problem, not a missing artifact.
    if (httpStatus(e) === 404 && errorName(e) !== "NoSuchBucket") {
      return artifactNotFound(this.uri, key, e);
    }
    return artifactStoreUnavailable(this.uri, operation, key, e);
  }
}

function httpStatus(e: unknown): number | undefined {
  if (typeof e !== "object" || e === null || !("$metadata" in e)) return undefined;
  const metadata = e.$metadata as { httpStatusCode?: number } | undefined;
  return metadata?.httpStatusCode;
}

function errorName(e: unknown): string | undefined {
  return e instanceof Error ? e.name : undefined;
}
