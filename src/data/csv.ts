/**
 * Streaming CSV reading and writing for files from real users.
 *
 * Why a hand-written parser: `riskometer predict` must sustain 250k rows/s end to end, which
 * leaves the reader about a third of the budget. csv-parse (the library already in the
 * project) walks every character through a general state machine with many options and
 * decodes every field to a string; it runs at roughly a quarter of the needed rate on
 * 21-column rows (numbers in bench/csv-read.bench.ts). This parser works on the raw bytes. A
 * line whose fields are plain or simply quoted (`"…"` with no quote or line break inside),
 * nearly every line of a real file, is scanned once into field offsets that the validator
 * matches and parses in place, without creating strings. Any other record (doubled quotes,
 * line breaks in a field, text around quotes) goes through a full, resumable RFC 4180 state
 * machine. Both paths give the same fields for the same bytes, which the tests check by
 * feeding the same files in one piece and one byte at a time. Working on bytes is safe for
 * UTF-8 because every byte of a multi-byte character is >= 0x80, so it never looks like a
 * separator, quote or line break.
 *
 * Rules (RFC 4180 plus what spreadsheets and scripts actually write):
 * - The separator is `,`, `;` or tab, detected from the header line unless given: the one
 *   that occurs most often outside quotes (`,` on ties or when none occurs).
 * - Lines end with LF or CRLF; a CR directly before LF is dropped, any other CR is data.
 * - A UTF-8 byte order mark at the very start is dropped. Text is decoded as UTF-8.
 * - `"` opens a quoted field at the start of a field (spaces before it are ignored); inside,
 *   `""` is a literal quote and separators and line breaks are data. Spaces between the closing
 *   quote and the next separator are ignored; other text there is kept, appended to the field.
 *   A `"` in the middle of an unquoted field is kept as data.
 * - An empty line is a record with one empty field (the validator skips blank records).
 * - A quoted field still open at end of input is a PARSE_ERROR naming its line, and so is a
 *   record longer than `maxRecordBytes`, which bounds memory when a stray quote would
 *   otherwise swallow the rest of the file.
 */
import { isAscii } from "node:buffer";
import { AppError } from "../core/errors.js";
import { PeekableBytes, sourceName, toBuffer, type DataSource } from "./source.js";

export type CsvSeparator = "," | ";" | "\t";

const SEPARATORS: readonly CsvSeparator[] = [",", ";", "\t"];

const QUOTE = 34;
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

// States of the quoted-record state machine.
const S_FIELD_START = 0;
const S_UNQUOTED = 1;
const S_QUOTED = 2;
/** Saw `"` inside a quoted field: either the first half of `""` or the closing quote. */
const S_QUOTE_IN_QUOTED = 3;
const S_AFTER_QUOTED = 4;

export const DEFAULT_MAX_RECORD_BYTES = 4 << 20;

const BOM = [0xef, 0xbb, 0xbf];

export interface CsvParserOptions {
  /** Fixed separator; detected from the header line when absent. */
  readonly separator?: CsvSeparator;
  /** Longest record accepted, in bytes (default 4 MiB). */
  readonly maxRecordBytes?: number;
  /** Name used in error messages (a file name). */
  readonly name?: string;
}

/**
 * A record found by the fast scan, as byte offsets into `buf`: field k is
 * `buf[starts[k], ends[k])` (without the quotes of a quoted field) for k < count, and the whole
 * record is `buf[start, end)` (without its line break). The parser reuses this object and its
 * arrays for the next record, so read it inside the callback.
 */
export interface ScannedRecord {
  buf: Buffer;
  starts: Int32Array;
  ends: Int32Array;
  count: number;
  start: number;
  end: number;
  /** Separator character code. */
  sep: number;
  /** 1-based line of the record. */
  line: number;
  /** Makes strings from the record's byte ranges. */
  readonly text: ByteText;
}

export type FieldSink = (record: ScannedRecord) => void;

/**
 * Makes strings from byte ranges. For an all-ASCII buffer (the common case) the buffer is
 * turned into one string once and ranges become cheap substrings, instead of one UTF-8 decode
 * call per field, which is several times slower at a million rows.
 */
export class ByteText {
  private buf: Buffer | null = null;
  private str: string | null = null;

