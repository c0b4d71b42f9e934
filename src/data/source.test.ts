import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import { fileBytes, fileRangeBytes, READ_CHUNK_BYTES } from "./source.js";

let dir: string;
let path: string;
let bytes: Buffer;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "riskometer-source-"));
  path = join(dir, "bytes.bin");
  bytes = Buffer.alloc(3 * READ_CHUNK_BYTES + 12345);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 11)) & 0xff;
  writeFileSync(path, bytes);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Each chunk as [file offset, length], copied before the next one is read. */
async function chunksOf(it: AsyncIterable<Buffer>, start: number): Promise<[number, Buffer][]> {
  const out: [number, Buffer][] = [];
  let at = start;
  for await (const chunk of it) {
    out.push([at, Buffer.from(chunk)]);
    at += chunk.length;
  }
  return out;
}

describe("fileRangeBytes", () => {
  it("cuts a range where reading the whole file cuts it", async () => {
    const whole = await chunksOf(fileBytes(path), 0);
    const cuts = new Set(whole.map(([at]) => at));
    const start = READ_CHUNK_BYTES / 2 + 7;
    const end = 3 * READ_CHUNK_BYTES + 100;
    const chunks = await chunksOf(fileRangeBytes(path, start, end), start);
    expect(chunks.map(([at, c]) => [at, c.length])).toEqual([
      [start, READ_CHUNK_BYTES - start],
      [READ_CHUNK_BYTES, READ_CHUNK_BYTES],
      [2 * READ_CHUNK_BYTES, READ_CHUNK_BYTES],
      [3 * READ_CHUNK_BYTES, 100],
    ]);
    for (const [at] of chunks.slice(1)) expect(cuts.has(at)).toBe(true);
    expect(Buffer.concat(chunks.map(([, c]) => c))).toEqual(bytes.subarray(start, end));
  });

  it("stops at the end of the file, and gives nothing for an empty range", async () => {
    const tail = await chunksOf(fileRangeBytes(path, bytes.length - 10, bytes.length + 99), 0);
    expect(Buffer.concat(tail.map(([, c]) => c))).toEqual(bytes.subarray(bytes.length - 10));
    expect(await chunksOf(fileRangeBytes(path, 5, 5), 5)).toEqual([]);
  });

  it("fails with FILE_NOT_FOUND for a missing file", async () => {
    const it = fileRangeBytes(join(dir, "nope.bin"), 0, 10);
    await expect(it.next()).rejects.toSatisfy(
      (e: unknown) => e instanceof AppError && e.code === "FILE_NOT_FOUND",
    );
  });
});
