import { AppError } from "../../core/errors.js";
import { PACKAGE_VERSION } from "../../core/version.js";
import {
  checkSpec,
  featureColumns,
  specFromLegacySchema,
  type DatasetSpec,
} from "../../data/index.js";
import { FittedPipeline, type PipelineJson } from "./pipeline.js";
import { decodeModelEnvelope, readModelEnvelope, writeModelFile } from "./model-file.js";
import type { TrainResult } from "./train.js";

/** What a model file holds besides its envelope (see docs/model-file.md). */
export interface ModelBody {
  readonly package: { readonly name: "riskometer"; readonly version: string };
  /** The dataset spec the model was trained on; applicants are validated against it. */
  readonly dataset: DatasetSpec;
  readonly model: PipelineJson;
  readonly training: {
    readonly data: {
      readonly file: string;
      readonly sha256: string;
      readonly rows: number;
      readonly bad: number;
    };
    readonly seed: number;
    readonly trials: number;
    readonly chosen: string;
    readonly split: TrainResult["split"];
    readonly tuning: TrainResult["tuning"];
    readonly candidates: TrainResult["candidates"];
  };
  /** The chosen candidate's metrics: CV on the training part, and on the held-out test set. */
  readonly metrics: {
    readonly cv: TrainResult["candidates"][number]["cv"];
    readonly test: Record<string, number>;
  };
  /** Share of the model's decisions attributable to each feature (sums to 1). */
  readonly featureImportance: Record<string, number>;
}

export interface LoadedModel {
  readonly body: ModelBody;
  readonly pipeline: FittedPipeline;
  readonly spec: DatasetSpec;
}

export function buildModelBody(
  result: TrainResult,
  spec: DatasetSpec,
  info: { file: string; sha256: string; rows: number; bad: number; seed: number; trials: number },
): ModelBody {
  const chosen = result.candidates.find((c) => c.name === result.chosen);
  if (!chosen) throw new AppError("INTERNAL", `chosen candidate ${result.chosen} has no report`);
  const importance = result.model.featureImportance();
  return {
    package: { name: "riskometer", version: PACKAGE_VERSION },
    dataset: spec,
    model: result.model.toJSON(),
    training: {
      data: { file: info.file, sha256: info.sha256, rows: info.rows, bad: info.bad },
      seed: info.seed,
      trials: info.trials,
      chosen: result.chosen,
      split: result.split,
      tuning: result.tuning,
      candidates: result.candidates,
    },
    metrics: { cv: chosen.cv, test: chosen.test },
    featureImportance: Object.fromEntries(
      result.model.features.map((f, i) => [f.name, Number(importance[i].toFixed(6))]),
    ),
  };
}

export async function saveModel(path: string, body: ModelBody): Promise<void> {
  await writeModelFile(path, body);
}

/** Reads, verifies and rebuilds a model file. */
export async function loadModel(path: string): Promise<LoadedModel> {
  return rebuildModel(await readModelEnvelope(path), `model file ${path}`);
}

/** Verifies and rebuilds a model from its file text (e.g. fetched from the artifact store). */
export function parseModel(text: string, source: string): LoadedModel {
  return rebuildModel(decodeModelEnvelope(text, source), source);
}

function rebuildModel(
  decoded: { formatVersion: number; body: unknown },
  source: string,
): LoadedModel {
  const raw = decoded.body as Record<string, unknown> | null;
  if (!raw || typeof raw !== "object" || !raw.model) {
    throw new AppError("MODEL_FILE_INVALID", `${source} lacks its model`);
  }
  // Format 1 carried the German credit schema in its first form as `schema`.
  const legacy = raw.schema as { columns?: unknown } | undefined;
  let spec: DatasetSpec;
  if (decoded.formatVersion === 1) {
    if (!legacy || !Array.isArray(legacy.columns)) {
      throw new AppError("MODEL_FILE_INVALID", `${source} lacks its schema`);
    }
    spec = specFromLegacySchema(legacy, source);
  } else {
    if (!raw.dataset) throw new AppError("MODEL_FILE_INVALID", `${source} lacks its dataset spec`);
    spec = checkSpec(raw.dataset, `${source}: its dataset spec`);
  }
  const { schema: _legacy, ...rest } = raw;
  void _legacy;
  const body = { ...rest, dataset: spec } as unknown as ModelBody;
  const pipeline = FittedPipeline.fromJSON(body.model);
  const names = featureColumns(spec).map((c) => c.name);
  if (
    names.length !== pipeline.features.length ||
    names.some((n, i) => n !== pipeline.features[i].name)
  ) {
    throw new AppError(
      "MODEL_FILE_INVALID",
      `${source}: its dataset spec and model features disagree`,
    );
  }
  return { body, pipeline, spec };
}
