import { AppError } from "../core/errors.js";
import { DEFAULT_DATA_PATH, digestFile, readDataset } from "./dataset.js";
import type { RowError } from "./validate.js";

type DatasetTable = Awaited<ReturnType<typeof readDataset>>["table"];

export interface TrainingData {
  readonly path: string;
  readonly table: DatasetTable;
  readonly digest: string;
  readonly rows: number;
  readonly bad: number;
}

/** Formats row errors for a terminal, at most `limit` of them. */
export function formatRowErrors(errors: readonly RowError[], limit = 20): string {
  const lines = errors
    .slice(0, limit)
    .map((e) => `  row ${e.row}${e.column ? `, column ${e.column}` : ""}: ${e.message}`);
  if (errors.length > limit) lines.push(`  … and ${errors.length - limit} more`);
  return lines.join("\n");
}

/**
 * Loads labelled training data. Invalid rows stop training (a model must not quietly learn from
 * part of a file) unless `skipInvalid`, in which case they are reported on stderr and left out.
 */
export async function loadTrainingData(
  path: string = DEFAULT_DATA_PATH,
  options: { skipInvalid?: boolean; onSkipped?: (text: string) => void } = {},
): Promise<TrainingData> {
  const skipInvalid = options.skipInvalid ?? false;
  const [ds, digest] = await Promise.all([readDataset(path), digestFile(path)]);
  if (ds.errors.length > 0) {
    const summary = `${path}: ${ds.errors.length} problem(s) in ${ds.rows} rows`;
    if (!skipInvalid) {
      throw new AppError(
        "VALIDATION_FAILED",
        `${summary}; fix them or pass --skip-invalid to train on the valid rows only:\n${formatRowErrors(ds.errors)}`,
        { details: ds.errors },
      );
    }
    options.onSkipped?.(
      `${summary}; training on the ${ds.table.n} valid rows:\n${formatRowErrors(ds.errors)}`,
    );
  }
  let bad = 0;
  for (let i = 0; i < ds.table.n; i++) bad += ds.table.y[i];
  return { path, table: ds.table, digest, rows: ds.table.n, bad };
}
