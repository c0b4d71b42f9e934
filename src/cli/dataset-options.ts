import type { Command } from "commander";
import { AppError } from "../core/errors.js";
import {
  loadTrainingData as load,
  resolveDatasetSpec,
  type DatasetSpec,
  type InferResult,
  type TrainingData,
} from "../data/index.js";

/** The options every command that reads labelled data shares. */
export interface DatasetCliOptions {
  data?: string;
  dataset?: string;
  target?: string;
  riskClass?: string;
  missing?: string[];
  name?: string;
  skipInvalid?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds --data, --dataset, --target, --risk-class, --missing and --skip-invalid. */
export function addDatasetOptions(cmd: Command): Command {
  return cmd
    .option("--data <file>", "labelled ARFF or CSV file (default: the bundled German credit data)")
    .option("--dataset <spec.json>", "the dataset spec of --data (see `riskometer datasets`)")
    .option(
      "--target <column>",
      "without --dataset: the target column; the spec is then inferred from --data",
    )
    .option("--risk-class <value>", "with --target: the target value that means default (bad)")
    .option(
      "--missing <text>",
      "with --target: a text that also means a missing value (repeatable; empty, NA, N/A, null and NaN always do)",
      collect,
    )
    .option("--skip-invalid", "leave invalid rows out (listed on stderr) instead of failing");
}

/** Prints inference's decisions and warnings on stderr, for a person to read. */
export function reportInference(
  result: InferResult,
  out: NodeJS.WritableStream = process.stderr,
): void {
  const width = Math.max(6, ...result.decisions.map((d) => d.column.length));
  out.write(
    `spec "${result.spec.name}" inferred from ${result.rows} rows: target ${result.spec.target.name}, risk class "${result.spec.target.riskClass}"\n`,
  );
  for (const d of result.decisions) {
    const missing = d.missingShare > 0 ? ` (${(d.missingShare * 100).toFixed(1)} % missing)` : "";
    out.write(`  ${d.column.padEnd(width)}  ${d.kind.padEnd(11)}  ${d.why}${missing}\n`);
  }
  for (const w of result.warnings) out.write(`  check: ${w}\n`);
}

/** The spec the options name: a file, one inferred from the data, or German credit. */
export function resolveSpec(opts: DatasetCliOptions): Promise<DatasetSpec> {
  return resolveDatasetSpec(opts, (inferred) => reportInference(inferred));
}

/** Loads labelled training data by the shared options, listing skipped rows on stderr. */
export async function loadTrainingData(opts: DatasetCliOptions): Promise<TrainingData> {
  const spec = await resolveSpec(opts);
  try {
    return await load({
      path: opts.data,
      spec,
      skipInvalid: opts.skipInvalid,
      onSkipped: (text) => process.stderr.write(`${text}\n`),
    });
  } catch (e) {
    // Another data set read by the default spec: say how to describe it.
    if (
      e instanceof AppError &&
      e.code === "SCHEMA_MISMATCH" &&
      opts.dataset === undefined &&
      opts.target === undefined
    ) {
      throw new AppError(
        "SCHEMA_MISMATCH",
        `${e.message}\nFor a data set other than German credit, pass --target COLUMN --risk-class VALUE (the spec is inferred) or --dataset spec.json (see riskometer datasets infer).`,
        { details: e.details },
      );
    }
    throw e;
  }
}
