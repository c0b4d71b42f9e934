import { PassThrough, type Readable } from "node:stream";
import JSZip from "jszip";
import { SaxesParser } from "saxes";
import { AppError } from "../core/errors.js";
import type { DatasetSpec } from "./spec.js";
import { RecordValidator, type LabelMode, type ValidatedBatch } from "./validate.js";

export interface ReadXlsxOptions {
  /** The spec applicants are validated against: the scoring version's. */
  readonly spec: DatasetSpec;
  /** Records per batch (default 8192). */
  readonly batchSize?: number;
  readonly label?: LabelMode;
  /** Keep the original cells of valid rows in `raw` (for writing the scored file back). */
  readonly keepRaw?: boolean;
  /** What the workbook may expand to (default XLSX_LIMITS). */
  readonly limits?: Partial<XlsxLimits>;
}

export interface XlsxLimits {
  /** Data rows of the sheet (Excel's own maximum, less the header). */
  readonly rows: number;
  /** The column a cell may name (Excel's last is XFD, 16,384). */
  readonly columns: number;
  /** Uncompressed bytes of the sheet and of its shared strings together, at most… */
  readonly bytes: number;
  /** …and at most this many times the workbook's own size (a zip bomb expands far more). */
  readonly ratio: number;
}

export const XLSX_LIMITS: XlsxLimits = {
  rows: 1_048_575,
  columns: 16_384,
  bytes: 1024 * 1024 * 1024,
  ratio: 100,
};

/** Bytes a workbook of `size` bytes may expand to, with at least 64 MiB for small ones. */
function expansionLimit(size: number, limits: XlsxLimits): number {
  return Math.min(limits.bytes, Math.max(64 * 1024 * 1024, size * limits.ratio));
}

function tooBig(what: string): AppError {
  return new AppError("FILE_TOO_LARGE", `the Excel workbook ${what}; split it, or send a CSV`);
}

function unreadable(why: string, cause?: unknown): AppError {
  return new AppError(
    "PARSE_ERROR",
    `the upload is not a readable Excel (.xlsx) workbook: ${why}`,
    {
      cause,
    },
  );
}

/** 1-based column of a cell reference (`C12` → 3), or 0 if it has none. */
function columnOf(ref: string | undefined): number {
  if (!ref) return 0;
  let n = 0;
  for (let i = 0; i < ref.length; i++) {
    const c = ref.charCodeAt(i);
    if (c < 65 || c > 90) break;
    n = n * 26 + (c - 64);
  }
  return n;
}

/** Cell text as a person sees it: numbers as numbers, booleans as true/false, formulas by result. */
function cellText(type: string | undefined, value: string, shared: readonly string[]): string {
  switch (type) {
    case "s": {
      const text = shared[Number(value)];
      if (text === undefined)
        throw unreadable(`a cell names shared string ${value}, which the workbook lacks`);
      return text;
    }
    case "b":
      return value === "1" ? "true" : "false";
    case "str":
    case "inlineStr":
    case "e":
      return value;
    default: {
      if (value === "") return "";
      const n = Number(value);
      return Number.isFinite(n) ? String(n) : value;
    }
  }
}

/**
 * The decompressed text of a zip entry, chunk by chunk; refused past `budget` bytes (counted as
 * inflated, whatever the entry's header claims).
 */
async function* inflated(
  entry: JSZip.JSZipObject,
  budget: { left: number },
): AsyncGenerator<string> {
  const out = new PassThrough();
  const source = entry.nodeStream("nodebuffer");
  source.on("error", (e: Error) => out.destroy(e));
  source.pipe(out);
  const decoder = new TextDecoder("utf-8");
  try {
    for await (const chunk of out as AsyncIterable<Buffer>) {
      budget.left -= chunk.length;
      if (budget.left < 0) throw tooBig("expands to more than the server accepts");
      yield decoder.decode(chunk, { stream: true });
    }
    yield decoder.decode();
  } finally {
    (source as unknown as { pause(): void }).pause();
    out.destroy();
  }
}