  slice(buf: Buffer, start: number, end: number): string {
    if (buf !== this.buf) {
      this.buf = buf;
      this.str = isAscii(buf) ? buf.toString("latin1") : null;
    }
    return this.str !== null ? this.str.slice(start, end) : buf.toString("utf8", start, end);
  }

  /** Drops the cached buffer and string. */
  release(): void {
    this.buf = null;
    this.str = null;
  }
}

/** The fields of a scanned record as strings (what the state machine would give). */
export function fieldsToStrings(record: ScannedRecord): string[] {
  const { buf, starts, ends, count, text } = record;
  const out = new Array<string>(count);
  for (let k = 0; k < count; k++) out[k] = text.slice(buf, starts[k], ends[k]);
  return out;
}

/** scanSimple: the chunk ends before the line does. */
const SCAN_INCOMPLETE = -1;
/** scanSimple: the record needs the state machine. */
const SCAN_COMPLEX = -2;

/**
 * Incremental CSV parser: `push` chunks of bytes of any size (a chunk may end anywhere: inside
 * a UTF-8 character, between CR and LF, inside a quoted field), then `end`. Completed records
 * accumulate in `records`, with the 1-based physical line each starts on in `lines`; the
 * caller drains both, or sets `onRecord` / `onFields` to receive them as they are parsed.
 */
export class CsvParser {
  records: string[][] = [];
  lines: number[] = [];
  /**
   * When set, each completed record goes here instead of into `records`/`lines`, as soon as it
   * is parsed: a consumer that converts it at once lets the strings die young, which keeps
   * garbage collection cheap on large files.
   */
  onRecord: ((record: string[], line: number) => void) | null = null;
  /**
   * When set, records that the fast scan handles go here as field offsets (see FieldSink);
   * the others still go to `onRecord`.
   */
  onFields: FieldSink | null = null;
  /** String maker shared with FieldSink consumers. */
  readonly text = new ByteText();
  private readonly scanned: ScannedRecord = {
    buf: Buffer.alloc(0),
    starts: new Int32Array(64),
    ends: new Int32Array(64),
    count: 0,
    start: 0,
    end: 0,
    sep: 0,
    line: 0,
    text: this.text,
  };
  private sep: CsvSeparator | null;
  private sepCode = -1;
  private readonly maxRecordBytes: number;
  private readonly name: string;
  /** Bytes of an incomplete line (or, before the separator is known, of the header). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bomChecked = false;
  private inRecord = false;
  private state = S_FIELD_START;
  private fields: string[] = [];
  /** The field being read in the state machine, as latin1 (one char per byte) until it ends. */
  private field = "";
  private recordLine = 1;
  private recordBytes = 0;
  private line = 1;

  constructor(options: CsvParserOptions = {}) {
    this.sep = options.separator ?? null;
    if (this.sep !== null) this.sepCode = this.sep.charCodeAt(0);
    this.maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.name = options.name ?? "input";
  }

  /** The separator in use, or null until the header line has been seen. */
  get separator(): CsvSeparator | null {
    return this.sep;
  }

