import {
  REFERENCE_PROFILE_ARTIFACT,
  buildReferenceProfile,
} from "../monitoring/reference-profile.js";
import { createHash } from "node:crypto";
import { basename } from "node:path";
import {
  barChart,
  calibrationChart,
  confusionMatrixChart,
  foldScoresChart,
  rocCurveChart,
} from "../charts/index.js";
import {
  costMatrix,
  defaultSpec,
  featureColumns,
  specToJson,
  type DatasetSpec,
  type TrainingData,
} from "../data/index.js";
import type { AppContext } from "../main.js";
import {
  ALGORITHM_NAMES,
  METRICS,
  MODEL_KINDS,
  buildModelBody,
  encodeModelFile,
  nestedEstimate,
  trainModel,
  type ModelKind,
  type TrainResult,
} from "../ml/index.js";
import type { AliasAuditRecord, ModelVersion } from "../registry/index.js";
import { signatureOf } from "../registry/index.js";
import type { ActiveRun } from "../tracking/index.js";

export interface TrainFlowOptions {
  /** The rows and the dataset spec they were validated against (carried by the version). */
  readonly data: TrainingData;
  /**
   * Registered model the version is added to (default: the configured model name for German
   * credit, else the spec's name, so another data set never adds versions to the default model).
   */
  readonly modelName?: string;
  readonly trials: number;
  readonly seed: number;
  readonly threads?: number;
  readonly candidates?: readonly ModelKind[];
  /** Candidates recorded as child runs, best CV cost first (default 5). */
  readonly top?: number;
  /**
   * Also estimate each algorithm's tune-then-fit procedure by nested CV (slow: the search runs
   * once per outer fold) and log it on the parent run as `nested_cv_<algorithm>_<metric>`.
   */
  readonly nestedCv?: boolean;
  /** Who registers the version (the four-eyes rule keeps them from approving it). */
  readonly actor: string;
  readonly onProgress?: (stage: string, done: number, total: number) => void;
  /** Called with the parent run's id as soon as it exists. */
  readonly onRunStarted?: (runId: string) => void;
}

export interface CandidateRunSummary {
  readonly name: string;
  readonly runId: string;
  readonly chosen: boolean;
  readonly cv: Record<string, { mean: number; std: number }>;
  readonly test: Record<string, number>;
}

export interface TrainFlowResult {
  readonly experimentId: string;
  readonly parentRunId: string;
  readonly chosenRunId: string;
  readonly chosen: string;
  readonly version: ModelVersion;
  /** Set when this version became the serving one by the first-install bootstrap. */
  readonly bootstrap: AliasAuditRecord | null;
  readonly candidates: readonly CandidateRunSummary[];
  readonly threshold: number;
  /** How much work each stage did for this data size. */
  readonly budget: TrainResult["budget"];
  readonly model: TrainResult["model"];
  /** The model file text, as stored in the artifact store. */
  readonly modelFile: string;
}

const MODEL_ARTIFACT = "model/model.json";
const SPEC_ARTIFACT = "dataset-spec.json";

/** The registered model a data set trains by default: the configured one for German credit. */
export function defaultModelName(spec: DatasetSpec, configured: string): string {
  return spec.name === defaultSpec().name ? configured : spec.name;
}

/**
 * The training flow: validate the data, tune and compare candidates (see `trainModel`), record a
 * parent run with one child run per top candidate (params, CV mean and std, per-fold history,
 * test-set metrics), store the chosen model and its plots as artifacts, and register it as a new
 * version. It never moves the serving alias, except by the first-install bootstrap when that
 * setting is on and no version of any model has ever served (audited as such).
 *
 * Crash safety: the version is registered in one transaction after its model file is stored;
 * runs of a process that dies are ended by the reaper at the next start.
 */
