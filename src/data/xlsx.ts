import type { Readable } from "node:stream";
import type ExcelJS from "exceljs";
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
}

/** Cell text as a person sees it: numbers as numbers, dates as ISO dates, formulas by result. */
function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (typeof value === "string") return value;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  if (typeof value === "object") {
    if ("result" in value)
      return cellText((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
    if ("richText" in value)
      return (value as ExcelJS.CellRichTextValue).richText.map((r) => r.text).join("");
    if ("text" in value) return String((value as ExcelJS.CellHyperlinkValue).text);
    if ("error" in value) return String((value as ExcelJS.CellErrorValue).error);
  }
  return String(value);
}

/**
 * Reads applicants from the first worksheet of an Excel (.xlsx) workbook, streamed: the first
 * non-empty row is the header, each later row a record, validated by the same rules as CSV
 * rows (row numbers count data rows from 1; `line` is the sheet's row number). exceljs's
 * streaming reader keeps memory bounded by one batch, not the workbook.
 */
export async function* readXlsxApplicants(
  stream: Readable,
  options: ReadXlsxOptions,
): AsyncGenerator<ValidatedBatch> {
  const size = options.batchSize ?? 8192;
  const { spec } = options;
  // Loaded on first use: the library takes a quarter of a second to import, which a server
  // that may never see a workbook should not pay at start.
  const { default: excel } = await import("exceljs");
  const reader = new excel.stream.xlsx.WorkbookReader(stream, {
    sharedStrings: "cache",
    hyperlinks: "ignore",
    styles: "ignore",
    worksheets: "emit",
    entries: "emit",
  });
  let validator: RecordValidator | null = null;
  let builder: ReturnType<RecordValidator["begin"]> | null = null;
  let nextRow = 1;
  let yielded = false;
  try {
    for await (const worksheet of reader) {
      for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
        const values = (row.values as ExcelJS.CellValue[]).slice(1).map(cellText);
        if (values.every((v) => v.trim() === "")) continue;
        if (!validator) {
          validator = new RecordValidator(spec, values, { label: options.label ?? "optional" });
          builder = validator.begin(nextRow, size, { keepRaw: options.keepRaw ?? false });
          continue;
        }
        while (values.length < validator.header.length) values.push("");
        (builder as NonNullable<typeof builder>).add(values, row.number);
        if (++nextRow - (builder as NonNullable<typeof builder>).startRow === size) {
          yielded = true;
          yield (builder as NonNullable<typeof builder>).finish();
          builder = validator.begin(nextRow, size, { keepRaw: options.keepRaw ?? false });
        }
      }
      break; // the first worksheet only
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError(
      "PARSE_ERROR",
      `the upload is not a readable Excel (.xlsx) workbook: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!validator || !builder) {
    throw new AppError("SCHEMA_MISMATCH", "the workbook's first sheet has no header row");
  }
  if (builder.count > 0 || !yielded) yield builder.finish();
}
