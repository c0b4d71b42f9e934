import { userInfo } from "node:os";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { Command } from "commander";
import { loadConfig } from "../core/config.js";
import { runTrainFlow } from "../flows/index.js";
import { openContext } from "../main.js";
import { DEFAULT_TRIALS, MODEL_KINDS, type ModelKind } from "../ml/index.js";
import { writeJson } from "./common.js";
import { addDatasetOptions, loadTrainingData, type DatasetCliOptions } from "./dataset-options.js";
import { choiceOption, intOption } from "./options.js";
import { Progress } from "./progress.js";

const ALGORITHM_CHOICES = ["auto", ...MODEL_KINDS] as const;

interface TrainCliOptions extends DatasetCliOptions {
  algorithm: (typeof ALGORITHM_CHOICES)[number];
  model?: string;
  trials: number;
  seed: number;
  top: number;
  nestedCv?: boolean;
  out?: string;
  threads?: number;
  json?: boolean;
}

export function trainCommand(): Command {
  const cmd = new Command("train")
    .summary("tune and compare models, record the runs, register the best as a new version")
    .description(
      [
        "Tune every algorithm on 80 % of the data, compare the candidates (each tuned algorithm, runners-up and their blend) by repeated cross-validation, and report each on the held-out 20 %.",
        "Records one parent run and a child run per top candidate (params, CV mean and std, per-fold scores, test metrics, plots), stores the chosen model (refitted on all rows) and registers it as a new version of the registered model.",
        "It never moves champion itself; only on a new install where no version of any model has ever served does the bootstrap setting (RISKOMETER_BOOTSTRAP_CHAMPION) let the first version serve, recorded in the audit log.",
      ].join(" "),
    )
    .option(
      "-a, --algorithm <name>",
      `${ALGORITHM_CHOICES.join(", ")}; auto compares all and keeps the simplest whose CV expected cost is within one standard error of the lowest`,
      choiceOption("--algorithm", ALGORITHM_CHOICES),
      "auto",
    )
    .option(
      "--model <name>",
      "registered model the version is added to (default: RISKOMETER_MODEL_NAME for German credit, else the dataset spec's name)",
    )
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
    .option(
      "--top <n>",
      "candidates recorded as child runs, lowest CV cost first",
      intOption("--top", 1, 100),
      5,
    )
    .option(
      "--nested-cv",
      "also estimate each algorithm's tune-then-fit procedure by nested 5-fold CV (the search reruns in every outer fold; several times slower), logged on the parent run",
    )
    .option("-o, --out <file>", "also write the model file here")
    .option("--threads <n>", "worker threads (default: all cores)", intOption("--threads", 1, 256))
    .option(
      "--json",
      "print the run ids, the registered version and the metrics as JSON on stdout",
    );
  return addDatasetOptions(cmd).action(async (opts: TrainCliOptions) => {
    const started = performance.now();
    const config = loadConfig();
    const data = await loadTrainingData(opts);
    const ctx = await openContext(config);
    try {
      // The author of the version: the token's user, else the person at the terminal.
      const actor = config.token
        ? (await ctx.users.authenticate(config.token)).name
        : userInfo().username;
      let progress: Progress | null = null;
      let stage = "";
      const result = await runTrainFlow(ctx, {
        data,
        modelName: opts.model,
        trials: opts.trials,
        seed: opts.seed,
        threads: opts.threads,
        top: opts.top,
        nestedCv: opts.nestedCv,
        candidates: opts.algorithm === "auto" ? MODEL_KINDS : [opts.algorithm as ModelKind],
        actor,
        onRunStarted: (id) => {
          if (!opts.json) process.stderr.write(`training run ${id}\n`);
        },
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
      if (opts.out) {
        await mkdir(dirname(opts.out), { recursive: true });
        await writeFile(opts.out, result.modelFile);
      }
      const seconds = (performance.now() - started) / 1000;
      const chosen = result.candidates.find((c) => c.chosen);
      if (opts.json) {
        writeJson({
          runId: result.parentRunId,
          chosenRunId: result.chosenRunId,
          chosen: result.chosen,
          model: {
            name: result.version.name,
            version: result.version.version,
            aliases: result.version.aliases,
          },
          bootstrap: result.bootstrap !== null,
          threshold: result.threshold,
          budget: result.budget,
          metrics: { cv: chosen?.cv, test: chosen?.test },
          candidates: result.candidates,
          out: opts.out ?? null,
          seconds,
        });
        return;
      }
      const f = (x: number | undefined) => (x === undefined ? "–" : x.toFixed(3));
      const width = Math.max(5, ...result.candidates.map((c) => c.name.length));
      const b = result.budget;
      const evalText = `${b.evalRepeats > 1 ? `${b.evalRepeats} × ` : ""}${b.evalFolds}-fold CV`;
      const lines = [
        ...(b.tuneRows < b.trainRows
          ? [
              `large data: trials scored by ${b.tuneFolds}-fold CV on a stratified subsample of ${b.tuneRows.toLocaleString("en-US")} of the ${b.trainRows.toLocaleString("en-US")} training rows, candidates compared by ${evalText}${b.runnersUp === 0 ? " without runners-up" : ""}`,
            ]
          : []),
        "candidates (CV on the training part; test = held-out rows), lowest CV cost first:",
        `  ${"model".padEnd(width)} ${"cv auc".padStart(8)} ${"cv cost".padStart(8)} ${"test auc".padStart(9)} ${"test cost".padStart(10)} ${"test acc".padStart(9)}  run`,
        ...result.candidates.map(
          (c) =>
            `${c.chosen ? "* " : "  "}${c.name.padEnd(width)} ${f(c.cv.auc?.mean).padStart(8)} ${f(c.cv.cost?.mean).padStart(8)} ${f(c.test.auc).padStart(9)} ${f(c.test.cost).padStart(10)} ${f(c.test.accuracy).padStart(9)}  ${c.runId}`,
        ),
        `chosen: ${result.chosen} (the simplest whose CV expected cost is within one standard error of the lowest), decision threshold P(bad) ≥ ${result.threshold.toFixed(3)}`,
        `registered ${result.version.name}/${result.version.version} from run ${result.chosenRunId} (parent run ${result.parentRunId})`,
        result.bootstrap
          ? `${result.version.name}/${result.version.version} now serves as champion: a new install's first version (bootstrap, recorded in the audit log)`
          : `champion is unchanged; an approver promotes with: riskometer models promote ${result.version.name} ${result.version.version} --alias champion --note "…"`,
        ...(opts.out ? [`model file written to ${opts.out}`] : []),
        `done in ${seconds.toFixed(1)} s`,
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    } finally {
      await ctx.close();
    }
  });
}