  /** Parses a chunk (strings are taken as UTF-8). */
  push(data: Uint8Array | string): void {
    let chunk = toBuffer(data);
    if (chunk.length === 0) return;
    // A source may refill the same buffer object for its next chunk.
    this.text.release();
    if (!this.bomChecked) {
      chunk = this.takePending(chunk);
      if (chunk.length < BOM.length && BOM.slice(0, chunk.length).every((b, i) => chunk[i] === b)) {
        this.keepPending(chunk);
        return;
      }
      this.bomChecked = true;
      if (chunk[0] === BOM[0] && chunk[1] === BOM[1] && chunk[2] === BOM[2]) {
        chunk = chunk.subarray(3);
      }
    }
    if (this.sep === null) {
      chunk = this.takePending(chunk);
      const header = firstLine(chunk, false);
      if (header === null) {
        this.keepPending(chunk);
        return;
      }
      this.setSeparator(detectSeparator(header));
      this.parse(chunk, 0);
    } else if (this.pendingBytes > 0) {
      // Complete the pending partial line with the start of this chunk, then parse the rest of
      // the chunk where it is, rather than copying the whole chunk onto the pending bytes.
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.pending.push(Buffer.from(chunk));
        this.pendingBytes += chunk.length;
        this.checkPending(this.pendingBytes);
        return;
      }
      const head = this.takePending(chunk.subarray(0, nl + 1));
      this.parse(head, 0);
      this.parse(chunk, nl + 1);
    } else {
      this.parse(chunk, 0);
    }
  }

  end(): void {
    let rest = this.takePending(Buffer.alloc(0));
    if (!this.bomChecked) {
      this.bomChecked = true;
      // Only a prefix of a byte order mark, so not text worth a record.
      rest = Buffer.alloc(0);
    }
    if (this.sep === null) {
      const header = firstLine(rest, true);
      if (header === null) return;
      this.setSeparator(detectSeparator(header));
    }
    if (rest.length > 0 || this.inRecord) {
      // A final line without a line break ends like any other.
      this.parse(Buffer.concat([rest, Buffer.from([LF])]), 0);
    }
    if (this.inRecord) {
      throw new AppError(
        "PARSE_ERROR",
        `${this.name} line ${this.recordLine}: quoted field is never closed (a stray " ?)`,
        { details: { line: this.recordLine } },
      );
    }
  }

  /** The pending bytes followed by `chunk`, as one buffer; clears the pending bytes. */
  private takePending(chunk: Buffer): Buffer {
    if (this.pendingBytes === 0) return chunk;
    this.pending.push(chunk);
    const all = Buffer.concat(this.pending, this.pendingBytes + chunk.length);
    this.pending = [];
    this.pendingBytes = 0;
    return all;
  }

  private keepPending(bytes: Buffer): void {
    // A copy, so that the caller may reuse its chunk buffers.
    this.pending = [Buffer.from(bytes)];
    this.pendingBytes = bytes.length;
    this.checkPending(this.pendingBytes);
  }

  private setSeparator(sep: CsvSeparator): void {
    this.sep = sep;
    this.sepCode = sep.charCodeAt(0);
  }

  private checkPending(bytes: number): void {
    if (bytes > this.maxRecordBytes) {
      const line = this.inRecord ? this.recordLine : this.line;
      throw new AppError(
        "PARSE_ERROR",
        `${this.name} line ${line}: record longer than ${this.maxRecordBytes} bytes ` +
          `(an unclosed quote or a missing line break?)`,
        { details: { line } },
      );
    }
  }

  private parse(buf: Buffer, from: number): void {
    const n = buf.length;
    let pos = from;
    if (this.inRecord) {
      pos = this.quoted(buf, pos);
      if (this.inRecord) return;
    }
    while (pos < n) {
      const lf = this.scanSimple(buf, pos);
      if (lf >= 0) {
        this.emitScanned(buf);
        pos = lf + 1;
      } else if (lf === SCAN_INCOMPLETE) {
        break;
      } else {
        this.beginRecord();
        pos = this.quoted(buf, pos);
        if (this.inRecord) return;
      }
    }
    if (pos < n) this.keepPending(buf.subarray(pos));
  }

  /**
   * Scans one record starting at `pos` made only of plain fields (no quote) and simply quoted
   * fields (`"…"` without quote or line break inside, directly followed by the separator or the
   * line break) into `scanned`. Returns the index of its LF, SCAN_INCOMPLETE when the
   * buffer ends first, or SCAN_COMPLEX for anything else; for those two, the scan is
   * discarded. A CR before the LF is dropped, as in the state machine.
   */
  private scanSimple(buf: Buffer, pos: number): number {
    const n = buf.length;
    const sep = this.sepCode;
    const rec = this.scanned;
    let starts = rec.starts;
    let ends = rec.ends;
    let f = 0;
    let i = pos;
    for (;;) {
      if (f === starts.length) {
        starts = rec.starts = growInt32(starts);
        ends = rec.ends = growInt32(ends);
      }
      if (i === n) return SCAN_INCOMPLETE;
      let c = buf[i];
      if (c === QUOTE) {
        let j = i + 1;
        while (j < n && (c = buf[j]) !== QUOTE && c !== LF) j++;
        if (j === n) return SCAN_INCOMPLETE;
        if (c === LF) return SCAN_COMPLEX;
        starts[f] = i + 1;
        ends[f] = j;
        f++;
        j++;
        if (j === n) return SCAN_INCOMPLETE;
        c = buf[j];
        if (c === sep) {
          i = j + 1;
          continue;
        }
        if (c === LF) {
          rec.count = f;
          rec.start = pos;
          rec.end = j;
          return j;
        }
        if (c === CR) {
          if (j + 1 === n) return SCAN_INCOMPLETE;
          if (buf[j + 1] === LF) {
            rec.count = f;
            rec.start = pos;
            rec.end = j;
            return j + 1;
          }
        }
        return SCAN_COMPLEX;
      }
      let j = i;
      while (j < n && (c = buf[j]) !== sep && c !== LF && c !== QUOTE) j++;
      if (j === n) return SCAN_INCOMPLETE;
      if (c === QUOTE) return SCAN_COMPLEX;
      const end = c === LF && j > i && buf[j - 1] === CR ? j - 1 : j;
      starts[f] = i;
      ends[f] = end;
      f++;
      if (c === LF) {
        rec.count = f;
        rec.start = pos;
        rec.end = end;
        return j;
      }
      i = j + 1;
    }
  }

  private emitScanned(buf: Buffer): void {
    const scanned = this.scanned;
    scanned.buf = buf;
    scanned.sep = this.sepCode;
    scanned.line = this.line++;
    if (this.onFields !== null) {
      this.onFields(scanned);
      return;
    }
    const rec = fieldsToStrings(scanned);
    if (this.onRecord !== null) this.onRecord(rec, scanned.line);
    else {
      this.records.push(rec);
      this.lines.push(scanned.line);
    }
  }

  private beginRecord(): void {
    this.inRecord = true;
    this.state = S_FIELD_START;
    this.fields = [];
    this.field = "";
    this.recordLine = this.line;
    this.recordBytes = 0;
  }

  /**
   * Runs the state machine from `pos` until the current record ends (returns the index after
   * its line break, `inRecord` false) or the bytes run out (returns `n`, state kept).
   *
   * The current field is the bytes `buf[segStart, i)` of this chunk, preceded by `field`: text
   * carried over from earlier chunks or before a `""`, kept as latin1 (one char per byte) so
   * that a UTF-8 character cut by a chunk boundary is decoded whole when the field ends.
   */
  private quoted(buf: Buffer, pos: number): number {
    const n = buf.length;
    const sep = this.sepCode;
    const fields = this.fields;
    const text = this.text;
    let state = this.state;
    let field = this.field;
    let segStart = pos;
    let i = pos;
    const take = (end: number): string => {
      const value =
        field.length === 0
          ? text.slice(buf, segStart, end)
          : decodeField(field + buf.toString("latin1", segStart, end));
      field = "";
      return value;
    };
    while (i < n) {
      switch (state) {
        case S_FIELD_START: {
          const c = buf[i];
          if (c === QUOTE) {
            state = S_QUOTED;
            segStart = ++i;
          } else if (c === sep) {
            fields.push("");
            i++;
          } else if (c === LF) {
            fields.push("");
            return this.endRecord(i + 1);
          } else {
            state = S_UNQUOTED;
            segStart = i;
          }
          break;
        }
        case S_UNQUOTED: {
          let j = i;
          let c = 0;
          while (j < n && (c = buf[j]) !== sep && c !== LF && c !== QUOTE) j++;
          if (j === n) {
            i = n;
            break;
          }
          if (c === QUOTE) {
            if ((field + buf.toString("latin1", segStart, j)).trim() === "") {
              // Blanks before an opening quote are not part of the field.
              field = "";
              state = S_QUOTED;
              segStart = j + 1;
            }
            // Otherwise the quote is data and stays in the segment.
            i = j + 1;
            break;
          }
          if (c === sep) {
            fields.push(take(j));
            state = S_FIELD_START;
            i = j + 1;
          } else {
            const end = j > segStart && buf[j - 1] === CR ? j - 1 : j;
            if (j === segStart && field.length > 0 && field.charCodeAt(field.length - 1) === CR) {
              // The CR before this LF ended the previous chunk.
              field = field.slice(0, -1);
            }
            fields.push(take(end));
            return this.endRecord(j + 1);
          }
          break;
        }
        case S_QUOTED: {
          let j = i;
          let c = 0;
          while (j < n && (c = buf[j]) !== QUOTE) {
            if (c === LF) this.line++;
            j++;
          }
          if (j === n) {
            i = n;
            break;
          }
          // Keep the segment; the quote decides below whether it ends the field.
          field += buf.toString("latin1", segStart, j);
          segStart = j;
          state = S_QUOTE_IN_QUOTED;
          i = j + 1;
          break;
        }
        case S_QUOTE_IN_QUOTED: {
          if (buf[i] === QUOTE) {
            // `""`: one literal quote (the one at segStart), then more quoted text.
            field += '"';
            state = S_QUOTED;
            segStart = ++i;
          } else {
            state = S_AFTER_QUOTED;
            segStart = i;
          }
          break;
        }
        case S_AFTER_QUOTED: {
          const c = buf[i];
          if (c === sep) {
            fields.push(decodeField(field));
            field = "";
            state = S_FIELD_START;
            i++;
          } else if (c === LF) {
            fields.push(decodeField(field));
            field = "";
            return this.endRecord(i + 1);
          } else if (c === SPACE || c === TAB || c === CR) {
            i++;
          } else {
            // Text after the closing quote is appended to the field.
            state = S_UNQUOTED;
            segStart = i;
          }
          break;
        }
      }
    }
    // The chunk ended inside the record: carry the open segment over.
    if (state === S_UNQUOTED || state === S_QUOTED) {
      field += buf.toString("latin1", segStart, n);
    }
    this.state = state;
    this.field = field;
    this.recordBytes += n - pos;
    this.checkPending(this.recordBytes);
    return n;
  }

  private endRecord(next: number): number {
    if (this.onRecord !== null) this.onRecord(this.fields, this.recordLine);
    else {
      this.records.push(this.fields);
      this.lines.push(this.recordLine);
    }
    this.line++;
    this.inRecord = false;
    this.fields = [];
    this.field = "";
    this.state = S_FIELD_START;
    return next;
  }
}

