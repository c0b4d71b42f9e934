import { randomUUID } from "node:crypto";
import type { Dirent } from "node:fs";
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { AppError } from "../../core/index.js";
import {
  type ArtifactInfo,
  type ArtifactStore,
  artifactNotFound,
  artifactStoreUnavailable,
  compareArtifactPaths,
  localFileSize,
  normalizeArtifactKey,
  normalizeArtifactPrefix,
} from "./artifact-store.js";

const TEMP_SUFFIX = ".partial";
// Matches only the names `tempPathFor` makes, so a real key ending in ".partial" still lists.
const TEMP_NAME = /^\..+\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.partial$/;

/**
 * Artifacts in a local folder (created on first write). Writes go to a temporary file in the
 * target's own directory, are fsynced and then renamed over the target, so a reader sees either
 * the old object or the new one, never a torn one, even after a crash.
 *
 * @example
 * const store = new FileArtifactStore("/var/lib/riskometer/artifacts");
 * await store.put("runs/42/model.json", JSON.stringify(model));
 */
export class FileArtifactStore implements ArtifactStore {
  readonly uri: string;
  private readonly root: string;

  constructor(rootDir: string) {
    this.root = resolve(rootDir);
    this.uri = pathToFileURL(this.root).href;
  }

  async put(path: string, body: Buffer | string): Promise<void> {
    const key = normalizeArtifactKey(path);
    await this.writeAtomically("put", key, async (tmp) => {
      const handle = await open(tmp, "wx");
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async putFile(path: string, localFile: string): Promise<void> {
    const key = normalizeArtifactKey(path);
    await localFileSize(localFile);
    await this.writeAtomically("putFile", key, async (tmp) => {
      // copyFile streams in the kernel (copy_file_range / clonefile) instead of through JS buffers.
      await copyFile(localFile, tmp);
      const handle = await open(tmp, "r+");
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  async get(path: string): Promise<Buffer> {
    const key = normalizeArtifactKey(path);
    try {
      return await readFile(this.pathOf(key));
    } catch (e) {
      throw this.readError("get", key, e);
    }
  }

  async getStream(path: string): Promise<Readable> {
    const key = normalizeArtifactKey(path);
    try {
      // Open before returning so a missing key rejects the promise rather than erroring the stream.
      const handle = await open(this.pathOf(key), "r");
      if (!(await handle.stat()).isFile()) {
        await handle.close();
        throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
      }
      return handle.createReadStream();
    } catch (e) {
      throw this.readError("getStream", key, e);
    }
  }

  async list(prefix: string): Promise<ArtifactInfo[]> {
    const folder = normalizeArtifactPrefix(prefix);
    const found: ArtifactInfo[] = [];
    try {
      await this.walk(folder, found);
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "list", folder, e);
    }
    return found.sort(compareArtifactPaths);
  }

  async exists(path: string): Promise<boolean> {
    const key = normalizeArtifactKey(path);
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (e) {
      if (isMissing(e)) return false;
      throw artifactStoreUnavailable(this.uri, "exists", key, e);
    }
  }

  async deletePrefix(prefix: string): Promise<void> {
    const folder = normalizeArtifactPrefix(prefix);
    try {
      if (folder === "") {
        // Empty the root but keep it: the folder may be a mount point or have set permissions.
        for (const entry of await readdirIfFolder(this.root)) {
          await rm(join(this.root, entry.name), { recursive: true, force: true });
        }
        return;
      }
      const dir = this.pathOf(folder);
      // A prefix is a folder; a file at that path is an object the caller did not ask to delete,
      // which is also what the object stores do.
      if (await isDirectory(dir)) await rm(dir, { recursive: true, force: true });
    } catch (e) {
      throw artifactStoreUnavailable(this.uri, "deletePrefix", folder, e);
    }
  }

  private pathOf(key: string): string {
    return key === "" ? this.root : join(this.root, ...key.split("/"));
  }

  private async writeAtomically(
    operation: string,
    key: string,
    write: (tmp: string) => Promise<void>,
  ): Promise<void> {
    const target = this.pathOf(key);
    const dir = dirname(target);
    const tmp = join(dir, `.${basename(target)}.${randomUUID()}${TEMP_SUFFIX}`);
    try {
      await mkdir(dir, { recursive: true });
      await write(tmp);
      await rename(tmp, target);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined);
      const code = errnoCode(e);
      if (code === "EISDIR" || code === "ENOTDIR" || code === "EEXIST") {
        // Object stores allow both "a" and "a/b"; a folder cannot, so say so plainly.
        throw new AppError(
          "CONFLICT",
          `cannot write artifact "${key}" in ${this.uri}: an object and a folder would share a path`,
          { cause: e },
        );
      }
      throw artifactStoreUnavailable(this.uri, operation, key, e);
    }
    await syncDirectory(dir);
  }

  private async walk(folder: string, out: ArtifactInfo[]): Promise<void> {
    for (const entry of await readdirIfFolder(this.pathOf(folder))) {
      const key = folder === "" ? entry.name : `${folder}/${entry.name}`;
      if (entry.isDirectory()) {
        await this.walk(key, out);
      } else if (!TEMP_NAME.test(entry.name)) {
        try {
          const info = await stat(this.pathOf(key));
          if (info.isFile()) out.push({ path: key, size: info.size });
        } catch (e) {
          // Deleted between readdir and stat: it is simply no longer listed.
          if (!isMissing(e)) throw e;
        }
      }
    }
  }

  private readError(operation: string, key: string, e: unknown): AppError {
    const code = errnoCode(e);
    if (isMissing(e) || code === "EISDIR") return artifactNotFound(this.uri, key, e);
    return artifactStoreUnavailable(this.uri, operation, key, e);
  }
}

async function readdirIfFolder(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

/** Persists the rename itself; without it a crash can lose a file that was already fsynced. */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms (Windows) and file systems cannot fsync a directory; the data is still written.
  }
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === "object" && e !== null && "code" in e ? String(e.code) : undefined;
}

function isMissing(e: unknown): boolean {
  const code = errnoCode(e);
  return code === "ENOENT" || code === "ENOTDIR";
}
