/**
 * Loading data sets and applicant files: format detection, reading in batches, validation
 * against the schema, and assembling the column-major tables of the ML core.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "../core/errors.js";
import type { LabeledTable, Table } from "../ml/types.js";
import { openArff, type ArffAttribute } from "./arff.js";
import {
  CsvParser,
  isBlankRecord,
  openCsv,
  type CsvInput,
  type CsvSeparator,
  type ScannedRecord,
} from "./csv.js";
import type { DatasetSpec } from "./spec.js";
import {
  checkReadableFile,
  fileRangeBytes,
  PeekableBytes,
  sourceName,
  type DataSource,
} from "./source.js";
import {
  defaultSpec,
  featureSpecs,
  RecordValidator,
  type LabelMode,
  type RowError,
  type ValidatedBatch,
} from "./validate.js";

/**
 * The German credit data shipped with the package. Resolved from this module's own location,
 * two levels below the package root both as `src/data/dataset.ts` and `dist/data/dataset.js`.
 */
export const DEFAULT_DATA_PATH = fileURLToPath(
  new URL("../../data/credit-g.arff", import.meta.url),
);

export const DEFAULT_BATCH_SIZE = 8192;

export type DataFormat = "csv" | "arff";

export interface ReadOptions {
  /** Defaults to the German credit spec. */
  readonly spec?: DatasetSpec;
  /** Overrides detection (file extension, then content). */
  readonly format?: DataFormat;
  /** CSV separator; detected from the header line when absent. */
  readonly separator?: CsvSeparator;
}

export interface ReadApplicantsOptions extends ReadOptions {
  /** The spec applicants are validated against: the scoring version's (no default, on purpose). */
  readonly spec: DatasetSpec;
  /** Records per batch (default 8192). */
  readonly batchSize?: number;
  /** Keep the original cells of valid rows in `raw` (default false). */
  readonly keepRaw?: boolean;
  /**
   * Keep each valid row as a ready CSV line in `rawLines` (default false), for writing rows
   * back: usually the input's own text, so cheaper than joining `raw` cells.
   */
  readonly keepRawLines?: boolean;
  /** Default `optional`: use a `class`/`target` column when there is one. */
  readonly label?: LabelMode;
  /**
   * Read only these bytes of a CSV file (`source` must be a path), to share one file between
   * threads. The range is read as a file of its own, so both ends must be record boundaries:
   * a range that stops inside a quoted field fails with PARSE_ERROR, as an unclosed quote at the
   * end of a file does. Within the range the parser meets the same chunk boundaries as when
   * reading the whole file, so consecutive ranges give exactly the records of the whole file.
   */
  readonly range?: ByteRange;
  /**
   * With `range`: the file's header cells, for a range that starts after the header line. The
   * range then holds data records only; nothing in it is taken for a header or a byte order
   * mark. Requires `separator`.
   */
  readonly header?: readonly string[];
  /** Row number of the first data record (default 1). */
  readonly firstRow?: number;
  /** Line number of the first line read (default 1); for a range, its line in the file. */
  readonly firstLine?: number;
}

/** A byte range `[start, end)` of a file. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Where reading stopped: the row and line numbers the next record would have. For a range that
 * ends at a record boundary, the `firstRow` and `firstLine` of the range that follows it.
 */
export interface ReadEnd {
  readonly nextRow: number;
  readonly nextLine: number;
}

/** One batch of applicants: the valid rows converted, the invalid ones reported. */
export type ApplicantBatch = ValidatedBatch;

export interface Dataset {
  readonly table: LabeledTable;
  /** Problems of the rows left out of `table`. */
  readonly errors: RowError[];
  /** Data records read (valid and invalid; blank records not counted). */
  readonly rows: number;
  readonly format: DataFormat;
  /** Input header as written. */
  readonly header: readonly string[];
}

