import { open, type FileHandle } from "node:fs/promises";

const QUOTE = 0x22;
const LF = 0x0a;

/**
 * Whether `buf[from, to)` holds an odd number of quotes. `indexOf` (memchr) skips text without
 * quotes at memory speed but costs a call per quote; where quotes are dense (every field
 * quoted) visiting each byte is cheaper, so after a run of closely spaced quotes the next
 * stretch is counted byte by byte.
 */
export function quoteParity(buf: Buffer, from: number, to: number): boolean {
  let odd = false;
  let i = from;
  while (i < to) {
    const runStart = i;
    for (let k = 0; k < 64; k++) {
      const q = buf.indexOf(QUOTE, i);
      if (q < 0 || q >= to) return odd;
      odd = !odd;
      i = q + 1;
    }
    if (i - runStart < 64 * 8) {
      const end = Math.min(to, i + 8192);
      let n = 0;
      for (; i < end; i++) if (buf[i] === QUOTE) n++;
      if ((n & 1) === 1) odd = !odd;
    }
  }
  return odd;
}

/**
 * Finds where a CSV file can be cut into pieces of whole records, so that threads can each read
 * one piece.
 *
 * A line break ends a record unless it is inside a quoted field. With RFC 4180 quoting (a quote
 * inside a quoted field is doubled) that is exactly when an even number of `"` bytes precede it
 * in the file, so one pass that only looks at quotes and line breaks finds the boundaries,
 * jumping between them with `indexOf` instead of visiting every byte. A file with a stray `"`
 * in an unquoted field (which the CSV reader keeps as data) can mislead the count; readers of
 * byte ranges detect a range that does not end at a record boundary, so a wrong guess costs
 * time, never correctness.
 *
 * Points are asked for in increasing order and the file is read once, front to back, in
 * chunks, as far as the last point asked for.
 */
export class RecordBoundaryScanner {
  private chunk: Buffer = Buffer.alloc(0);
  /** File offset of `chunk[0]`. */
  private chunkStart = 0;
  /** Next byte to look at. */
  private pos = 0;
  /** Parity of the quotes in `[0, pos)`. */
  private odd = false;

  private constructor(
    private readonly file: FileHandle,
    /** File size when opened. */
    readonly size: number,
    private readonly buffer: Buffer,
  ) {}

  static async open(path: string, chunkBytes = 1 << 20): Promise<RecordBoundaryScanner> {
    const file = await open(path, "r");
    try {
      const { size } = await file.stat();
      return new RecordBoundaryScanner(file, size, Buffer.allocUnsafe(Math.max(1, chunkBytes)));
    } catch (e) {
      await file.close();
      throw e;
    }
  }

  /**
   * The first record boundary at or after `target`: the offset just after a line break outside
   * quotes, or the file size when there is none. `target` must exceed the previous answer.
   */
  async next(target: number): Promise<number> {
    if (target <= this.pos && this.pos > 0) {
      throw new RangeError(`split targets must increase: ${target} after ${this.pos}`);
    }
    // Offset from which a line break can end the piece.
    const from = Math.max(0, target - 1);
    for (;;) {
      const chunk = await this.load();
      if (chunk === null) return this.size;
      const base = this.chunkStart;
      let i = this.pos - base;
      if (this.pos < from) {
        // Before the target only the parity matters.
        const stop = Math.min(chunk.length, from - base);
        if (quoteParity(chunk, i, stop)) this.odd = !this.odd;
        this.pos = base + stop;
        continue;
      }
      for (;;) {
        const q = chunk.indexOf(QUOTE, i);
        if (!this.odd) {
          const lf = chunk.indexOf(LF, i);
          if (lf >= 0 && (q < 0 || lf < q)) {
            this.pos = base + lf + 1;
            return this.pos;
          }
        }
        if (q < 0) break;
        this.odd = !this.odd;
        i = q + 1;
      }
      this.pos = base + chunk.length;
    }
  }

  async close(): Promise<void> {
    await this.file.close();
  }

  /** The chunk holding `pos`, read when needed; null at the end of the file. */
  private async load(): Promise<Buffer | null> {
    if (this.pos >= this.size) return null;
    const offset = this.pos - this.chunkStart;
    if (offset >= 0 && offset < this.chunk.length) return this.chunk;
    const want = Math.min(this.buffer.length, this.size - this.pos);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.file.read(this.buffer, got, want - got, this.pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got === 0) return null;
    this.chunk = this.buffer.subarray(0, got);
    this.chunkStart = this.pos;
    return this.chunk;
  }
}
