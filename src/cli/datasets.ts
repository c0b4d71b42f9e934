import { Command } from "commander";
import {
  BUNDLED_SPECS,
  SPEC_JSON_SCHEMA,
  bundledSpec,
  inferSpec,
  loadSpecFile,
  specToJson,
  type DatasetSpec,
} from "../data/index.js";
import { AtomicFile } from "./atomic-file.js";
import { reportInference } from "./dataset-options.js";
import { writeJson } from "./common.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface InferCliOptions {
  data: string;
  target: string;
  riskClass: string;
  name?: string;
  missing?: string[];
  out?: string;
  json?: boolean;
}

async function writeSpec(path: string, spec: DatasetSpec): Promise<void> {
  const file = new AtomicFile(path);
  try {
    await file.write(specToJson(spec));
    await file.commit();
  } catch (e) {
    await file.abort();
    throw e;
  }
}

export function datasetsCommand(): Command {
  const cmd = new Command("datasets")
    .summary("dataset specs: infer one from a file, check one, show the bundled ones")
    .description(
      "A dataset spec (a JSON file) describes a data set: each column's kind (numeric, categorical, id, ignored), readable labels, allowed values and ranges, missing values, the target and its risk class, the costs and the fairness attributes. Every model version carries the spec it was trained on. See docs/dataset-spec.md.",
    );

  cmd
    .command("infer")
    .summary("infer a spec from a labelled file")
    .description(
      'Read a labelled CSV or ARFF file and draft its dataset spec: numbers vs categories, whole numbers, ranges, missing values, rare categories grouped as "other", readable labels from the header names, and id columns (a unique whole number per row, or an unnamed column). Prints what it decided and why, and what a person should check.',
    )
    .requiredOption("--data <file>", "labelled ARFF or CSV file")
    .requiredOption("--target <column>", "the target column")
    .requiredOption("--risk-class <value>", "the target value that means default (bad)")
    .option("--name <name>", "the spec's name (default: from the file name)")
    .option(
      "--missing <text>",
      "a text that also means a missing value (repeatable; empty, NA, N/A, null and NaN always do)",
      collect,
    )
    .option("-o, --out <spec.json>", "write the spec to this file")
    .option("--json", "print the spec as JSON on stdout (the decisions go to stderr)")
    .action(async (opts: InferCliOptions) => {
      const result = await inferSpec(opts.data, {
        target: opts.target,
        riskClass: opts.riskClass,
        name: opts.name,
        missing: opts.missing,
      });
      reportInference(result, opts.json ? process.stderr : process.stdout);
      if (opts.out) {
        await writeSpec(opts.out, result.spec);
        (opts.json ? process.stderr : process.stdout).write(`wrote ${opts.out}\n`);
      }
      if (opts.json) writeJson(result.spec);
      else if (!opts.out)
        process.stdout.write("(pass --out spec.json to save it, --json to print it)\n");
    });

  cmd
    .command("check")
    .summary("check a spec file")
    .argument("<spec.json>")
    .option("--json", "print the checked spec with its defaults filled in")
    .action(async (path: string, opts: { json?: boolean }) => {
      const spec = await loadSpecFile(path);
      if (opts.json) writeJson(spec);
      else {
        const kinds = new Map<string, number>();
        for (const c of spec.columns) kinds.set(c.kind, (kinds.get(c.kind) ?? 0) + 1);
        process.stdout.write(
          `${path}: spec "${spec.name}" v${spec.version} is valid: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(", ")}; target ${spec.target.name}, risk class "${spec.target.riskClass}"\n`,
        );
      }
    });

  cmd
    .command("show")
    .summary("print a bundled spec")
    .argument("[name]", `one of ${BUNDLED_SPECS.join(", ")}`, "german-credit")
    .action((name: string) => {
      if (!(BUNDLED_SPECS as readonly string[]).includes(name)) {
        throw new Command().error(
          `no bundled spec "${name}" (bundled: ${BUNDLED_SPECS.join(", ")})`,
        );
      }
      process.stdout.write(specToJson(bundledSpec(name as (typeof BUNDLED_SPECS)[number])));
    });

  cmd
    .command("schema")
    .summary("print the JSON Schema of spec files")
    .action(() => writeJson(SPEC_JSON_SCHEMA));
  return cmd;
}