interface RecordInput {
  readonly format: DataFormat;
  readonly header: readonly string[];
  /** ARFF: the declared attributes (types, nominal values). */
  readonly attributes?: readonly ArffAttribute[];
  /** CSV: the input's separator; ARFF: `,`, for rows written back as CSV. */
  readonly separator: string;
  /** Line where the data records start (after the header), in the numbering of `read`. */
  readonly dataLine: number;
  /** Added to the line numbers of `read` to make them count from the first line read. */
  readonly lineOffset: number;
  /** Delivers the records of the next stretch of input; false once the input is exhausted. */
  read(
    onRecord: (record: string[], line: number) => void,
    onFields?: (record: ScannedRecord) => void,
  ): Promise<boolean>;
  close(): Promise<void>;
}

/** Format from a file name: `.arff` → ARFF; `.csv`, `.tsv`, `.txt` → CSV; otherwise null. */
export function formatFromPath(path: string): DataFormat | null {
  const ext = extname(path).toLowerCase();
  if (ext === ".arff") return "arff";
  if (ext === ".csv" || ext === ".tsv" || ext === ".txt") return "csv";
  return null;
}

/**
 * Format from content: ARFF when the first line that is neither blank nor a `%` comment starts
 * with `@` (`@relation`), CSV otherwise. Reads only as far as that line.
 */
async function sniffFormat(input: PeekableBytes): Promise<DataFormat> {
  let text = "";
  let start = 0;
  for (;;) {
    const chunk = await input.peekMore();
    const atEnd = chunk === null;
    // Only the first character of a line matters, so a character split across chunks (decoded
    // as U+FFFD here) cannot change the answer.
    if (chunk !== null) text += chunk.toString("utf8");
    if (start === 0 && text.charCodeAt(0) === 0xfeff) start = 1;
    for (;;) {
      const nl = text.indexOf("\n", start);
      const t = (nl < 0 ? text.slice(start) : text.slice(start, nl)).trimStart();
      if (t !== "" && t[0] !== "%") return t[0] === "@" ? "arff" : "csv";
      if (nl < 0) break;
      start = nl + 1;
    }
    if (atEnd) return text.trimStart().startsWith("%") ? "arff" : "csv";
  }
}

async function openRecords(
  source: DataSource,
  options: Omit<ReadApplicantsOptions, "spec">,
): Promise<RecordInput> {
  if (options.range !== undefined) return openRange(source, options.range, options);
  if (options.header !== undefined) {
    throw new AppError("INVALID_ARGUMENT", "a header can only be given for a byte range");
  }
  if (typeof source === "string") await checkReadableFile(source);
  const peeked = new PeekableBytes(source);
  try {
    const format =
      options.format ??
      (typeof source === "string" ? formatFromPath(source) : null) ??
      (await sniffFormat(peeked));
    if (format === "csv") {
      const csv = await openCsv(source, { peeked, separator: options.separator });
      return csvRecords(csv);
    }
    const arff = await openArff(source, { peeked });
    const rows = arff.rows();
    return {
      format,
      header: arff.header.attributes.map((a) => a.name),
      attributes: arff.header.attributes,
      separator: ",",
      dataLine: arff.header.dataLine + 1,
      lineOffset: 0,
      async read(onRecord) {
        for (let i = 0; i < 4096; i++) {
          const r = await rows.next();
          if (r.done) return false;
          onRecord(r.value.fields, r.value.line);
        }
        return true;
      },
      async close() {
        await rows.return(undefined);
        await arff.close();
      },
    };
  } catch (e) {
    await peeked.close();
    throw e;
  }
}

function csvRecords(csv: CsvInput): RecordInput {
  return {
    format: "csv",
    header: csv.header,
    separator: csv.separator,
    dataLine: csv.headerLine + 1 + lineBreaks(csv.header),
    lineOffset: 0,
    read: (onRecord, onFields) =>
      csv.read(
        (record, _row, line) => onRecord(record, line),
        onFields && ((record) => onFields(record)),
      ),
    close: csv.close,
  };
}

const LINE_BREAK = Buffer.from("\n");

