import { writeFile } from "node:fs/promises";
import { Command, InvalidArgumentError } from "commander";
import { AppError } from "../core/index.js";
import {
  defaultSpec,
  featureColumns,
  loadSpecFile,
  readDataset,
  riskIndex,
  type DatasetSpec,
} from "../data/index.js";
import { type Decision, SqlDecisionStore } from "../decisions/index.js";
import { withContext } from "./context.js";
import { type DriftColumn, readDriftColumns } from "../monitoring/columns.js";
import { type DataProfile, ivStrength, profileData } from "../monitoring/explore.js";
import { renderProfileHtml } from "../monitoring/explore-html.js";
import { writeJson } from "./common.js";
import { formatTable, print } from "./table.js";

/** The columns and labels of an ARFF file (the bundled data's format), by a dataset spec. */
async function readArffColumns(
  path: string,
  spec: DatasetSpec,
): Promise<{ columns: DriftColumn[]; y: Uint8Array }> {
  const { table } = await readDataset(path, { spec });
  const columns: DriftColumn[] = featureColumns(spec).map((c, j) =>
    c.kind === "numeric"
      ? { name: c.name, kind: "numeric", values: Float64Array.from(table.columns[j]) }
      : {
          name: c.name,
          kind: "categorical",
          values: Array.from(table.columns[j], (v) => c.values[v]?.value ?? null),
        },
  );
  return { columns, y: table.y };
}

function hoursOption(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError("must be a number of hours above 0.");
  return n;
}

/** Logged decisions as columns: their inputs, by the dataset spec. */
function decisionColumns(decisions: readonly Decision[], spec: DatasetSpec): DriftColumn[] {
  return featureColumns(spec).map((c) => {
    const raw = decisions.map((d) => (d.input as Record<string, unknown>)[c.name]);
    return c.kind === "numeric"
      ? {
          name: c.name,
          kind: "numeric" as const,
          values: Float64Array.from(raw, (v) => (typeof v === "number" ? v : NaN)),
        }
      : {
          name: c.name,
          kind: "categorical" as const,
          values: raw.map((v) => (typeof v === "string" ? v : null)),
        };
  });
}

/**
 * The target's values and aliases (compared case-insensitively) as 1 for the risk class and 0
 * for the other; anything else is unknown.
 */
function labelReader(spec: DatasetSpec): (v: string | null) => number {
  const codes = new Map<string, number>();
  const risk = riskIndex(spec);
  spec.target.values.forEach((value, i) => {
    for (const text of [value.value, ...value.aliases]) {
      codes.set(text.trim().toLowerCase(), i === risk ? 1 : 0);
    }
  });
  return (v) => codes.get(v?.trim().toLowerCase() ?? "") ?? NaN;
}

export function exploreCommand(): Command {
  return new Command("explore")
    .summary("profile a dataset: distributions, missing values, bad rates, WoE and IV")
    .description(
      "The exploratory profile credit teams start from: per column its distribution (numeric: quantiles and about ten bins of equal counts; categorical: counts), its missing share and, when the data has a label column, the bad rate (the share of the risk class) of each bin or category with counts, its weight of evidence and the column's information value. Reads CSV, or ARFF like the bundled data. The label's values come from the dataset spec (default: German credit, good/bad).",
    )
    .option("--input <file>", "a CSV (or .arff) file")
    .option(
      "--decisions <hours>",
      "profile the decisions logged in the last <hours> instead (label: their outcomes, where known)",
      hoursOption,
    )
    .option(
      "--dataset <spec.json>",
      "the dataset spec: the label column and its values, and how to read an ARFF file or decisions (default: German credit)",
    )
    .option("--label <column>", "the label column of a CSV file (default: the spec's target)")
    .option("--json", "print the profile as JSON")
    .option("--html <file>", "also write the profile as one self-contained HTML file")
    .action(
      async (opts: {
        input?: string;
        decisions?: number;
        dataset?: string;
        label?: string;
        json?: boolean;
        html?: string;
      }) => {
        let profile: DataProfile;
        let source: string;
        const spec = opts.dataset === undefined ? defaultSpec() : await loadSpecFile(opts.dataset);
        const labelName = opts.label ?? spec.target.name;
        if ((opts.input === undefined) === (opts.decisions === undefined)) {
          throw new AppError(
            "INVALID_ARGUMENT",
            "give either --input <file> or --decisions <hours>",
          );
        }
        if (opts.decisions !== undefined) {
          const hours = opts.decisions;
          source = `decisions of the last ${hours} h`;
          profile = await withContext(async (ctx) => {
            const decisions = await new SqlDecisionStore(ctx.database).readRange({
              since: Date.now() - hours * 3_600_000,
            });
            return profileData(decisionColumns(decisions, spec), {
              column: "outcome",
              values: decisions.map((d) =>
                d.outcome === null ? NaN : d.outcome.outcome === "bad" ? 1 : 0,
              ),
            });
          });
        } else if (opts.input!.toLowerCase().endsWith(".arff")) {
          source = opts.input!;
          const { columns, y } = await readArffColumns(opts.input!, spec);
          profile = profileData(columns, { column: spec.target.name, values: y });
        } else {
          source = opts.input!;
          const all = await readDriftColumns(opts.input!, { keep: [labelName] });
          const label = all.find((c) => c.name === labelName);
          const columns = all.filter((c) => c.name !== labelName);
          const read = labelReader(spec);
          // A numeric label column (0/1 codes) is read by its printed values.
          const labels =
            label === undefined
              ? undefined
              : label.kind === "categorical"
                ? label.values.map(read)
                : Array.from(label.values, (v) => (Number.isNaN(v) ? NaN : read(String(v))));
          if (labels !== undefined && labels.every((v) => Number.isNaN(v))) {
            const allowed = spec.target.values.map((v) => v.value).join(", ");
            throw new AppError(
              "VALIDATION_FAILED",
              `the label column ${labelName} holds none of the target's values (${allowed}); give --dataset for another data set`,
            );
          }
          profile = profileData(
            columns,
            labels === undefined ? undefined : { column: labelName, values: labels },
          );
        }
        if (opts.html) await writeFile(opts.html, renderProfileHtml(profile, source));
        if (opts.json) return writeJson(profile);
        const labelled = profile.label !== null;
        print(
          formatTable(
            ["column", "kind", "distinct", "missing", ...(labelled ? ["IV", "strength"] : [])],
            profile.columns.map((c) => [
              c.column,
              c.kind,
              String(c.distinct),
              `${(100 * c.missingShare).toFixed(1)}%`,
              ...(labelled
                ? [c.informationValue?.toFixed(3) ?? "—", ivStrength(c.informationValue ?? 0)]
                : []),
            ]),
            ["left", "left", "right", "right", "right", "left"],
          ),
        );
        print(
          `\n${profile.rows} rows${labelled ? `; ${profile.label!.bad} bad (${(100 * profile.label!.badRate).toFixed(1)}%)` : "; no label column, so no bad rates or evidence"}${opts.html ? `; profile written to ${opts.html}` : ""}`,
        );
      },
    );
}
