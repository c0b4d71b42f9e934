import { AppError } from "../core/errors.js";
import { type DatasetSpec, featureColumns } from "../data/index.js";
import {
  createExplainer,
  type Explainer,
  FittedPipeline,
  type PipelineJson,
  reasonFor,
  type Reason,
  topFeatures,
} from "../ml/index.js";

/** Reasons per decision: the top factors towards `bad`. */
export const REASONS = 3;

/** The top reasons of one applicant as numbers: features (pipeline order) and contributions. */
export interface TopReasons {
  count: number;
  readonly features: Int16Array;
  readonly contributions: Float64Array;
}

export function topReasonsBuffer(): TopReasons {
  return { count: 0, features: new Int16Array(REASONS), contributions: new Float64Array(REASONS) };
}

/** What a thread needs to build a scorer: plain data, sent once to each worker thread. */
export interface ScorerSource {
  readonly model: PipelineJson;
  readonly spec: DatasetSpec;
}

/* A worker receives its source once, so the source object's identity keys its scorer. */
const built = new WeakMap<ScorerSource, Scorer>();

/**
 * One model version turning validated applicants (one value per feature column of its dataset
 * spec, as the validator produces them) into probabilities, classes and reasons. Every scoring
 * path (the API, uploads, `riskometer predict` and their worker threads) scores through one.
 * Reasons are exact explanations (see docs/api.md#reasons); the explainer is built on the first
 * explanation, as a file scored without reasons never needs its per-tree tables.
 */
export class Scorer {
  readonly threshold: number;
  private explainer: Explainer | null = null;
  /** Contributions are read into reasons at once, so one buffer serves every call. */
  private readonly buffer: Float64Array;

  constructor(
    readonly pipeline: FittedPipeline,
    readonly spec: DatasetSpec,
  ) {
    // Validated rows hold the spec's feature columns in order, and the model reads them so.
    const names = featureColumns(spec).map((c) => c.name);
    const features = pipeline.features.map((f) => f.name);
    if (names.join("\0") !== features.join("\0")) {
      throw new AppError(
        "SCHEMA_MISMATCH",
        `the model's features (${features.join(", ")}) are not the feature columns of its dataset spec "${spec.name}" (${names.join(", ")})`,
      );
    }
    this.threshold = pipeline.threshold;
    this.buffer = new Float64Array(pipeline.features.length);
  }

  /** The scorer of `source`, built on this thread's first call and kept with the source. */
  static of(source: ScorerSource): Scorer {
    let scorer = built.get(source);
    if (!scorer) {
      scorer = new Scorer(FittedPipeline.fromJSON(source.model), source.spec);
      built.set(source, scorer);
    }
    return scorer;
  }

  /** Calibrated probabilities of bad for a batch of validated rows (one column per feature). */
  probabilities(columns: readonly Float64Array[], n: number): Float64Array {
    return this.pipeline.predictProba({ features: this.pipeline.features, columns, n });
  }

  /**
   * One applicant: returns the probability of bad and leaves its top reasons (feature indices
   * and contributions) in `top`. Reasons are found for every `bad` decision (a refusal must
   * state them) and for `good` ones only when asked: exact explanations of a large forest cost
   * milliseconds per applicant (see docs/api.md#scoring).
   */
  scoreInto(values: ArrayLike<number>, explainGood: boolean, top: TopReasons): number {
    const probabilityBad = this.pipeline.predictProbaRow(values);
    top.count = 0;
    if (this.isBad(probabilityBad) || explainGood) {
      this.explainer ??= createExplainer(this.pipeline);
      const { contributions } = this.explainer.explain(values, this.buffer);
      for (const f of topFeatures(contributions, REASONS)) {
        top.features[top.count] = f;
        top.contributions[top.count++] = contributions[f];
      }
    }
    return probabilityBad;
  }

  /** A decision is `bad` when its probability of bad reaches the version's threshold. */
  isBad(probabilityBad: number): boolean {
    return probabilityBad >= this.threshold;
  }

  /** The class and its confidence (the calibrated probability of that class). */
  classify(probabilityBad: number): { risk: "good" | "bad"; confidence: number } {
    const bad = this.isBad(probabilityBad);
    return { risk: bad ? "bad" : "good", confidence: bad ? probabilityBad : 1 - probabilityBad };
  }

  /** The readable reason for feature `f` (pipeline order) with value `x`. */
  reason(f: number, x: number, contribution: number): Reason {
    return reasonFor(this.spec, this.pipeline.features[f].name, x, contribution);
  }
}