/** A byte range of a CSV file: see ReadApplicantsOptions.range. */
async function openRange(
  source: DataSource,
  range: ByteRange,
  options: Omit<ReadApplicantsOptions, "spec">,
): Promise<RecordInput> {
  if (typeof source !== "string") {
    throw new AppError("INVALID_ARGUMENT", "a byte range can only be read from a file path");
  }
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new AppError("INVALID_ARGUMENT", `invalid byte range [${start}, ${end})`);
  }
  await checkReadableFile(source);
  let format = options.format ?? formatFromPath(source);
  if (format === null) {
    const peeked = new PeekableBytes(source);
    try {
      format = await sniffFormat(peeked);
    } finally {
      await peeked.close();
    }
  }
  if (format !== "csv") {
    throw new AppError("INVALID_ARGUMENT", "byte ranges can only be read from CSV files");
  }
  const header = options.header;
  if (header === undefined) {
    // The whole file is read exactly as without a range (messages name the file the same way).
    if (start === 0 && end >= (await stat(source)).size) {
      return csvRecords(await openCsv(source, { separator: options.separator }));
    }
    const bytes = fileRangeBytes(source, start, end);
    return csvRecords(
      await openCsv(bytes, { separator: options.separator, name: sourceName(source) }),
    );
  }
  const separator = options.separator;
  if (separator === undefined) {
    throw new AppError("INVALID_ARGUMENT", "a range read with a given header needs a separator");
  }
  const parser = new CsvParser({ separator, name: sourceName(source) });
  // An empty line first, dropped here: the parser then takes the range's first bytes for data,
  // as in the middle of the file, never for a byte order mark.
  parser.push(LINE_BREAK);
  parser.records = [];
  parser.lines = [];
  const chunks = fileRangeBytes(source, start, end);
  let ended = false;
  return {
    format: "csv",
    header,
    separator,
    dataLine: 2,
    lineOffset: -1,
    async read(onRecord, onFields) {
      if (ended) return false;
      parser.onRecord = onRecord;
      parser.onFields = onFields ?? null;
      try {
        const r = await chunks.next();
        if (r.done) {
          ended = true;
          parser.end();
          return false;
        }
        parser.push(r.value);
        return true;
      } finally {
        parser.onRecord = null;
        parser.onFields = null;
      }
    },
    async close() {
      parser.text.release();
      await chunks.return(undefined);
    },
  };
}

/** Line breaks inside the cells of a record (quoted fields may hold them). */
function lineBreaks(record: readonly string[]): number {
  let n = 0;
  for (const cell of record) {
    for (let i = cell.indexOf("\n"); i >= 0; i = cell.indexOf("\n", i + 1)) n++;
  }
  return n;
}

/**
 * Reads an applicant file (CSV or ARFF; a path or a stream) in batches of about
 * `batchSize` records, each validated against the schema: valid rows converted into a Table,
 * invalid rows reported in `errors`. A header lacking schema columns fails with
 * SCHEMA_MISMATCH before the first batch; a missing file with FILE_NOT_FOUND; broken syntax
 * with PARSE_ERROR. Memory stays bounded by one batch however long the input is. The generator
 * returns where reading stopped (see ReadEnd), for reading a file in consecutive ranges.
 */
export function readApplicants(
  source: DataSource,
  options: ReadApplicantsOptions,
): AsyncGenerator<ApplicantBatch, ReadEnd> {
  return applicantBatches(source, options, {});
}

