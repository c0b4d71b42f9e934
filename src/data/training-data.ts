import { AppError } from "../core/errors.js";
import { DEFAULT_DATA_PATH, digestFile, readDataset } from "./dataset.js";
import { type InferResult, inferSpec } from "./infer.js";
import type { DatasetSpec } from "./spec.js";
import { loadSpecFile } from "./spec-check.js";
import { defaultSpec, type RowError } from "./validate.js";

type DatasetTable = Awaited<ReturnType<typeof readDataset>>["table"];

export interface TrainingData {
  readonly path: string;
  /** The spec the rows were validated against; every model trained on them carries it. */
  readonly spec: DatasetSpec;
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

export interface LoadTrainingOptions {
  /** Default: the bundled German credit data. */
  readonly path?: string;
  /** Default: the German credit spec. */
  readonly spec?: DatasetSpec;
  readonly skipInvalid?: boolean;
  readonly onSkipped?: (text: string) => void;
}

/**
 * Loads labelled training data. Invalid rows stop training (a model must not quietly learn from
 * part of a file) unless `skipInvalid`, in which case they are reported on stderr and left out.
 */
export async function loadTrainingData(options: LoadTrainingOptions = {}): Promise<TrainingData> {
  const path = options.path ?? DEFAULT_DATA_PATH;
  const spec = options.spec ?? defaultSpec();
  const skipInvalid = options.skipInvalid ?? false;
  const [ds, digest] = await Promise.all([readDataset(path, { spec }), digestFile(path)]);
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
  if (ds.table.n > 0 && (bad === 0 || bad === ds.table.n)) {
    throw new AppError(
      "TRAINING_FAILED",
      `${path}: every valid row has the same target value (${bad} of ${ds.table.n} are "${spec.target.riskClass}"); a model needs both classes`,
    );
  }
  return { path, spec, table: ds.table, digest, rows: ds.table.n, bad };
}

/** Which data set to train on and how it is described, as a command or a flow names it. */
export interface DatasetChoice {
  /** Labelled ARFF or CSV file (default: the bundled German credit data). */
  readonly data?: string;
  /** A dataset spec file describing `data`. */
  readonly dataset?: string;
  /** Without `dataset`: the target column, the spec then inferred from `data`. */
  readonly target?: string;
  /** With `target`: the value that means default (bad). */
  readonly riskClass?: string;
  /** With `target`: texts that also mean a missing value. */
  readonly missing?: readonly string[];
  /** With `target`: the inferred spec's name (default: from the file name). */
  readonly name?: string;
}

/** How the caller spells each choice in its messages (a command's flags, a flow's params). */
export type ChoiceNames = Record<"dataset" | "target" | "riskClass" | "missing", string>;

const FLAG_NAMES: ChoiceNames = {
  dataset: "--dataset",
  target: "--target",
  riskClass: "--risk-class",
  missing: "--missing",
};

/**
 * The spec a choice names: a spec file, one inferred from the data (`onInferred` hears what
 * inference decided), or German credit. Contradictory choices are refused, naming them.
 */
export async function resolveDatasetSpec(
  choice: DatasetChoice,
  onInferred: (result: InferResult) => void = () => {},
  names: ChoiceNames = FLAG_NAMES,
): Promise<DatasetSpec> {
  if (choice.dataset !== undefined) {
    if (choice.target !== undefined || choice.riskClass !== undefined) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `give either ${names.dataset} or ${names.target} with ${names.riskClass}, not both (the spec names the target)`,
      );
    }
    return loadSpecFile(choice.dataset);
  }
  if (choice.target !== undefined || choice.riskClass !== undefined) {
    if (choice.target === undefined || choice.riskClass === undefined) {
      throw new AppError("INVALID_ARGUMENT", `${names.target} and ${names.riskClass} go together`);
    }
    const inferred = await inferSpec(choice.data ?? DEFAULT_DATA_PATH, {
      target: choice.target,
      riskClass: choice.riskClass,
      missing: choice.missing,
      name: choice.name,
    });
    onInferred(inferred);
    return inferred.spec;
  }
  if (choice.missing !== undefined && choice.missing.length > 0) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `${names.missing} needs ${names.target} (for ${names.dataset}, the spec lists them)`,
    );
  }
  return defaultSpec();
}
