import {
  CALIBRATION_METHODS,
  MODEL_KINDS,
  crossValidatePipeline,
  type CalibrationMethod,
  type ModelKind,
} from "../ml/index.js";
import { Command } from "commander";
import { costMatrix } from "../data/index.js";
import { writeJson } from "./common.js";
import { addDatasetOptions, loadTrainingData, type DatasetCliOptions } from "./dataset-options.js";
import { choiceOption, intOption } from "./options.js";
import { Progress } from "./progress.js";

interface CvOptions extends DatasetCliOptions {
  algorithm: ModelKind;
  folds: number;
  repeats: number;
  seed: number;
  calibration: CalibrationMethod;
  threads?: number;
  json?: boolean;
}

export function cvCommand(): Command {
  const cmd = new Command("cv")
    .summary("estimate model quality by repeated stratified cross-validation")
    .description(
      "Estimate a model's quality by repeated stratified k-fold cross-validation. In every fold the whole pipeline (model, calibration, cost-minimising threshold) is trained on the training part only and scored on the held-out part.",
    )
    .option(
      "-a, --algorithm <name>",
      `one of ${MODEL_KINDS.join(", ")}`,
      choiceOption("--algorithm", MODEL_KINDS),
      "blend",
    )
    .option("--folds <n>", "folds per repetition", intOption("--folds", 2, 100), 10)
    .option(
      "--repeats <n>",
      "repetitions with different shuffles",
      intOption("--repeats", 1, 100),
      5,
    )
    .option("--seed <n>", "seed for folds and models", intOption("--seed", 0, 2 ** 32 - 1), 0)
    .option(
      "--calibration <method>",
      `probability calibration of single models: ${CALIBRATION_METHODS.join(", ")}`,
      choiceOption("--calibration", CALIBRATION_METHODS),
      "platt",
    )
    .option("--threads <n>", "worker threads (default: all cores)", intOption("--threads", 1, 256))
    .option("--json", "print one JSON object on stdout instead of a table");
  return addDatasetOptions(cmd).action(async (opts: CvOptions) => {
    const started = performance.now();
    const data = await loadTrainingData(opts);
    const progress = new Progress(`cv ${opts.algorithm}`);
    const result = await crossValidatePipeline({
      data: data.table,
      options: {
        kind: opts.algorithm,
        calibration: opts.calibration,
        costs: costMatrix(data.spec),
      },
      folds: opts.folds,
      repeats: opts.repeats,
      seed: opts.seed,
      threads: opts.threads,
      onProgress: (done, total) => progress.update(done, total, "folds"),
    });
    progress.done();
    const metrics = Object.fromEntries(
      Object.entries(result.summary).map(([name, s]) => [
        name,
        { mean: s.mean, std: s.std, higherIsBetter: s.higherIsBetter },
      ]),
    );
    const thresholds = result.folds.map((f) => f.threshold);
    const thresholdMean = thresholds.reduce((a, b) => a + b, 0) / thresholds.length;
    const report = {
      algorithm: opts.algorithm,
      dataset: { name: data.spec.name, version: data.spec.version },
      data: { path: data.path, rows: data.rows, bad: data.bad, sha256: data.digest },
      protocol: { folds: opts.folds, repeats: opts.repeats, seed: opts.seed, stratified: true },
      calibration: opts.algorithm === "blend" ? "stacker" : opts.calibration,
      metrics,
      threshold: {
        mean: thresholdMean,
        std: Math.sqrt(
          thresholds.reduce((a, t) => a + (t - thresholdMean) ** 2, 0) /
            Math.max(1, thresholds.length - 1),
        ),
      },
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
    };
    if (opts.json) {
      writeJson(report);
      return;
    }
    const lines = [
      `${opts.algorithm}: ${opts.repeats} × ${opts.folds}-fold stratified CV, seed ${opts.seed}, ${data.rows} rows of ${data.spec.name} (${data.bad} ${data.spec.target.riskClass})`,
      "",
      `${"metric".padEnd(16)}${"mean".padStart(10)}${"std".padStart(10)}  better`,
      ...Object.entries(metrics).map(
        ([name, s]) =>
          `${name.padEnd(16)}${s.mean.toFixed(4).padStart(10)}${s.std.toFixed(4).padStart(10)}  ${s.higherIsBetter ? "higher" : "lower"}`,
      ),
      "",
      `decision threshold (P(bad) ≥ t → bad): mean ${report.threshold.mean.toFixed(3)}, std ${report.threshold.std.toFixed(3)}`,
      `${report.seconds.toFixed(1)} s`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  });
}