const NON_ASCII = /[\x80-\xff]/;

/** A field collected as latin1 (one char per byte), decoded as the UTF-8 it is. */
function decodeField(latin1: string): string {
  return NON_ASCII.test(latin1) ? Buffer.from(latin1, "latin1").toString("utf8") : latin1;
}

function growInt32(a: Int32Array): Int32Array {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** The first non-blank line of `buf` as text, or null while it is incomplete (unless `atEnd`). */
function firstLine(buf: Buffer, atEnd: boolean): string | null {
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(LF, start);
    if (nl < 0) {
      const rest = buf.toString("utf8", start);
      return atEnd && rest.trim() !== "" ? rest : null;
    }
    const line = buf.toString("utf8", start, nl);
    if (line.trim() !== "") return line;
    start = nl + 1;
  }
}

/**
 * Why a header read as UTF-8 with LF line ends shows the file is neither, or null. Both would
 * otherwise end as a "missing columns" message that hides the real problem.
 */
function unreadableHeader(header: readonly string[]): string | null {
  const text = header.join(",");
  // UTF-16 (Excel's "Unicode text"): every other byte of ASCII text is zero.
  if (text.includes("\u0000")) {
    return "the file is UTF-16 encoded (zero bytes in the header); save it as UTF-8 (in Excel: CSV UTF-8)";
  }
  // CR-only line ends (classic Mac): the whole file reads as one line, CRs inside its fields.
  if (/\r(?!$)/.test(text)) {
    return "its lines end with CR only (the classic Mac format), so the whole file reads as one line; save it with Windows (CRLF) or Unix (LF) line ends";
  }
  return null;
}

