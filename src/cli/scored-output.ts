import type { FileHandle } from "node:fs/promises";

/** Output columns added to each scored row. */
export const SCORE_COLUMNS = ["risk", "probability_bad", "confidence"] as const;

/** A probability with six decimals (rounded half up); faster than toFixed in this hot loop. */
export function fixed6(p: number): string {
  const m = Math.round(p * 1e6);
  if (m >= 1e6) return "1.000000";
  return `0.${String(m).padStart(6, "0")}`;
}

const DIGIT_0 = 48;
const DOT = 46;
const LF = 10;
/** Room for the columns added to a row, however odd the probability (see `putFixed6`). */
const SUFFIX_ROOM = 96;
const MIN_BUFFER = 1 << 20;
const EMPTY = Buffer.alloc(0);
/** Buffers of finished writers on this thread, for the next ones. */
const spare: Buffer[] = [];
const MAX_SPARE = 4;

/**
 * Writes `fixed6(p)` at `o` and returns the offset after it. Digits are stored one by one:
 * formatting through strings cost more than everything else in writing a scored row.
 */
function putFixed6(buf: Buffer, o: number, p: number): number {
  const m = Math.round(p * 1e6);
  if (m >= 0 && m < 1e6) {
    buf[o] = DIGIT_0;
    buf[o + 1] = DOT;
    let r = m;
    for (let k = o + 7; k > o + 1; k--) {
      const d = r % 10;
      buf[k] = DIGIT_0 + d;
      r = (r - d) / 10;
    }
    return o + 8;
  }
  // 1, and the text fixed6 gives for values outside [0, 1] (never from a calibrated model).
  return o + buf.write(fixed6(p), o, "latin1");
}

/**
 * Appends scored rows to a file: each row's CSV line, then `risk,probability_bad,confidence`
 * with the given separator, where risk is `bad` when the probability reaches the threshold and
 * confidence is the probability of the predicted class. Rows are encoded straight into a byte
 * buffer; two buffers take turns, so one batch is formatted while the previous one is written.
 */
export class ScoredRowWriter {
  private readonly buffers: Buffer[] = [spare.pop() ?? EMPTY, spare.pop() ?? EMPTY];
  private turn = 0;
  private writing: Promise<void> | null = null;
  private readonly sep: number;

  constructor(
    private readonly file: FileHandle,
    private readonly threshold: number,
    separator: string,
  ) {
    this.sep = separator.charCodeAt(0);
  }

  /** Appends text as is (a header line). */
  async writeText(text: string): Promise<void> {
    await this.settle();
    const bytes = Buffer.from(text, "utf8");
    await this.writeAll(bytes, bytes.length);
  }

  /** Appends `lines[i]` scored with `proba[i]`, for every i. */
  async writeRows(lines: readonly string[], proba: Float64Array): Promise<void> {
    const n = proba.length;
    if (n === 0) return;
    const sep = this.sep;
    const threshold = this.threshold;
    let buf = this.buffers[this.turn];
    let o = 0;
    for (let i = 0; i < n; i++) {
      const line = lines[i];
      // A UTF-16 code unit takes at most 3 bytes in UTF-8.
      const need = o + 3 * line.length + SUFFIX_ROOM;
      if (need > buf.length) buf = this.grow(buf, o, need);
      o += buf.write(line, o, "utf8");
      const p = proba[i];
      const bad = p >= threshold;
      buf[o++] = sep;
      if (bad) {
        buf[o] = 98; // b
        buf[o + 1] = 97; // a
        buf[o + 2] = 100; // d
        o += 3;
      } else {
        buf[o] = 103; // g
        buf[o + 1] = 111; // o
        buf[o + 2] = 111; // o
        buf[o + 3] = 100; // d
        o += 4;
      }
      buf[o++] = sep;
      o = putFixed6(buf, o, p);
      buf[o++] = sep;
      o = putFixed6(buf, o, bad ? p : 1 - p);
      buf[o++] = LF;
    }
    // The other buffer is free again once its write has finished.
    await this.settle();
    const writing = this.writeAll(buf, o);
    // Failures surface at the next settle; this only keeps them from counting as unhandled.
    writing.catch(() => {});
    this.writing = writing;
    this.turn ^= 1;
  }

  /** Waits until everything is written; rejects when a write failed. */
  async flush(): Promise<void> {
    await this.settle();
  }

  /**
   * After a successful `flush`, when no more rows come: the buffers go to the next writer on
   * this thread, as a file scored in many ranges would otherwise allocate them for each.
   */
  release(): void {
    for (const b of this.buffers) if (b.length > 0 && spare.length < MAX_SPARE) spare.push(b);
    this.buffers[0] = this.buffers[1] = EMPTY;
  }

  private async settle(): Promise<void> {
    const writing = this.writing;
    this.writing = null;
    if (writing !== null) await writing;
  }

  private grow(buf: Buffer, used: number, need: number): Buffer {
    const next = Buffer.allocUnsafe(Math.max(need, 2 * buf.length, MIN_BUFFER));
    buf.copy(next, 0, 0, used);
    this.buffers[this.turn] = next;
    return next;
  }

  private async writeAll(buf: Buffer, length: number): Promise<void> {
    let at = 0;
    while (at < length) {
      const { bytesWritten } = await this.file.write(buf, at, length - at);
      at += bytesWritten;
    }
  }
}
