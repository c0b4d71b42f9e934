import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError } from "../../src/core/index.js";
import { ARTIFACT_STORE_SCHEMES, type ArtifactStore } from "../../src/storage/artifacts/index.js";

/** What a contract run needs: a fresh, empty store and a way to throw it away. */
export interface ArtifactStoreHarness {
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

/** Limits of the backend a contract run talks to (an emulator rather than the real service). */
export interface ArtifactStoreContractLimits {
  /**
   * Why the backend cannot show that overwrites are atomic, e.g. an emulator that rewrites
   * objects in place although the real service does not. The atomicity test is then not part of
   * that run (the real service guarantees it; the emulator cannot show it).
   */
  overwriteNotAtomic?: string;
}

/**
 * The behaviour every ArtifactStore adapter must share. Each test gets a fresh empty store from
 * `makeStore`, so adapters backed by one bucket should hand out a new prefix per call.
 */
export function artifactStoreContract(
  name: string,
  makeStore: () => Promise<ArtifactStoreHarness>,
  limits: ArtifactStoreContractLimits = {},
): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let harness: ArtifactStoreHarness;
    let store: ArtifactStore;
    let scratch: string;

    beforeEach(async () => {
      harness = await makeStore();
      store = harness.store;
      scratch = await mkdtemp(join(tmpdir(), "riskometer-artifact-contract-"));
    });

    afterEach(async () => {
      await harness.cleanup();
      await rm(scratch, { recursive: true, force: true });
    });

    it("has a root URI with a scheme openArtifactStore knows", () => {
      const scheme = /^[a-z0-9]+:/.exec(store.uri)?.[0];
      expect(ARTIFACT_STORE_SCHEMES).toContain(scheme);
    });

    it("round-trips text as UTF-8", async () => {
      const text = '{"name":"Kreditwürdigkeit ✓","auc":0.8125}\n';
      await store.put("runs/r1/model.json", text);
      expect((await store.get("runs/r1/model.json")).toString("utf8")).toBe(text);
    });

    it("round-trips binary bytes exactly, including an empty object", async () => {
      const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const bytes = Buffer.concat([every, randomBytes(4096), every]);
      await store.put("runs/r1/weights.bin", bytes);
      await store.put("runs/r1/empty.bin", Buffer.alloc(0));
      expect((await store.get("runs/r1/weights.bin")).equals(bytes)).toBe(true);
      expect((await store.get("runs/r1/empty.bin")).length).toBe(0);
    });

    it("overwrites a key completely", async () => {
      await store.put("runs/r1/model.json", "a much longer first version of the model");
      await store.put("runs/r1/model.json", "v2");
      expect((await store.get("runs/r1/model.json")).toString()).toBe("v2");
      expect(await store.list("runs/r1")).toEqual([{ path: "runs/r1/model.json", size: 2 }]);
    });

    it("uploads a ~5 MB local file and streams it back byte for byte", async () => {
      const bytes = randomBytes(5 * 1024 * 1024 + 123);
      const local = join(scratch, "model.bin");
      await writeFile(local, bytes);
      await store.putFile("runs/big/model.bin", local);
      const back = await readAll(await store.getStream("runs/big/model.bin"));
      expect(back.length).toBe(bytes.length);
      expect(sha256(back)).toBe(sha256(bytes));
      expect(await store.list("runs/big")).toEqual([
        { path: "runs/big/model.bin", size: bytes.length },
      ]);
    });

    it("overwrites a key with putFile", async () => {
      await store.put("runs/r1/data.csv", "old,old,old,old\n");
      const local = join(scratch, "data.csv");
      await writeFile(local, "a,b\n");
      await store.putFile("runs/r1/data.csv", local);
      expect((await store.get("runs/r1/data.csv")).toString()).toBe("a,b\n");
    });

    it("rejects putFile of a missing local file with FILE_NOT_FOUND and writes nothing", async () => {
      await expect(
        store.putFile("runs/r1/model.bin", join(scratch, "nope.bin")),
      ).rejects.toMatchObject({ code: "FILE_NOT_FOUND" });
      expect(await store.exists("runs/r1/model.bin")).toBe(false);
    });

    it("lists recursively under a folder prefix, sorted, with sizes, relative to the root", async () => {
      // Written out of order, with a sibling whose name extends the prefix ("runs/a" vs "runs/ab").
      await store.put("runs/b/model.json", "bbb");
      await store.put("runs/a/model.json", "aaaa");
      await store.put("runs/ab/model.json", "x");
      await store.put("runs/a/metrics/auc.json", "0.81");
      await store.put("runs/a/metrics/ks.json", "");
      await store.put("experiments.json", "[]");

      const underA = [
        { path: "runs/a/metrics/auc.json", size: 4 },
        { path: "runs/a/metrics/ks.json", size: 0 },
        { path: "runs/a/model.json", size: 4 },
      ];
      expect(await store.list("runs/a")).toEqual(underA);
      expect(await store.list("runs/a/")).toEqual(underA);
      expect(await store.list("runs/a/metrics")).toEqual(underA.slice(0, 2));
      expect((await store.list("runs")).map((a) => a.path)).toEqual([
        "runs/a/metrics/auc.json",
        "runs/a/metrics/ks.json",
        "runs/a/model.json",
        "runs/ab/model.json",
        "runs/b/model.json",
      ]);
      expect((await store.list("")).map((a) => a.path)).toEqual([
        "experiments.json",
        "runs/a/metrics/auc.json",
        "runs/a/metrics/ks.json",
        "runs/a/model.json",
        "runs/ab/model.json",
        "runs/b/model.json",
      ]);
      expect(await store.list("runs/missing")).toEqual([]);
      // A prefix is a folder: the object's own key lists nothing.
      expect(await store.list("runs/a/model.json")).toEqual([]);
    });