async function* applicantBatches(
  source: DataSource,
  options: ReadApplicantsOptions,
  info: { format?: DataFormat },
): AsyncGenerator<ApplicantBatch, ReadEnd> {
  const size = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(size) || size < 1) {
    throw new AppError("INVALID_ARGUMENT", `batchSize must be a positive integer, got ${size}`);
  }
  const firstRow = options.firstRow ?? 1;
  const firstLine = options.firstLine ?? 1;
  for (const [name, n] of [
    ["firstRow", firstRow],
    ["firstLine", firstLine],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new AppError("INVALID_ARGUMENT", `${name} must be a positive integer, got ${n}`);
    }
  }
  const input = await openRecords(source, options);
  info.format = input.format;
  try {
    const validator = new RecordValidator(options.spec, input.header, {
      label: options.label ?? "optional",
    });
    const keep = {
      keepRaw: options.keepRaw ?? false,
      rawLinesSeparator: options.keepRawLines ? input.separator : undefined,
    };
    // Each record is validated as soon as it is parsed; full batches wait here to be yielded.
    const full: ApplicantBatch[] = [];
    let builder = validator.begin(firstRow, size, keep);
    let nextRow = firstRow;
    const shift = firstLine - 1 + input.lineOffset;
    let nextLine = input.dataLine + shift;
    const onRecord = (record: string[], line: number): void => {
      builder.add(record, line + shift);
      nextLine = line + shift + 1 + lineBreaks(record);
      if (++nextRow - builder.startRow === size) {
        full.push(builder.finish());
        builder = validator.begin(nextRow, size, keep);
      }
    };
    const onFields = (record: ScannedRecord): void => {
      // Scanned records never span lines.
      record.line += shift;
      nextLine = record.line + 1;
      builder.addFields(record);
      if (++nextRow - builder.startRow === size) {
        full.push(builder.finish());
        builder = validator.begin(nextRow, size, keep);
      }
    };
    let yielded = false;
    for (;;) {
      const more = await input.read(onRecord, onFields);
      while (full.length > 0) {
        yielded = true;
        yield full.shift() as ApplicantBatch;
      }
      if (!more) break;
    }
    // A file with a header and no rows still yields one (empty) batch, so consumers always see
    // the header and the pass-through columns.
    if (builder.count > 0 || !yielded) yield builder.finish();
    return { nextRow, nextLine };
  } finally {
    await input.close();
  }
}

/**
 * Loads a whole labelled data set (ARFF or CSV) for training: a label column is required.
 * Invalid rows are left out of the table and listed in `errors`; whether any error is fatal is
 * the caller's decision.
 */
export async function readDataset(path: string, options: ReadOptions = {}): Promise<Dataset> {
  const spec = options.spec ?? defaultSpec();
  const tables: Table[] = [];
  const labels: Uint8Array[] = [];
  const errors: RowError[] = [];
  const info: { format?: DataFormat } = {};
  let rows = 0;
  let header: readonly string[] = [];
  for await (const batch of applicantBatches(path, { ...options, spec, label: "required" }, info)) {
    header = batch.header;
    tables.push(batch.table);
    labels.push(batch.labels as Uint8Array);
    for (const e of batch.errors) errors.push(e);
    rows += batch.records;
  }
  const features = featureSpecs(spec);
  const n = tables.reduce((s, t) => s + t.n, 0);
  const columns = features.map((_, j) => {
    const out = new Float64Array(n);
    let at = 0;
    for (const t of tables) {
      out.set(t.columns[j], at);
      at += t.n;
    }
    return out;
  });
  const y = new Uint8Array(n);
  let at = 0;
  for (const l of labels) {
    y.set(l, at);
    at += l.length;
  }
  return {
    table: { features, columns, n, y },
    errors,
    rows,
    format: info.format as DataFormat,
    header,
  };
}

/** A data file's header and, for ARFF, its declared attributes. */
export interface RecordsHeader {
  readonly format: DataFormat;
  readonly header: readonly string[];
  readonly attributes?: readonly ArffAttribute[];
}

/**
 * Calls `onRecord` with every record of a CSV or ARFF file as strings, unvalidated (for
 * inferring a spec from a file). Blank records are skipped.
 */
export async function forEachRecord(
  source: DataSource,
  onHeader: (header: RecordsHeader) => void,
  onRecord: (record: string[], line: number) => void,
  options: ReadOptions = {},
): Promise<void> {
  const input = await openRecords(source, options);
  try {
    onHeader({ format: input.format, header: input.header, attributes: input.attributes });
    const each = (record: string[], line: number) => {
      if (!isBlankRecord(record)) onRecord(record, line);
    };
    while (await input.read(each)) {
      // read() delivers records through the callback until the input is exhausted.
    }
  } finally {
    await input.close();
  }
}

/** SHA-256 (hex) of a file's bytes, streamed. */
export async function digestFile(path: string): Promise<string> {
  await checkReadableFile(path);
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}