/** The separator occurring most often outside quotes in a header line (`,` on ties or none). */
export function detectSeparator(headerLine: string): CsvSeparator {
  const counts = [0, 0, 0];
  let inQuotes = false;
  for (let i = 0; i < headerLine.length; i++) {
    const c = headerLine[i];
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes) {
      const k = SEPARATORS.indexOf(c as CsvSeparator);
      if (k >= 0) counts[k]++;
    }
  }
  let best = 0;
  for (let k = 1; k < counts.length; k++) if (counts[k] > counts[best]) best = k;
  return SEPARATORS[best];
}

export interface CsvRecordBatch {
  /** Data row number (1-based, header not counted) of `records[0]`. */
  readonly startRow: number;
  readonly records: string[][];
  /** Physical line (1-based, header line counted) on which each record starts. */
  readonly lines: number[];
}

/** A FieldSink that also gets the record's data row number. */
export type CsvFieldSink = (record: ScannedRecord, row: number) => void;

export interface CsvInput {
  /** Header cells as written (not trimmed). */
  readonly header: readonly string[];
  readonly headerLine: number;
  readonly separator: CsvSeparator;
  /**
   * Reads and parses the next chunk of input, passing each completed data record to
   * `onRecord` with its row number (1-based, header not counted) and starting line. Resolves
   * false once the input is exhausted (its last records delivered).
   */
  read(
    onRecord: (record: string[], row: number, line: number) => void,
    onFields?: CsvFieldSink,
  ): Promise<boolean>;
  /** Data records in batches of exactly `size` (the last may be shorter). Use this or `read`. */
  batches(size: number): AsyncGenerator<CsvRecordBatch>;
  /** Releases the input when reading stops early (idempotent). */
  close(): Promise<void>;
}

