import { AppError } from "../core/errors.js";
import { CREDIT_SCHEMA, type DataSource, isNumberText, openCsv } from "../data/index.js";

/** One column of a dataset as the drift tests take it. */
export type DriftColumn =
  | { readonly name: string; readonly kind: "numeric"; readonly values: Float64Array }
  | { readonly name: string; readonly kind: "categorical"; readonly values: (string | null)[] };

/** Cells that mean "no value" in a CSV. */
// ("none" is a real category of the credit data, so it is not among them.)
const MISSING = new Set(["", "na", "n/a", "nan", "null", "?"]);

const isMissing = (cell: string) => MISSING.has(cell.trim().toLowerCase());

/**
 * Reads a CSV into columns for drift testing. A column of the credit schema keeps the schema's
 * kind; any other column is numeric when every present cell is a number, categorical otherwise.
 * Missing cells (empty, NA, N/A, NaN, null, ?) are kept as NaN or null, so the tests can count them
 * instead of silently dropping them. The label column `class`, if present, is left out unless
 * `keep` names it.
 */
/** A cell as a number, or NaN when missing; null when it is not a number at all. */
function numberOf(cell: string): number | null {
  const t = cell.trim();
  if (isMissing(t)) return NaN;
  return isNumberText(t) ? Number(t) : null;
}

/**
 * Reads a CSV in chunks of columns for the given schema (the reference's columns), so a file of
 * any length passes through with memory for one chunk. Errors name the column and row.
 */
export async function* streamDriftFrames(
  source: DataSource,
  schema: readonly { readonly name: string; readonly kind: "numeric" | "categorical" }[],
  chunkRows = 8192,
): AsyncGenerator<Record<string, Float64Array | (string | null)[]>> {
  const input = await openCsv(source);
  try {
    const header = input.header.map((h) => h.trim());
    const at = schema.map((c) => header.indexOf(c.name));
    const lacking = schema.filter((_, j) => at[j] < 0).map((c) => c.name);
    if (lacking.length > 0) {
      throw new AppError(
        "VALIDATION_FAILED",
        `the current data lacks column(s) of the reference: ${lacking.join(", ")}`,
      );
    }
    for await (const batch of input.batches(chunkRows)) {
      const n = batch.records.length;
      const frame: Record<string, Float64Array | (string | null)[]> = {};
      schema.forEach((column, j) => {
        if (column.kind === "numeric") {
          const values = new Float64Array(n);
          for (let i = 0; i < n; i++) {
            const cell = batch.records[i][at[j]] ?? "";
            const v = numberOf(cell);
            if (v === null) {
              throw new AppError(
                "VALIDATION_FAILED",
                `column ${column.name}, row ${batch.startRow + i}: "${cell}" is not a number (the column is numeric)`,
              );
            }
            values[i] = v;
          }
          frame[column.name] = values;
        } else {
          frame[column.name] = batch.records.map((r) => {
            const cell = r[at[j]] ?? "";
            return isMissing(cell) ? null : cell.trim();
          });
        }
      });
      yield frame;
    }
  } finally {
    await input.close();
  }
}

export async function readDriftColumns(
  source: DataSource,
  options: { readonly keep?: readonly string[] } = {},
): Promise<DriftColumn[]> {
  const input = await openCsv(source);
  const header = input.header.map((h) => h.trim());
  const cells: string[][] = header.map(() => []);
  try {
    for await (const batch of input.batches(8192)) {
      for (const record of batch.records) {
        for (let j = 0; j < header.length; j++) cells[j].push(record[j] ?? "");
      }
    }
  } finally {
    await input.close();
  }
  const schemaKind = new Map(CREDIT_SCHEMA.columns.map((c) => [c.name, c.kind]));
  const out: DriftColumn[] = [];
  header.forEach((name, j) => {
    if (name === "" || (name === "class" && !options.keep?.includes(name))) return;
    const column = cells[j];
    const kind =
      schemaKind.get(name) ??
      (column.every((c) => isMissing(c) || isNumberText(c.trim())) ? "numeric" : "categorical");
    if (kind === "numeric") {
      const values = new Float64Array(column.length);
      column.forEach((c, i) => {
        const t = c.trim();
        if (isMissing(t)) values[i] = NaN;
        else if (isNumberText(t)) values[i] = Number(t);
        else {
          throw new AppError(
            "VALIDATION_FAILED",
            `column ${name}, row ${i + 1}: "${c}" is not a number (the column is numeric)`,
          );
        }
      });
      out.push({ name, kind, values });
    } else {
      out.push({ name, kind, values: column.map((c) => (isMissing(c) ? null : c.trim())) });
    }
  });
  return out;
}