export async function runTrainFlow(
  ctx: AppContext,
  opts: TrainFlowOptions,
): Promise<TrainFlowResult> {
  const { tracking, registry, config } = ctx;
  const spec = opts.data.spec;
  const modelName = opts.modelName ?? defaultModelName(spec, config.modelName);
  const top = opts.top ?? 5;
  const kinds = opts.candidates ?? MODEL_KINDS;
  const experiment = await tracking.experiment(config.experimentName);
  const parent = await tracking.startRun({
    experimentId: experiment.id,
    name: `train ${new Date(tracking.now()).toISOString().slice(0, 16).replace("T", " ")}`,
    tags: { flow: "train", model: modelName, dataset: spec.name, actor: opts.actor },
  });
  opts.onRunStarted?.(parent.id);
  const children: ActiveRun[] = [];
  try {
    const { data } = opts;
    await parent.logParams({
      trials: opts.trials,
      seed: opts.seed,
      candidates: kinds.join(","),
      top,
      nested_cv: Boolean(opts.nestedCv),
      test_fraction: 0.2,
      data_file: basename(data.path),
      dataset: `${spec.name} v${spec.version}`,
    });
    // The spec as a file beside the run: what the columns meant when this run trained.
    await parent.logArtifact(SPEC_ARTIFACT, specToJson(spec));
    await parent.logInputs([
      { name: basename(data.path), digest: data.digest, role: "train", rows: data.rows },
    ]);

    const result = await trainModel({
      data: data.table,
      trials: opts.trials,
      seed: opts.seed,
      threads: opts.threads,
      candidates: kinds,
      costs: costMatrix(spec),
      onProgress: opts.onProgress,
    });
    await parent.logParams({
      tune_rows: result.budget.tuneRows,
      tune_folds: result.budget.tuneFolds,
      eval_folds: result.budget.evalFolds,
      eval_repeats: result.budget.evalRepeats,
      runners_up: result.budget.runnersUp,
    });
    await logTuning(parent, result);
    if (opts.nestedCv) {
      const algorithms = ALGORITHM_NAMES.filter(
        (a) => kinds.includes(a) || kinds.includes("blend"),
      );
      const nested = await nestedEstimate({
        data: data.table,
        algorithms,
        trials: opts.trials,
        seed: opts.seed,
        threads: opts.threads,
        onProgress: opts.onProgress,
      });
      await parent.logMetrics(
        Object.fromEntries(
          Object.entries(nested).flatMap(([algorithm, metrics]) =>
            Object.entries(metrics ?? {}).flatMap(([k, s]) => [
              [`nested_cv_${algorithm}_${k}`, s.mean],
              [`nested_cv_${algorithm}_${k}_std`, s.std],
            ]),
          ),
        ),
      );
    }
    const testDigest = digestRows(data.digest, result.testRows);
    await parent.logInputs([
      {
        name: `${basename(data.path)} (held-out test rows)`,
        digest: testDigest,
        role: "test",
        rows: result.split.testRows,
      },
    ]);

    const ranked = [...result.candidates].sort(
      (a, b) => a.cv.cost.mean - b.cv.cost.mean || a.name.localeCompare(b.name),
    );
    // The chosen candidate is always recorded, even when simpler than the top N by cost.
    const recorded = ranked.slice(0, top);
    const chosenReport = ranked.find((c) => c.name === result.chosen);
    if (chosenReport && !recorded.includes(chosenReport)) recorded.push(chosenReport);

    const summaries: CandidateRunSummary[] = [];
    let chosenRun: ActiveRun | null = null;
    for (const [rank, candidate] of recorded.entries()) {
      opts.onProgress?.("record candidates", rank, recorded.length);
      const child = await tracking.startRun({
        experimentId: experiment.id,
        name: candidate.name,
        parentRunId: parent.id,
        tags: {
          kind: candidate.kind,
          rank: String(rank + 1),
          chosen: String(candidate.name === result.chosen),
        },
      });
      children.push(child);
      await child.logParams({ kind: candidate.kind, ...flattenParams(candidate.params) });
      await child.logInputs([
        {
          name: basename(data.path),
          digest: data.digest,
          role: "train",
          rows: result.split.trainRows,
        },
        {
          name: `${basename(data.path)} (held-out test rows)`,
          digest: testDigest,
          role: "test",
          rows: result.split.testRows,
        },
      ]);
      const evidence = result.evidence[candidate.name];
      await child.logMetrics({
        ...Object.fromEntries(Object.entries(candidate.cv).map(([k, s]) => [`cv_${k}`, s.mean])),
        ...Object.fromEntries(Object.entries(candidate.cv).map(([k, s]) => [`cv_${k}_std`, s.std])),
        ...Object.fromEntries(Object.entries(candidate.test).map(([k, v]) => [`test_${k}`, v])),
      });
      const folds = Math.max(...evidence.folds.map((f) => f.fold)) + 1;
      await child.logBatch({
        metrics: evidence.folds.flatMap((f) =>
          Object.entries(f.metrics)
            .filter(([, v]) => Number.isFinite(v))
            .map(([k, value]) => ({
              key: `cv_fold_${k}`,
              value,
              step: f.repeat * folds + f.fold,
              timestamp: tracking.now(),
            })),
        ),
      });
      await logPlots(child, candidate.name, evidence);
      if (candidate.name === result.chosen) chosenRun = child;
      else await child.end("FINISHED");
      summaries.push({
        name: candidate.name,
        runId: child.id,
        chosen: candidate.name === result.chosen,
        cv: candidate.cv,
        test: candidate.test,
      });
    }
    opts.onProgress?.("record candidates", recorded.length, recorded.length);
    if (!chosenRun) throw new Error(`chosen candidate ${result.chosen} was not recorded`);

    const body = buildModelBody(result, spec, {
      file: basename(data.path),
      sha256: data.digest,
      rows: data.rows,
      bad: data.bad,
      seed: opts.seed,
      trials: opts.trials,
    });
    const modelFile = encodeModelFile(body);
    await chosenRun.logArtifact(MODEL_ARTIFACT, modelFile);
    // What drift reports compare against: this version's training data and its predictions.
    await chosenRun.logArtifact(
      REFERENCE_PROFILE_ARTIFACT,
      JSON.stringify(
        buildReferenceProfile(spec, data.table.columns, result.model.predictProba(data.table)),
      ),
    );
    await chosenRun.logArtifact(
      "plots/feature-importance.svg",
      barChart({
        title: "Feature importance (final model)",
        xLabel: "share of the model's decisions",
        horizontal: true,
        bars: Object.entries(body.featureImportance).map(([name, value]) => ({
          label: labelOf(spec, name),
          value,
        })),
      }),
    );
    await parent.setTags({ chosen: result.chosen, chosen_run_id: chosenRun.id });
    await parent.logMetrics({
      ...Object.fromEntries(Object.entries(body.metrics.cv).map(([k, s]) => [`cv_${k}`, s.mean])),
      ...Object.fromEntries(Object.entries(body.metrics.test).map(([k, v]) => [`test_${k}`, v])),
    });
    await chosenRun.end("FINISHED");

    // The model file is stored; registration is one transaction from here.
    const version = await registry.registerVersion({
      name: modelName,
      runId: chosenRun.id,
      artifactPath: `runs/${chosenRun.id}/${MODEL_ARTIFACT}`,
      description: `${result.chosen}, trained on ${data.rows} rows of ${basename(data.path)} (seed ${opts.seed}, ${opts.trials} trials)`,
      tags: { kind: result.model.kind, candidate: result.chosen },
      signature: signatureOf(spec),
      inputExample: inputExample(data),
      createdBy: opts.actor,
    });
    const bootstrap = config.bootstrapChampion
      ? await registry.bootstrapServing(version.name, version.version)
      : null;
    await parent.setTags({ registered_version: `${version.name}/${version.version}` });
    await parent.end("FINISHED");
    return {
      experimentId: experiment.id,
      parentRunId: parent.id,
      chosenRunId: chosenRun.id,
      chosen: result.chosen,
      version: bootstrap
        ? await registry.store.getModelVersion(version.name, version.version)
        : version,
      bootstrap,
      candidates: summaries,
      threshold: result.model.threshold,
      budget: result.budget,
      model: result.model,
      modelFile,
    };
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    for (const child of children) await child.end("FAILED", reason).catch(() => {});
    await parent.end("FAILED", reason).catch(() => {});
    throw e;
  }
}

