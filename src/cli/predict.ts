import { createWriteStream, type WriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { once } from "node:events";
import { Command } from "commander";
import { ERROR_CODES } from "../core/errors.js";
import { type RowError, formatCsvRow, readApplicants } from "../data/index.js";
import { loadModel } from "../ml/pipeline/saved-model.js";
import { writeJson } from "./common.js";
import { intOption } from "./options.js";
import { Progress } from "./progress.js";

interface PredictOptions {
  model: string;
  input: string;
  output: string;
  errors?: string;
  batchSize: number;
  json?: boolean;
}

/** Output columns added to each scored row. */
export const SCORE_COLUMNS = ["risk", "probability_bad", "confidence"] as const;

/**
 * A write stream to a temporary file that only takes the final name on `commit`, so a crash or
 * an error never leaves a half-written output behind.
 */
class AtomicFile {
  readonly stream: WriteStream;
  private readonly tmp: string;

  constructor(readonly path: string) {
    this.tmp = `${path}.${process.pid}.partial`;
    this.stream = createWriteStream(this.tmp);
  }

  async write(text: string): Promise<void> {
    if (!this.stream.write(text)) await once(this.stream, "drain");
  }

  async commit(): Promise<void> {
    this.stream.end();
    await once(this.stream, "finish");
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
    await rm(this.tmp, { force: true });
  }
}

export function predictCommand(): Command {
  return new Command("predict")
    .description(
      "Score a CSV (or ARFF) file of applicants with a model file. Each valid row is written with\n" +
        "risk (good/bad), probability_bad (calibrated) and confidence (the calibrated probability\n" +
        "of the predicted class). Rejected rows go to the error report (row, column, message) and\n" +
        `the command exits with code ${ERROR_CODES.VALIDATION_FAILED.exitCode} after writing all good rows.`,
    )
    .requiredOption("-m, --model <file>", "model file written by `riskometer train`")
    .requiredOption("-i, --input <file>", "applicants: CSV (`,` `;` or tab separated) or ARFF")
    .requiredOption("-o, --output <file>", "scored CSV to write")
    .option("--errors <file>", "error report CSV (default: <output without .csv>.errors.csv)")
    .option("--batch-size <n>", "rows per batch", intOption("--batch-size", 1, 1_000_000), 8192)
    .option("--json", "print { scored, rejected, errors } as JSON on stdout")
    .action(async (opts: PredictOptions) => {
      const { pipeline, schema } = await loadModel(opts.model);
      const errorsPath = opts.errors ?? `${opts.output.replace(/\.csv$/i, "")}.errors.csv`;
      const out = new AtomicFile(opts.output);
      const errors: RowError[] = [];
      const rejectedRows = new Set<number>();
      let scored = 0;
      let records = 0;
      const progress = new Progress("predict");
      try {
        let headerWritten = false;
        for await (const batch of readApplicants(opts.input, { schema, keepRaw: true, batchSize: opts.batchSize })) {
          if (!headerWritten) {
            await out.write(`${formatCsvRow([...batch.header, ...SCORE_COLUMNS])}\n`);
            headerWritten = true;
          }
          records += batch.records;
          for (const e of batch.errors) {
            errors.push(e);
            rejectedRows.add(e.row);
          }
          const p = pipeline.predictProba(batch.table);
          const raw = batch.raw as string[][];
          let text = "";
          for (let i = 0; i < p.length; i++) {
            const bad = p[i] >= pipeline.threshold;
            text += `${formatCsvRow(raw[i])},${bad ? "bad" : "good"},${p[i].toFixed(6)},${(bad ? p[i] : 1 - p[i]).toFixed(6)}\n`;
          }
          await out.write(text);
          scored += p.length;
          progress.update(records, records, "rows");
        }
        await out.commit();
      } catch (e) {
        await out.abort();
        throw e;
      }
      progress.done();
      if (errors.length > 0) {
        const report = new AtomicFile(errorsPath);
        await report.write(`${formatCsvRow(["row", "column", "message", "value"])}\n`);
        for (const e of errors) {
          await report.write(`${formatCsvRow([String(e.row), e.column ?? "", e.message, e.value ?? ""])}\n`);
        }
        await report.commit();
      }
      const summary = {
        scored,
        rejected: rejectedRows.size,
        errors: errors.map((e) => ({ row: e.row, column: e.column, message: e.message })),
      };
      if (opts.json) writeJson(summary);
      else {
        process.stderr.write(
          `scored ${scored} row(s) into ${opts.output}` +
            (rejectedRows.size > 0 ? `; rejected ${rejectedRows.size} row(s), see ${errorsPath}` : "") +
            "\n",
        );
      }
      if (rejectedRows.size > 0) process.exitCode = ERROR_CODES.VALIDATION_FAILED.exitCode;
    });
}