/** Feeds a whole entry to `sink`. */
async function inflate(
  entry: JSZip.JSZipObject,
  budget: { left: number },
  sink: (text: string) => void,
): Promise<void> {
  for await (const text of inflated(entry, budget)) sink(text);
}

/** A small XML part (workbook, relationships) parsed whole; its elements' attributes, in order. */
async function elements(zip: JSZip, path: string, name: string): Promise<Record<string, string>[]> {
  const entry = zip.file(path);
  if (!entry) return [];
  const found: Record<string, string>[] = [];
  const parser = new SaxesParser();
  parser.on("opentag", (tag) => {
    if (tag.name === name || tag.name.endsWith(`:${name}`)) {
      found.push(tag.attributes as Record<string, string>);
    }
  });
  await inflate(entry, { left: 16 * 1024 * 1024 }, (text) => parser.write(text));
  parser.close();
  return found;
}

/** Where the first worksheet and the shared strings are, from the workbook's relationships. */
async function locateParts(zip: JSZip): Promise<{ sheet: string; sharedStrings: string | null }> {
  const rels = await elements(zip, "xl/_rels/workbook.xml.rels", "Relationship");
  const sheets = await elements(zip, "xl/workbook.xml", "sheet");
  const target = (t: string) => (t.startsWith("/") ? t.slice(1) : `xl/${t}`);
  const firstId = sheets[0]?.["r:id"];
  const sheetRel = rels.find((r) => r.Id === firstId);
  const sheet = sheetRel
    ? target(sheetRel.Target)
    : Object.keys(zip.files)
        .filter((f) => /^xl\/worksheets\/[^/]+\.xml$/.test(f))
        .sort()[0];
  if (!sheet || !zip.file(sheet)) throw unreadable("it has no worksheet");
  const stringsRel = rels.find((r) => r.Type?.endsWith("/sharedStrings"));
  const sharedStrings = stringsRel ? target(stringsRel.Target) : "xl/sharedStrings.xml";
  return { sheet, sharedStrings: zip.file(sharedStrings) ? sharedStrings : null };
}

/** The shared strings table: each `<si>`'s text, rich runs joined, phonetic runs left out. */
async function readSharedStrings(
  zip: JSZip,
  path: string | null,
  budget: { left: number },
): Promise<string[]> {
  if (path === null) return [];
  const strings: string[] = [];
  const parser = new SaxesParser();
  let current: string[] | null = null;
  let inText = false;
  let phonetic = 0;
  parser.on("opentag", (tag) => {
    if (tag.name === "si") current = [];
    else if (tag.name === "rPh") phonetic++;
    else if (tag.name === "t" && phonetic === 0) inText = true;
  });
  parser.on("text", (text) => {
    if (inText && current) current.push(text);
  });
  parser.on("closetag", (tag) => {
    if (tag.name === "t") inText = false;
    else if (tag.name === "rPh") phonetic--;
    else if (tag.name === "si" && current) {
      strings.push(current.join(""));
      current = null;
    }
  });
  await inflate(zip.file(path) as JSZip.JSZipObject, budget, (text) => parser.write(text));
  parser.close();
  return strings;
}

/**
 * Reads applicants from the first worksheet of an Excel (.xlsx) workbook: the first non-empty
 * row is the header, each later row a record, validated by the same rules as CSV rows (row
 * numbers count data rows from 1; `line` is the sheet's row number). Cells past the header's
 * last column are not read.
 *
 * The workbook is read in memory (an upload is at most the server's file limit) and its parts
 * are inflated as streams with their expanded size counted, so a zip bomb is refused early, no
 * part of the workbook is written to disk, and rows, columns and bytes are bounded
 * (XLSX_LIMITS). Written with the zip reader and XML parser directly because the spreadsheet
 * library's streaming reader spools sheets to temporary files (applicants' data left on disk)
 * and bounds neither their expansion nor a row's width.
 */