/** Each algorithm's tuning trials as metric history on the parent run (step = trial number). */
async function logTuning(parent: ActiveRun, result: TrainResult): Promise<void> {
  const at = Date.now();
  const metrics = Object.entries(result.trials).flatMap(([algorithm, trials]) =>
    (trials ?? [])
      .filter((t) => Number.isFinite(t.value))
      .map((t) => ({ key: `tune_${algorithm}_auc`, value: t.value, step: t.index, timestamp: at })),
  );
  await parent.logBatch({ metrics });
}

async function logPlots(
  run: ActiveRun,
  name: string,
  evidence: TrainResult["evidence"][string],
): Promise<void> {
  const { testProba, testY, testThreshold } = evidence;
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < testY.length; i++) {
    const predictedBad = testProba[i] >= testThreshold;
    if (testY[i] === 1) {
      if (predictedBad) tp++;
      else fn++;
    } else if (predictedBad) fp++;
    else tn++;
  }
  const plots: Record<string, string> = {
    "plots/roc.svg": rocCurveChart({
      scoresBad: testProba,
      labelsBad: testY,
      name,
      title: "ROC curve (held-out test set)",
    }),
    "plots/confusion-matrix.svg": confusionMatrixChart({
      matrix: { tp, fp, tn, fn },
      title: `Confusion matrix (test set, bad if P(bad) ≥ ${testThreshold.toFixed(3)})`,
    }),
    "plots/calibration.svg": calibrationChart({
      probabilities: testProba,
      labelsBad: testY,
      name,
      title: "Calibration (held-out test set)",
    }),
    "plots/cv-folds.svg": foldScoresChart({
      title: "Expected cost per CV fold (lower is better)",
      metric: METRICS.cost.name,
      folds: evidence.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, value: f.metrics.cost })),
    }),
    "plots/cv-folds-auc.svg": foldScoresChart({
      title: "ROC AUC per CV fold",
      metric: "ROC AUC",
      folds: evidence.folds.map((f) => ({ repeat: f.repeat, fold: f.fold, value: f.metrics.auc })),
    }),
  };
  for (const [path, svg] of Object.entries(plots)) await run.logArtifact(path, svg);
}

function flattenParams(params: TrainResult["params"]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, values] of Object.entries(params)) {
    for (const [key, value] of Object.entries(values ?? {}))
      out[`${algorithm}.${key}`] = String(value);
  }
  return out;
}

function labelOf(spec: DatasetSpec, name: string): string {
  return spec.columns.find((c) => c.name === name)?.label ?? name;
}

/**
 * A training row as an applicant record (what the API accepts): the first row with no missing
 * value, else the first row, its missing values left out.
 */
function inputExample(data: TrainingData): Record<string, string | number> {
  const { columns, n } = data.table;
  let row = 0;
  while (row < n && columns.some((c) => Number.isNaN(c[row]))) row++;
  if (row === n) row = 0;
  const example: Record<string, string | number> = {};
  featureColumns(data.spec).forEach((column, j) => {
    const v = columns[j][row];
    if (Number.isNaN(v)) return;
    example[column.name] = column.kind === "categorical" ? column.values[v].value : v;
  });
  return example;
}

/** Names exactly which rows of which file were held out, so two runs' test sets compare. */
function digestRows(fileDigest: string, rows: Int32Array): string {
  return createHash("sha256")
    .update(`${fileDigest}:`)
    .update(Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength))
    .digest("hex");
}
