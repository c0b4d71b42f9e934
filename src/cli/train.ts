import {
  DEFAULT_TRIALS,
  MODEL_KINDS,
  buildModelBody,
  saveModel,
  trainModel,
  type ModelKind,
} from "../ml/index.js";
import { mkdir } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { Command } from "commander";
import { CREDIT_SCHEMA } from "../data/index.js";
import { loadTrainingData, writeJson } from "./common.js";
import { choiceOption, intOption } from "./options.js";
import { Progress } from "./progress.js";

const ALGORITHM_CHOICES = ["auto", ...MODEL_KINDS] as const;

interface TrainCliOptions {
  algorithm: (typeof ALGORITHM_CHOICES)[number];
  data?: string;
  trials: number;
  seed: number;
  out: string;
  threads?: number;
  skipInvalid?: boolean;
  json?: boolean;
}

export function trainCommand(): Command {
  return new Command("train")
    .summary("tune, compare and train a model; write the model file")
    .description(
      "Tune every algorithm, compare them and their blend by cross-validation, report each on a held-out test set, and write the chosen model (refitted on all rows) to a model file.",
    )
    .requiredOption("-o, --out <file>", "where to write the model file (JSON)")
    .option(
      "-a, --algorithm <name>",
      `${ALGORITHM_CHOICES.join(", ")}; auto compares all and keeps the simplest whose CV expected cost is within one standard error of the lowest`,
      choiceOption("--algorithm", ALGORITHM_CHOICES),
      "auto",
    )
    .option("--data <file>", "labelled ARFF or CSV file (default: the bundled German credit data)")
    .option(
      "--trials <n>",
      "search trials per algorithm",
      intOption("--trials", 1, 10_000),
      DEFAULT_TRIALS,
    )
    .option(
      "--seed <n>",
      "seed for the split, the search and the models",
      intOption("--seed", 0, 2 ** 32 - 1),
      0,
    )
    .option("--threads <n>", "worker threads (default: all cores)", intOption("--threads", 1, 256))
    .option("--skip-invalid", "leave invalid rows out (listed on stderr) instead of failing")
    .option("--json", "print the training summary as JSON on stdout")
    .action(async (opts: TrainCliOptions) => {
      const started = performance.now();
      const data = await loadTrainingData(opts.data, opts.skipInvalid);
      let progress: Progress | null = null;
      let stage = "";
      const result = await trainModel({
        data: data.table,
        trials: opts.trials,
        seed: opts.seed,
        threads: opts.threads,
        candidates: opts.algorithm === "auto" ? MODEL_KINDS : [opts.algorithm as ModelKind],
        onProgress: (name, done, total) => {
          if (name !== stage) {
            progress?.done();
            stage = name;
            progress = new Progress(name, 0);
          }
          progress?.update(done, total);
        },
      });
      (progress as Progress | null)?.done();
      const body = buildModelBody(result, CREDIT_SCHEMA, {
        file: basename(data.path),
        sha256: data.digest,
        rows: data.rows,
        bad: data.bad,
        seed: opts.seed,
        trials: opts.trials,
      });
      await mkdir(dirname(opts.out), { recursive: true });
      await saveModel(opts.out, body);
      const seconds = (performance.now() - started) / 1000;
      if (opts.json) {
        writeJson({
          out: opts.out,
          chosen: result.chosen,
          metrics: body.metrics,
          candidates: result.candidates,
          seconds,
        });
        return;
      }
      const f = (x: number) => x.toFixed(3);
      const lines = [
        `candidates (CV on the ${result.split.trainRows} training rows; test = ${result.split.testRows} held-out rows):`,
        `  ${"model".padEnd(8)} ${"cv auc".padStart(8)} ${"cv cost".padStart(8)} ${"test auc".padStart(9)} ${"test cost".padStart(10)} ${"test acc".padStart(9)}`,
        ...result.candidates.map(
          (c) =>
            `${c.kind === result.chosen ? "* " : "  "}${c.kind.padEnd(8)} ${f(c.cv.auc.mean).padStart(8)} ${f(c.cv.cost.mean).padStart(8)} ${f(c.test.auc).padStart(9)} ${f(c.test.cost).padStart(10)} ${f(c.test.accuracy).padStart(9)}`,
        ),
        `chosen: ${result.chosen} (the simplest whose CV expected cost is within one standard error of the lowest), decision threshold P(bad) ≥ ${result.model.threshold.toFixed(3)}`,
        `model written to ${opts.out} in ${seconds.toFixed(1)} s`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });
}
