import { AppError } from "../core/errors.js";
import {
  type DataSource,
  type DatasetSpec,
  defaultSpec,
  isNumberText,
  missingTexts,
  openCsv,
} from "../data/index.js";

/** One column of a dataset as the drift tests take it. */
export type DriftColumn =
  | { readonly name: string; readonly kind: "numeric"; readonly values: Float64Array }
  | { readonly name: string; readonly kind: "categorical"; readonly values: (string | null)[] };

/** Cells that mean "no value" in a CSV. */
// ("none" is a real category of the credit data, so it is not among them.)
const MISSING = new Set(["", "na", "n/a", "nan", "null", "?"]);

const isMissing = (cell: string) => MISSING.has(cell.trim().toLowerCase());

/** A cell as a number, or NaN when missing; null when it is not a number at all. */
function numberOf(cell: string, missing: (cell: string) => boolean): number | null {
  const t = cell.trim();
  if (missing(t)) return NaN;
  return isNumberText(t) ? Number(t) : null;
}

/** The missing test of a column: the common texts and, for a spec's feature, its own. */
function missingTest(spec: DatasetSpec | undefined, name: string): (cell: string) => boolean {
  const column = spec?.columns.find((c) => c.name === name);
  if (spec === undefined || (column?.kind !== "numeric" && column?.kind !== "categorical")) {
    return isMissing;
  }
  const own = missingTexts(spec, column);
  return (cell) => {
    const t = cell.trim().toLowerCase();
    return MISSING.has(t) || own.has(t);
  };
}

/**
 * Reads a CSV in chunks of columns for the given schema (the reference's columns), so a file of
 * any length passes through with memory for one chunk. Errors name the column and row.
 */
export async function* streamDriftFrames(
  source: DataSource,
  schema: readonly { readonly name: string; readonly kind: "numeric" | "categorical" }[],
  options: { readonly spec?: DatasetSpec; readonly chunkRows?: number } = {},
): AsyncGenerator<Record<string, Float64Array | (string | null)[]>> {
  const chunkRows = options.chunkRows ?? 8192;
  const missing = schema.map((c) => missingTest(options.spec, c.name));
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
            const v = numberOf(cell, missing[j]);
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
            return missing[j](cell) ? null : cell.trim();
          });
        }
      });
      yield frame;
    }
  } finally {
    await input.close();
  }
}

/**
 * Reads a CSV into columns for drift testing. A feature column of the dataset spec (default:
 * German credit) keeps the spec's kind; any other column is numeric when every present cell is a
 * number, categorical otherwise. Missing cells (empty, NA, N/A, NaN, null, ?, and the spec's own
 * missing texts) are kept as NaN or null, so the tests can count them instead of silently
 * dropping them. The spec's target, id and ignored columns are left out unless `keep` names them.
 */
export async function readDriftColumns(
  source: DataSource,
  options: { readonly spec?: DatasetSpec; readonly keep?: readonly string[] } = {},
): Promise<DriftColumn[]> {
  const spec = options.spec ?? defaultSpec();
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
  const byName = new Map(spec.columns.map((c) => [c.name, c]));
  const left = new Set([
    spec.target.name,
    ...spec.columns.filter((c) => c.kind === "id" || c.kind === "ignored").map((c) => c.name),
  ]);
  const out: DriftColumn[] = [];
  header.forEach((name, j) => {
    if (name === "" || (left.has(name) && !options.keep?.includes(name))) return;
    const specColumn = byName.get(name);
    const isMissing = missingTest(spec, name);
    const column = cells[j];
    const kind =
      specColumn?.kind === "numeric" || specColumn?.kind === "categorical"
        ? specColumn.kind
        : column.every((c) => isMissing(c) || isNumberText(c.trim()))
          ? "numeric"
          : "categorical";
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
