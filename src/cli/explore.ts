import { writeFile } from "node:fs/promises";
import { Command, InvalidArgumentError } from "commander";
import { AppError } from "../core/index.js";
import { CREDIT_SCHEMA, readDataset } from "../data/index.js";
import { type Decision, SqlDecisionStore } from "../decisions/index.js";
import { withContext } from "./context.js";
import { type DriftColumn, readDriftColumns } from "../monitoring/columns.js";
import { type DataProfile, ivStrength, profileData } from "../monitoring/explore.js";
import { renderProfileHtml } from "../monitoring/explore-html.js";
import { writeJson } from "./common.js";
import { formatTable, print } from "./table.js";

/** The columns and labels of an ARFF file (the bundled data's format), by the credit schema. */
async function readArffColumns(path: string): Promise<{ columns: DriftColumn[]; y: Uint8Array }> {
  const { table } = await readDataset(path);
  const columns: DriftColumn[] = CREDIT_SCHEMA.columns.map((c, j) =>
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

/** Logged decisions as columns: their inputs, by the credit schema. */
function decisionColumns(decisions: readonly Decision[]): DriftColumn[] {
  return CREDIT_SCHEMA.columns.map((c) => {
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

/** `good`/`bad` (or 0/1) as 0/1; anything else unknown. */
function labelValue(v: string | null): number {
  const t = v?.trim().toLowerCase();
  if (t === "bad" || t === "1") return 1;
  if (t === "good" || t === "0") return 0;
  return NaN;
}

export function exploreCommand(): Command {
  return new Command("explore")
    .summary("profile a dataset: distributions, missing values, bad rates, WoE and IV")
    .description(
      "The exploratory profile credit teams start from: per column its distribution (numeric: quantiles and about ten bins of equal counts; categorical: counts), its missing share and, when the data has a good/bad label column, the bad rate of each bin or category with counts, its weight of evidence and the column's information value. Reads CSV, or ARFF like the bundled data.",
    )
    .option("--input <file>", "a CSV (or .arff) file")
    .option(
      "--decisions <hours>",
      "profile the decisions logged in the last <hours> instead (label: their outcomes, where known)",
      hoursOption,
    )
    .option("--label <column>", "the good/bad label column", "class")
    .option("--json", "print the profile as JSON")
    .option("--html <file>", "also write the profile as one self-contained HTML file")
    .action(
      async (opts: {
        input?: string;
        decisions?: number;
        label: string;
        json?: boolean;
        html?: string;
      }) => {
        let profile: DataProfile;
        let source: string;
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
            return profileData(decisionColumns(decisions), {
              column: "outcome",
              values: decisions.map((d) =>
                d.outcome === null ? NaN : d.outcome.outcome === "bad" ? 1 : 0,
              ),
            });
          });
        } else if (opts.input!.toLowerCase().endsWith(".arff")) {
          source = opts.input!;
          const { columns, y } = await readArffColumns(opts.input!);
          profile = profileData(columns, { column: "class", values: y });
        } else {
          source = opts.input!;
          const all = await readDriftColumns(opts.input!, { keep: [opts.label] });
          const label = all.find((c) => c.name === opts.label);
          if (label && label.kind !== "categorical") {
            throw new AppError(
              "VALIDATION_FAILED",
              `the label column ${opts.label} must hold good or bad (it holds numbers)`,
            );
          }
          const columns = all.filter((c) => c.name !== opts.label);
          profile = profileData(
            columns,
            label?.kind === "categorical"
              ? { column: opts.label, values: label.values.map(labelValue) }
              : undefined,
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