export interface OpenCsvOptions extends CsvParserOptions {
  /** Already-opened input whose chunks to read (used after format sniffing). */
  readonly peeked?: PeekableBytes;
}

/**
 * Opens a CSV source and reads up to its header: the first non-blank record. Blank lines
 * before it are ignored; data rows are numbered from 1 after it.
 */
export async function openCsv(source: DataSource, options: OpenCsvOptions = {}): Promise<CsvInput> {
  const input = options.peeked ?? new PeekableBytes(source);
  const parser = new CsvParser({ name: sourceName(source), ...options });
  const it = input.chunks();
  let ended = false;
  // Until the header is complete, chunks are cut right after it: the rest is parsed later with
  // the caller's sinks in place, so that data rows never take the slower string path just for
  // sharing a chunk with the header.
  const cut = new HeaderCut();
  let carry: Buffer | null = null;
  const pump = async (): Promise<boolean> => {
    if (carry !== null) {
      const rest = carry;
      carry = null;
      parser.push(rest);
      return true;
    }
    if (ended) return false;
    const r = await it.next();
    if (r.done) {
      ended = true;
      parser.end();
      return true;
    }
    const at = cut.done ? -1 : cut.scan(r.value);
    if (at < 0 || at === r.value.length) parser.push(r.value);
    else {
      parser.push(r.value.subarray(0, at));
      carry = r.value.subarray(at);
    }
    return true;
  };
  const close = async (): Promise<void> => {
    parser.text.release();
    await it.return(undefined);
    await input.close();
  };

  let header: string[] | null = null;
  let headerLine = 0;
  try {
    while (header === null) {
      let k = 0;
      while (k < parser.records.length && isBlankRecord(parser.records[k])) k++;
      if (k < parser.records.length) {
        header = parser.records[k];
        headerLine = parser.lines[k];
        parser.records = parser.records.slice(k + 1);
        parser.lines = parser.lines.slice(k + 1);
      } else {
        parser.records = [];
        parser.lines = [];
        if (!(await pump())) break;
      }
    }
  } catch (e) {
    await close();
    throw e;
  }
  if (header === null) {
    await close();
    throw new AppError("PARSE_ERROR", `${sourceName(source)}: empty CSV, no header line`);
  }
  const unreadable = unreadableHeader(header);
  if (unreadable) {
    await close();
    throw new AppError("PARSE_ERROR", `${sourceName(source)}: ${unreadable}`);
  }
  const separator = parser.separator as CsvSeparator;

  let row = 1;
  async function read(
    onRecord: (record: string[], row: number, line: number) => void,
    onFields?: CsvFieldSink,
  ): Promise<boolean> {
    // Records parsed along with the header come first.
    const early = parser.records;
    const earlyLines = parser.lines;
    parser.records = [];
    parser.lines = [];
    for (let i = 0; i < early.length; i++) onRecord(early[i], row++, earlyLines[i]);
    parser.onRecord = (record, line) => onRecord(record, row++, line);
    if (onFields !== undefined) {
      parser.onFields = (record) => onFields(record, row++);
    }
    try {
      return await pump();
    } finally {
      parser.onRecord = null;
      parser.onFields = null;
    }
  }

  async function* batches(size: number): AsyncGenerator<CsvRecordBatch> {
    let records: string[][] = [];
    let lines: number[] = [];
    let startRow = 1;
    const collect = (record: string[], _row: number, line: number): void => {
      records.push(record);
      lines.push(line);
    };
    try {
      for (;;) {
        const more = await read(collect);
        let k = 0;
        for (; k + size <= records.length || (!more && k < records.length); k += size) {
          const batch = {
            startRow,
            records: records.slice(k, k + size),
            lines: lines.slice(k, k + size),
          };
          startRow += batch.records.length;
          yield batch;
        }
        if (k > 0) {
          records = records.slice(k);
          lines = lines.slice(k);
        }
        if (!more) return;
      }
    } finally {
      await close();
    }
  }

  return { header, headerLine, separator, read, batches, close };
}

