import { PassThrough, type Readable, pipeline } from "node:stream";
import type { Bucket, File, StorageOptions } from "@google-cloud/storage";
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

/** Options for {@link GcsArtifactStore}; credentials always come from the client's environment. */
export interface GcsArtifactStoreOptions {
  /** API endpoint override, e.g. an emulator (`RISKOMETER_GCS_ENDPOINT`). */
  apiEndpoint?: string;
  /** Project id; by default the client infers it from the credentials. */
  projectId?: string;
}

// Deletes are one request per object in the JSON API; a few in flight hide the latency.
const DELETE_CONCURRENCY = 16;

/**
 * Artifacts in a Google Cloud Storage bucket under an optional prefix, via the official client.
 * Credentials are resolved by the client as usual (GOOGLE_APPLICATION_CREDENTIALS, workload
 * identity, gcloud user credentials). GCS object writes are atomic by design; large files go
 * through a resumable upload.
 *
 * @example
 * const store = new GcsArtifactStore("gs://acme-models/riskometer");
 * await store.put("runs/42/model.json", json); // object riskometer/runs/42/model.json
 */
export class GcsArtifactStore implements ArtifactStore {
  readonly uri: string;
  private readonly bucketName: string;
  private readonly rootPrefix: string;
  private readonly storageOptions: StorageOptions;
  private bucketHandle: Promise<Bucket> | undefined;

  constructor(uri: string, options: GcsArtifactStoreOptions = {}) {
    const parsed = parseBucketUri(uri, "gs:");
    this.uri = parsed.uri;
    this.bucketName = parsed.bucket;
    this.rootPrefix = parsed.prefix;
    this.storageOptions = {
      ...(options.apiEndpoint ? { apiEndpoint: options.apiEndpoint } : {}),
      ...(options.projectId ? { projectId: options.projectId } : {}),
    };
  }

  async put(path: string, body: Buffer | string): Promise<void> {
    const key = normalizeArtifactKey(path);
    try {
      // One multipart request: artifacts written from memory are small, a resumable session
      // would double the round trips.
      const file = await this.file(key);
      await file.save(body, { resumable: false });
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "put", key, e);
    }
  }

  async putFile(path: string, localFile: string): Promise<void> {
    const key = normalizeArtifactKey(path);
    await localFileSize(localFile);
    try {
      // The client streams the file through a resumable upload session (its default), so a large
      // model never sits in memory and a dropped connection resumes instead of restarting.
      const bucket = await this.bucket();
      await bucket.upload(localFile, { destination: this.objectName(key) });
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "putFile", key, e);
    }
  }

  async get(path: string): Promise<Buffer> {
    const key = normalizeArtifactKey(path);
    try {
      const file = await this.file(key);
      const [contents] = await file.download();
      return contents;
    } catch (e) {
      throw this.readError("get", key, e);
    }
  }

  async getStream(path: string): Promise<Readable> {
    const key = normalizeArtifactKey(path);
    let file: File;
    try {
      file = await this.file(key);
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "getStream", key, e);
    }
    const source = file.createReadStream();
    const out = new PassThrough();
    // The client only reports a missing object as a stream error once reading starts; piping
    // starts the request, and we resolve on a successful response so NOT_FOUND rejects the promise.
    const opened = new Promise<void>((resolve, reject) => {
      source.once("error", reject);
      source.once("response", (res: { statusCode?: number; status?: number }) => {
        const status = res.statusCode ?? res.status ?? 0;
        if (status >= 200 && status < 300) {
          source.off("error", reject);
          resolve();
        }
      });
    });
    pipeline(source, out, () => undefined);
    try {
      await opened;
    } catch (e) {
      out.destroy();
      throw this.readError("getStream", key, e);
    }
    return out;
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    const folder = normalizeArtifactPrefix(prefix);
    const objectPrefix = folderObjectPrefix(this.rootPrefix, folder);
    const rootLength = this.rootPrefix === "" ? 0 : this.rootPrefix.length + 1;
    try {
      // autoPaginate follows nextPageToken until the listing is complete.
      const bucket = await this.bucket();
      const [files] = await bucket.getFiles({ prefix: objectPrefix, autoPaginate: true });
      return (
        files
          // Zero-byte "folder/" placeholders made by the console are not artifacts.
          .filter((file) => !file.name.endsWith("/"))
          .map((file) => ({
            path: file.name.slice(rootLength),
            size: Number(file.metadata.size ?? 0),
          }))
          .sort(compareArtifactPaths)
      );
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "list", folder, e);
    }
  }

  async exists(path: string): Promise<boolean> {
    const key = normalizeArtifactKey(path);
    try {
      const file = await this.file(key);
      const [found] = await file.exists();
      return found;
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "exists", key, e);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const folder = normalizeArtifactPrefix(prefix);
    const objectPrefix = folderObjectPrefix(this.rootPrefix, folder);
    try {
      const bucket = await this.bucket();
      const [files] = await bucket.getFiles({ prefix: objectPrefix, autoPaginate: true });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < files.length) {
          const file = files[next++];
          // Someone else deleting the same run concurrently is not a failure.
          await file.delete({ ignoreNotFound: true });
        }
      };
      await Promise.all(Array.from({ length: DELETE_CONCURRENCY }, worker));
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "deletePrefix", folder, e);
    }
  }

  private bucket(): Promise<Bucket> {
    // The client takes a quarter of a second to import; loading it on first use keeps every
    // command that only touches local artifacts from paying for it.
    this.bucketHandle ??= import("@google-cloud/storage").then(({ Storage }) =>
      new Storage(this.storageOptions).bucket(this.bucketName),
    );
    return this.bucketHandle;
  }

  private async file(key: string): Promise<File> {
    return (await this.bucket()).file(this.objectName(key));
  }

  private objectName(key: string): string {
    return joinObjectKey(this.rootPrefix, key);
  }

  private readError(operation: string, key: string, e: unknown): AppError {
    // A missing bucket is also a 404, but it is a configuration problem, not a missing artifact.
    if (httpStatus(e) === 404 && !/bucket/i.test(errorMessage(e))) {
      return artifactNotFound(this.uri, key, e);
    }
    return artifactStoreUnavailable(this.uri, operation, key, e);
  }
}

function httpStatus(e: unknown): number | undefined {
  return typeof e === "object" && e !== null && "code" in e && typeof e.code === "number"
    ? e.code
    : undefined;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
