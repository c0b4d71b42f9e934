import { writeFile } from "node:fs/promises";
import { basename } from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { AppError } from "../core/index.js";
import { defaultSpec, loadSpecFile } from "../data/index.js";
import { readDriftColumns, streamDriftFrames } from "../monitoring/columns.js";
import { DriftAccumulator } from "../monitoring/streaming-drift.js";
import {
  type ColumnSchema,
  type DatasetDrift,
  type DriftFrame,
  type TestOverrides,
  detectDrift,
} from "../monitoring/drift.js";
import { DRIFT_TESTS, type DriftTestName } from "../monitoring/drift-tests.js";
import { featureDistributions, renderDriftReportHtml } from "../monitoring/report-html.js";
import { writeJson } from "./common.js";
import { collectKeyValue, formatTable, print } from "./table.js";

interface DriftCliOptions {
  reference: string;
  current: string;
  dataset?: string;
  json?: boolean;
  test: Record<string, string>;
  threshold: Record<string, string>;
  share?: number;
  countMissing?: boolean;
  html?: string;
}

const DRIFT_TEST_NAMES = Object.keys(DRIFT_TESTS) as DriftTestName[];

function shareOption(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError("must be a share in (0, 1].");
  return n;
}

/** `--test age=psi --test all=jensenshannon` and `--threshold …` as overrides. */
function overrides(
  tests: Record<string, string>,
  thresholds: Record<string, string>,
): TestOverrides {
  const byColumn: Record<string, { test?: DriftTestName; threshold?: number }> = {};
  const byKind: Record<string, { test?: DriftTestName; threshold?: number }> = {};
  let all: { test?: DriftTestName; threshold?: number } | undefined;
  const target = (key: string) => {
    if (key === "all") return (all ??= {});
    if (key === "numeric" || key === "categorical") return (byKind[key] ??= {});
    return (byColumn[key] ??= {});
  };
  for (const [key, test] of Object.entries(tests)) {
    if (!(DRIFT_TEST_NAMES as readonly string[]).includes(test)) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `--test ${key}=${test}: unknown test (use one of ${DRIFT_TEST_NAMES.join(", ")})`,
      );
    }
    target(key).test = test as DriftTestName;
  }
  for (const [key, value] of Object.entries(thresholds)) {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) {
      throw new AppError("INVALID_ARGUMENT", `--threshold ${key}=${value}: not a number ≥ 0`);
    }
    target(key).threshold = n;
  }
  return { all, byKind, byColumn };
}

/** Infinity (a category only in the current data) has no JSON form: it is written as null. */
function jsonResult(result: DatasetDrift) {
  return {
    ...result,
    columns: result.columns.map((c) => ({
      ...c,
      statistic: c.statistic !== null && Number.isFinite(c.statistic) ? c.statistic : null,
    })),
  };
}

const fmt = (x: number | null) =>
  x === null
    ? "—"
    : !Number.isFinite(x)
      ? "∞"
      : Math.abs(x) < 1e-4 && x !== 0
        ? x.toExponential(2)
        : x.toFixed(4);

export function driftCommand(): Command {
  return new Command("drift")
    .summary("test two datasets for drift, column by column")
    .description(
      "Compare a current CSV with a reference CSV column by column, with the test each column's size and kind calls for (two-sample Kolmogorov–Smirnov, chi-square or two-proportion Z for a reference of up to 1,000 rows; normed Wasserstein or Jensen–Shannon above), and say whether the dataset drifted (share of drifted columns ≥ 0.5). Every column names its test, statistic, p-value (null for distances), threshold and effect size, and the share of missing values on each side. The dataset spec's feature columns (default: German credit) keep the spec's kind and missing texts, its target and id columns are left out; other columns are numeric when every value is a number.",
    )
    .requiredOption("--reference <csv>", "the reference data (e.g. the training data)")
    .requiredOption("--current <csv>", "the data to compare with it")
    .option("--dataset <spec.json>", "the dataset spec of both files (default: German credit)")
    .option(
      "--test <column=test>",
      `use this test for a column, a kind (numeric, categorical) or all (repeatable): ${DRIFT_TEST_NAMES.join(", ")}`,
      collectKeyValue("--test"),
      {},
    )
    .option(
      "--threshold <column=value>",
      "use this threshold for a column, a kind or all (repeatable)",
      collectKeyValue("--threshold"),
      {},
    )
    .option(
      "--share <s>",
      "dataset drift from this share of drifted columns (default 0.5)",
      shareOption,
    )
    .option(
      "--count-missing",
      "a column whose missing share rose by more than 0.05 counts as drifted",
    )
    .option("--json", "print the result as JSON")
    .option(
      "--html <file>",
      "also write the report as one self-contained HTML page (reference vs current per column)",
    )
    .action(async (opts: DriftCliOptions) => {
      const spec = opts.dataset === undefined ? defaultSpec() : await loadSpecFile(opts.dataset);
      const reference = await readDriftColumns(opts.reference, { spec });
      const schema: ColumnSchema[] = reference.map((c) => ({ name: c.name, kind: c.kind }));
      const frame = (cols: typeof reference): DriftFrame =>
        Object.fromEntries(cols.map((c) => [c.name, c.values]));
      const options = {
        tests: overrides(opts.test, opts.threshold),
        datasetDriftShare: opts.share,
        countMissingDrift: opts.countMissing,
      };
      let result: DatasetDrift;
      if (opts.html) {
        // The page's charts need every current value: read the file whole.
        const current = await readDriftColumns(opts.current, { spec });
        const names = new Set(current.map((c) => c.name));
        const lacking = schema.filter((c) => !names.has(c.name)).map((c) => c.name);
        if (lacking.length > 0) {
          throw new AppError(
            "VALIDATION_FAILED",
            `the current data lacks column(s) of the reference: ${lacking.join(", ")}`,
          );
        }
        result = detectDrift(schema, frame(reference), frame(current), options);
        const html = renderDriftReportHtml({
          title: `Drift report: ${basename(opts.current)} against ${basename(opts.reference)}`,
          generatedAt: Date.now(),
          dataDrift: jsonResult(result),
          distributions: featureDistributions(schema, frame(reference), frame(current)),
        });
        await writeFile(opts.html, html);
      } else {
        // The current file streams through: memory for one chunk, whatever its length.
        const acc = new DriftAccumulator(schema, frame(reference), options);
        for await (const chunk of streamDriftFrames(opts.current, schema, { spec })) acc.add(chunk);
        result = acc.result();
      }
      if (opts.json) return writeJson(jsonResult(result));
      print(
        formatTable(
          ["column", "test", "statistic", "p-value", "threshold", "drift", "missing ref→cur"],
          result.columns.map((c) => [
            c.column,
            c.test ?? `skipped: ${c.skipped ?? ""}`,
            fmt(c.statistic),
            fmt(c.pValue),
            fmt(c.threshold),
            c.drift ? "DRIFT" : "",
            `${(100 * c.missing.reference).toFixed(1)}% → ${(100 * c.missing.current).toFixed(1)}%${c.missing.drift ? " (rose)" : ""}`,
          ]),
          ["left", "left", "right", "right", "right", "left", "right"],
        ),
      );
      print(
        `\n${result.driftedColumns} of ${result.countedColumns} columns drifted (share ${result.driftShare.toFixed(3)}, threshold ${result.shareThreshold}): ${result.datasetDrift ? "the dataset DRIFTED" : "no dataset drift"}`,
      );
    });
}