/**
 * Finds where the header record ends in the first chunks: after the first line break outside
 * quotes that follows some non-blank text. Quotes are tracked by parity, which is exact for
 * well-formed CSV; a header with stray quotes may be cut later than its end, which only means
 * that a few rows go through the string path.
 */
class HeaderCut {
  done = false;
  private inQuotes = false;
  private content = false;
  private seen = 0;

  /** Index just after the header's line break in `chunk`, or -1 when not in this chunk. */
  scan(chunk: Buffer): number {
    for (let i = 0; i < chunk.length; i++, this.seen++) {
      const c = chunk[i];
      if (this.seen < BOM.length && c === BOM[this.seen]) continue;
      if (c === QUOTE) this.inQuotes = !this.inQuotes;
      else if (c === LF && !this.inQuotes) {
        if (this.content) {
          this.done = true;
          return i + 1;
        }
      } else if (c !== SPACE && c !== TAB && c !== CR) this.content = true;
    }
    return -1;
  }
}

/** True when every field is empty or whitespace (an empty line, or `,,,` from a spreadsheet). */
export function isBlankRecord(rec: readonly string[]): boolean {
  for (let i = 0; i < rec.length; i++) if (rec[i].length > 0 && rec[i].trim() !== "") return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Writing

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** True for a plain decimal number as written in CSV files (`12`, `-3.5`, `1e-3`). */
export function isNumberText(s: string): boolean {
  return NUMBER_RE.test(s);
}

/**
 * One CSV cell, safe to open in a spreadsheet.
 *
 * Formula injection: a cell starting with `=`, `+`, `-`, `@`, tab or CR may run as a formula
 * in Excel, LibreOffice or Google Sheets, so it gets a leading `'`, which spreadsheets read as
 * "text" (OWASP's advice). The exception is a cell that is a plain number (`-3.5`, `+2`,
 * `-1e3`): a number cannot call anything, and prefixing it would turn numeric output into text
 * for every downstream tool. So only non-numbers are prefixed; `-1+1` or `-A1` are.
 *
 * The cell is then quoted (`"…"`, inner quotes doubled) when it contains the separator, a
 * quote, CR or LF.
 */
export function escapeCsvCell(value: string, sep: string = ","): string {
  let v = value;
  if (v.length > 0) {
    const c = v.charCodeAt(0);
    const trigger = c === 61 || c === 43 || c === 45 || c === 64 || c === TAB || c === CR;
    if (trigger && !((c === 43 || c === 45) && NUMBER_RE.test(v))) v = "'" + v;
  }
  const sepCode = sep.charCodeAt(0);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c === QUOTE || c === LF || c === CR || c === sepCode) {
      return '"' + v.replace(/"/g, '""') + '"';
    }
  }
  return v;
}

/** One CSV line (without line break) from raw cell values, every cell escaped. */
export function formatCsvRow(cells: readonly string[], sep: string = ","): string {
  let out = "";
  for (let i = 0; i < cells.length; i++) {
    if (i > 0) out += sep;
    out += escapeCsvCell(cells[i], sep);
  }
  return out;
}
