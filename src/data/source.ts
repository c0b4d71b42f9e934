/**
 * Byte sources for the readers: a file path, a Node Readable or any async iterable of bytes or
 * strings, read in chunks without ever holding the whole input.
 */
import { createReadStream } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { AppError } from "../core/errors.js";

export type DataSource = string | Readable | AsyncIterable<string | Uint8Array>;

/** 1 MiB reads: large enough that per-chunk overhead vanishes, small enough to stay streaming. */
export const READ_CHUNK_BYTES = 1 << 20;

/** A short name for messages: the file's base name, or `input` for streams. */
export function sourceName(source: DataSource): string {
  return typeof source === "string" ? basename(source) : "input";
}

/** Fails with FILE_NOT_FOUND unless `path` is a readable regular file. */
export async function checkReadableFile(path: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(path)).isFile();
  } catch (e) {
    throw new AppError("FILE_NOT_FOUND", `File not found or not readable: ${path}`, {
      details: { path },
      cause: e,
    });
  }
  if (!isFile) {
    throw new AppError("FILE_NOT_FOUND", `Not a regular file: ${path}`, { details: { path } });
  }
}

/** Streams a file's bytes; a missing file fails before the first chunk with FILE_NOT_FOUND. */
export async function* fileBytes(path: string): AsyncGenerator<Buffer> {
  await checkReadableFile(path);
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK_BYTES });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR") {
      throw new AppError("FILE_NOT_FOUND", `File not found or not readable: ${path}`, {
        details: { path },
        cause: e,
      });
    }
    throw e;
  } finally {
    stream.destroy();
  }
}

/**
 * Streams the bytes `[start, end)` of a file (`end` beyond the file: to its end). Reads stop at
 * the same multiples of READ_CHUNK_BYTES as `fileBytes`, so a parser meets the same chunk
 * boundaries inside the range as it does reading the whole file; its limits on partial records
 * then apply the same way. A missing file fails with FILE_NOT_FOUND before the first chunk.
 *
 * One buffer is refilled for every chunk (fresh memory for each megabyte read costs more than
 * reading it), so a chunk is only valid until the next one is asked for.
 */
export async function* fileRangeBytes(
  path: string,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  await checkReadableFile(path);
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    throw new AppError("FILE_NOT_FOUND", `File not found or not readable: ${path}`, {
      details: { path },
      cause: e,
    });
  }
  try {
    const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, Math.max(0, end - start)));
    let pos = start;
    while (pos < end) {
      const stop = Math.min(end, (Math.floor(pos / READ_CHUNK_BYTES) + 1) * READ_CHUNK_BYTES);
      const want = stop - pos;
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, pos + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      if (got > 0) yield buf.subarray(0, got);
      if (got < want) return;
      pos = stop;
    }
  } finally {
    await fh.close();
  }
}

/** A Buffer view of bytes (no copy), or the UTF-8 encoding of a string chunk. */
export function toBuffer(chunk: string | Uint8Array): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  return Buffer.isBuffer(chunk)
    ? chunk
    : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** The source's bytes as non-empty Buffer chunks (string chunks are encoded as UTF-8). */
export async function* byteChunks(source: DataSource): AsyncGenerator<Buffer> {
  const input: AsyncIterable<string | Uint8Array> =
    typeof source === "string" ? fileBytes(source) : source;
  for await (const chunk of input) {
    const buf = toBuffer(chunk);
    if (buf.length > 0) yield buf;
  }
}

/**
 * UTF-8 text of byte chunks. Characters split across chunk boundaries are reassembled; a
 * leading byte order mark is left for the format readers to drop.
 */
export async function* decodeText(chunks: AsyncIterable<Buffer>): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  for await (const chunk of chunks) {
    const text = decoder.write(chunk);
    if (text.length > 0) yield text;
  }
  const tail = decoder.end();
  if (tail.length > 0) yield tail;
}

/**
 * Byte chunks with look-ahead: `peekMore` reads into a buffer that `chunks` replays before
 * continuing, so a format can be sniffed from a stream that cannot be reopened.
 */
export class PeekableBytes {
  private readonly buffered: Buffer[] = [];
  private readonly it: AsyncIterator<Buffer>;
  private done = false;

  constructor(source: DataSource) {
    this.it = byteChunks(source)[Symbol.asyncIterator]();
  }

  /** Reads one more chunk into the look-ahead buffer and returns it; null at end of input. */
  async peekMore(): Promise<Buffer | null> {
    if (this.done) return null;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return null;
    }
    this.buffered.push(r.value);
    return r.value;
  }

  /** The buffered chunks followed by the rest of the input. Call at most once. */
  async *chunks(): AsyncGenerator<Buffer> {
    while (this.buffered.length > 0) yield this.buffered.shift() as Buffer;
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return;
      }
      yield r.value;
    }
  }

  /** Releases the underlying stream (closes the file) when reading stops early. */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.it.return?.();
    }
  }
}
