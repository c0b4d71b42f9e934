import { CREDIT_SCHEMA, type CreditSchema } from "../data/index.js";
import { createExplainer, topReasons, type Reason } from "../ml/index.js";
import type { ServingModel } from "./model-holder.js";

/** One applicant's decision, before it is logged. */
export interface Scored {
  readonly risk: "good" | "bad";
  readonly probabilityBad: number;
  /** Calibrated probability of the predicted class. */
  readonly confidence: number;
  /** Top factors towards `bad`, exact (see docs/api.md#reasons). */
  readonly reasons: readonly Reason[];
}

/**
 * Scores and explains applicants with one loaded model version. Built once per version (the
 * explainer precomputes per-tree tables), then shared by every request that took this version.
 */
export class Scorer {
  readonly name: string;
  readonly version: number;
  readonly threshold: number;
  readonly schema: CreditSchema;
  private readonly explainer: ReturnType<typeof createExplainer>;
  /** Contributions are read into reasons at once, so one buffer serves every call. */
  private readonly buffer: Float64Array;

  constructor(readonly model: ServingModel) {
    this.name = model.name;
    this.version = model.version;
    this.threshold = model.loaded.pipeline.threshold;
    this.schema = model.loaded.schema ?? CREDIT_SCHEMA;
    this.explainer = createExplainer(model.loaded.pipeline);
    this.buffer = new Float64Array(model.loaded.pipeline.features.length);
  }

  /**
   * `values`: one value per schema column, as the validator produces (category index or
   * number). Reasons are computed for every `bad` decision (a refusal must state them) and for
   * `good` ones only when `explainGood`: exact explanations of a large forest cost milliseconds
   * per applicant (see docs/api.md#scoring).
   */
  score(values: ArrayLike<number>, explainGood: boolean): Scored {
    const probabilityBad = this.model.loaded.pipeline.predictProbaRow(values);
    const bad = probabilityBad >= this.threshold;
    const reasons =
      bad || explainGood
        ? topReasons(this.explainer.explain(values, this.buffer), values, this.schema, 3)
        : [];
    return {
      risk: bad ? "bad" : "good",
      probabilityBad,
      confidence: bad ? probabilityBad : 1 - probabilityBad,
      reasons,
    };
  }
}