    it("pages through long listings", async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `runs/many/m${String(i).padStart(2, "0")}`);
      await Promise.all(keys.map((key) => store.put(key, key)));
      const listed = await store.list("runs/many");
      expect(listed.map((a) => a.path)).toEqual(keys);
      expect(listed.every((a) => a.size === "runs/many/m00".length)).toBe(true);
    });

    it("tells whether an object exists; a folder is not an object", async () => {
      await store.put("runs/r1/model.json", "{}");
      expect(await store.exists("runs/r1/model.json")).toBe(true);
      expect(await store.exists("runs/r1/other.json")).toBe(false);
      expect(await store.exists("runs/r1")).toBe(false);
      expect(await store.exists("nowhere/at/all")).toBe(false);
    });

    it("rejects get and getStream of a missing key with NOT_FOUND", async () => {
      await store.put("runs/r1/model.json", "{}");
      const missing = [
        () => store.get("runs/r1/missing.json"),
        () => store.getStream("runs/r1/missing.json"),
        () => store.get("runs/r2/model.json"),
        () => store.get("runs/r1"),
      ];
      for (const attempt of missing) {
        const error = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe("NOT_FOUND");
      }
    });

    it("deletes a folder prefix and leaves its siblings", async () => {
      await store.put("runs/a/model.json", "1");
      await store.put("runs/a/metrics/auc.json", "2");
      await store.put("runs/ab/model.json", "3");
      await store.put("runs/b/model.json", "4");
      await store.put("runs/a.json", "5");

      await store.deletePrefix("runs/a");

      expect(await store.list("runs/a")).toEqual([]);
      expect(await store.exists("runs/a/model.json")).toBe(false);
      expect((await store.list("")).map((a) => a.path)).toEqual([
        "runs/a.json",
        "runs/ab/model.json",
        "runs/b/model.json",
      ]);
      // Deleting what is already gone is not an error (a retried hard delete).
      await store.deletePrefix("runs/a");
      await store.deletePrefix("never/existed");
      // The store stays usable at the deleted path.
      await store.put("runs/a/model.json", "again");
      expect((await store.get("runs/a/model.json")).toString()).toBe("again");
    });

    it("deletes everything with the empty prefix", async () => {
      await store.put("a/b/c.txt", "1");
      await store.put("top.txt", "2");
      await store.deletePrefix("");
      expect(await store.list("")).toEqual([]);
      await store.put("top.txt", "3");
      expect(await store.list("")).toEqual([{ path: "top.txt", size: 1 }]);
    });

    it("rejects keys that could escape the root with INVALID_ARGUMENT", async () => {
      const local = join(scratch, "x.txt");
      await writeFile(local, "x");
      const bad = [
        "",
        "../outside.txt",
        "runs/../../outside.txt",
        "runs/./model.json",
        "/etc/passwd",
        "runs//model.json",
        "runs/model.json/",
        "runs\\model.json",
        "..\\outside.txt",
        "C:/outside.txt",
        "runs/\u0000.json",
      ];
      for (const key of bad) {
        for (const attempt of [
          () => store.put(key, "x"),
          () => store.putFile(key, local),
          () => store.get(key),
          () => store.getStream(key),
          () => store.exists(key),
        ]) {
          await expect(attempt(), JSON.stringify(key)).rejects.toMatchObject({
            code: "INVALID_ARGUMENT",
          });
        }
      }
      for (const prefix of ["..", "../", "runs/../..", "/", "/runs", "runs//a", "a\\b"]) {
        await expect(store.list(prefix), prefix).rejects.toMatchObject({
          code: "INVALID_ARGUMENT",
        });
        await expect(store.deletePrefix(prefix), prefix).rejects.toMatchObject({
          code: "INVALID_ARGUMENT",
        });
      }
      expect(await store.list("")).toEqual([]);
    });

    const atomicity = limits.overwriteNotAtomic === undefined ? it : null;
    atomicity?.("never shows a reader a half-written object", async () => {
      const v1 = Buffer.alloc(2 * 1024 * 1024, 1);
      const v2 = Buffer.alloc(3 * 1024 * 1024, 2);
      await store.put("atomic/model.bin", v1);
      let writing = true;
      const writer = (async () => {
        try {
          for (let i = 0; i < 4; i++) await store.put("atomic/model.bin", i % 2 ? v1 : v2);
        } finally {
          writing = false;
        }
      })();
      let reads = 0;
      try {
        while (writing || reads < 3) {
          const [body, listed] = await Promise.all([
            store.get("atomic/model.bin"),
            store.list("atomic"),
          ]);
          expect(body.equals(v1) || body.equals(v2)).toBe(true);
          // Temporary upload files must not appear as artifacts.
          expect(listed.map((a) => a.path)).toEqual(["atomic/model.bin"]);
          expect([v1.length, v2.length]).toContain(listed[0].size);
          reads++;
        }
      } finally {
        // Even after a failed read, let the writer finish before cleanup removes the store.
        await writer.catch(() => undefined);
      }
      await writer;
    });
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