export async function* readXlsxApplicants(
  stream: Readable,
  options: ReadXlsxOptions,
): AsyncGenerator<ValidatedBatch> {
  const size = options.batchSize ?? 8192;
  const limits = { ...XLSX_LIMITS, ...options.limits };
  const { spec } = options;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(bytes);
  } catch (e) {
    throw unreadable((e as Error).message, e);
  }
  const budget = { left: expansionLimit(bytes.length, limits) };
  const parts = await locateParts(zip).catch((e: unknown) => {
    throw e instanceof AppError ? e : unreadable((e as Error).message, e);
  });
  const shared = await readSharedStrings(zip, parts.sharedStrings, budget).catch((e: unknown) => {
    throw e instanceof AppError ? e : unreadable((e as Error).message, e);
  });

  // Set by the parser's callbacks, so typed wide (flow analysis does not follow callbacks).
  let validator = null as RecordValidator | null;
  let builder = null as ReturnType<RecordValidator["begin"]> | null;
  let nextRow = 1;
  let dataRows = 0;
  const ready: ValidatedBatch[] = [];
  let yielded = false;
  /** Columns read of each row: up to the header's width once it is known. */
  let width = limits.columns;

  const parser = new SaxesParser();
  let cells: string[] | null = null;
  let line = 0;
  let lastRow = 0;
  let cellColumn = 0;
  let nextColumn = 1;
  let cellType: string | undefined;
  let value: string[] = [];
  let capture = false;
  let inInline = false;

  const endRow = () => {
    const values = cells as string[];
    cells = null;
    if (values.every((v) => v === undefined || v.trim() === "")) return;
    for (let i = 0; i < values.length; i++) values[i] ??= "";
    if (!validator) {
      validator = new RecordValidator(spec, values, { label: options.label ?? "optional" });
      width = validator.header.length;
      builder = validator.begin(nextRow, size, { keepRaw: options.keepRaw ?? false });
      return;
    }
    if (++dataRows > limits.rows) throw tooBig(`has more than ${limits.rows} rows`);
    while (values.length < width) values.push("");
    const b = builder as NonNullable<typeof builder>;
    b.add(values, line);
    if (++nextRow - b.startRow === size) {
      ready.push(b.finish());
      builder = validator.begin(nextRow, size, { keepRaw: options.keepRaw ?? false });
    }
  };

  parser.on("opentag", (tag) => {
    const a = tag.attributes as Record<string, string>;
    switch (tag.name) {
      case "row": {
        const r = Number(a.r);
        line = Number.isInteger(r) && r > 0 ? r : lastRow + 1;
        if (line <= lastRow) {
          throw unreadable(
            `row ${line} comes after row ${lastRow} (rows must be in order, once each)`,
          );
        }
        lastRow = line;
        cells = [];
        nextColumn = 1;
        break;
      }
      case "c": {
        cellColumn = columnOf(a.r) || nextColumn;
        if (cellColumn > limits.columns) {
          throw tooBig(`has a cell in column ${cellColumn}, past the last (${limits.columns})`);
        }
        nextColumn = cellColumn + 1;
        cellType = a.t;
        value = [];
        break;
      }
      case "v":
        capture = true;
        break;
      case "is":
        inInline = true;
        break;
      case "t":
        if (inInline) capture = true;
        break;
    }
  });
  parser.on("text", (text) => {
    if (capture) value.push(text);
  });
  parser.on("closetag", (tag) => {
    switch (tag.name) {
      case "v":
        capture = false;
        break;
      case "t":
        if (inInline) capture = false;
        break;
      case "is":
        inInline = false;
        break;
      case "c":
        if (cells && cellColumn <= width) {
          cells[cellColumn - 1] = cellText(cellType, value.join(""), shared);
        }
        break;
      case "row":
        if (cells) endRow();
        break;
    }
  });

  try {
    for await (const text of inflated(zip.file(parts.sheet) as JSZip.JSZipObject, budget)) {
      parser.write(text);
      while (ready.length > 0) {
        yielded = true;
        yield ready.shift() as ValidatedBatch;
      }
    }
    parser.close();
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw unreadable((e as Error).message, e);
  }
  for (const batch of ready) {
    yielded = true;
    yield batch;
  }
  if (!validator || !builder) {
    throw new AppError("SCHEMA_MISMATCH", "the workbook's first sheet has no header row");
  }
  if (builder.count > 0 || !yielded) yield builder.finish();
}
