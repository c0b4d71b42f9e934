import { ERROR_CODES } from "../core/index.js";
import { Command } from "commander";
import { formatCsvRow } from "../data/index.js";
import { AtomicFile } from "./atomic-file.js";
import { writeJson } from "./common.js";
import { loadModelFrom } from "./model-source.js";
import { intOption } from "./options.js";
import { Progress } from "./progress.js";
import { scoreFile } from "./score-file.js";

interface PredictOptions {
  model?: string;
  input: string;
  output: string;
  errors?: string;
  batchSize: number;
  threads?: number;
  json?: boolean;
}

export function predictCommand(): Command {
  return new Command("predict")
    .summary("score a file of applicants with a registered model or a model file")
    .description(
      `Score a CSV (or ARFF) file of applicants with a registered model version (default: the serving one, <model>@champion) or a model file. Each valid row is written as it was read, plus risk (good/bad), probability_bad (calibrated) and confidence (the calibrated probability of the predicted class). Cells that a spreadsheet would run as a formula are escaped. Rejected rows go to the error report (row, column, message, value) and the command exits with code ${ERROR_CODES.VALIDATION_FAILED.exitCode} after writing all good rows.`,
    )
    .option(
      "-m, --model <file|ref>",
      "a model file, or a registered version: name@alias or name/version (default: <RISKOMETER_MODEL_NAME>@champion)",
    )
    .requiredOption("-i, --input <file>", "applicants: CSV (`,` `;` or tab separated) or ARFF")
    .requiredOption("-o, --output <file>", "scored CSV to write (same separator as the input)")
    .option("--errors <file>", "error report CSV (default: <output without .csv>.errors.csv)")
    .option("--batch-size <n>", "rows per batch", intOption("--batch-size", 1, 1_000_000), 8192)
    .option("--threads <n>", "scoring threads (default: all cores)", intOption("--threads", 1, 256))
    .option("--json", "print { scored, rejected, errors } as JSON on stdout")
    .action(async (opts: PredictOptions) => {
      const { body, spec } = await loadModelFrom(opts.model);
      const errorsPath = opts.errors ?? `${opts.output.replace(/\.csv$/i, "")}.errors.csv`;
      const progress = new Progress("predict");
      const { scored, errors } = await scoreFile({
        model: body.model,
        spec,
        input: opts.input,
        output: opts.output,
        batchSize: opts.batchSize,
        threads: opts.threads,
        onProgress: (n) => progress.update(n, undefined, "rows scored"),
      });
      progress.done();
      const rejected = new Set(errors.map((e) => e.row)).size;
      if (errors.length > 0) {
        const report = new AtomicFile(errorsPath);
        await report.write(`${formatCsvRow(["row", "column", "message", "value"])}\n`);
        for (const e of errors) {
          const cells = [String(e.row), e.column ?? "", e.message, e.value ?? ""];
          await report.write(`${formatCsvRow(cells)}\n`);
        }
        await report.commit();
      }
      if (opts.json) {
        writeJson({
          scored,
          rejected,
          errors: errors.map((e) => ({ row: e.row, column: e.column, message: e.message })),
        });
      } else {
        const rejectedNote = rejected > 0 ? `; rejected ${rejected} row(s), see ${errorsPath}` : "";
        process.stderr.write(`scored ${scored} row(s) into ${opts.output}${rejectedNote}\n`);
      }
      if (rejected > 0) process.exitCode = ERROR_CODES.VALIDATION_FAILED.exitCode;
    });
}
