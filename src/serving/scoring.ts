import { createPool, type WorkerPool } from "../core/pool.js";
import type { DatasetSpec } from "../data/index.js";
import type { DecisionTuple } from "../decisions/index.js";
import {
  createExplainer,
  type Explainer,
  type FittedPipeline,
  reasonFor,
  type Reason,
  topFeatures,
} from "../ml/index.js";
import type { DecideBatchInput, DecideShared } from "./scoring-jobs.js";

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

/** One applicant's decision, before it is logged. */
export interface Scored {
  readonly risk: "good" | "bad";
  readonly probabilityBad: number;
  /** Calibrated probability of the predicted class. */
  readonly confidence: number;
  /** Top factors towards `bad`, exact (see docs/api.md#reasons). */
  readonly reasons: readonly Reason[];
}

/** A loaded model version as scoring needs it. */
export interface ScorerModel {
  readonly name: string;
  readonly version: number;
  readonly pipeline: FittedPipeline;
  readonly spec: DatasetSpec;
}

/** The scoring jobs' module, compiled or source, beside this one (see core/pool.ts). */
const SCORING_JOBS = new URL(
  `./scoring-jobs${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`,
  import.meta.url,
).href;

/**
 * Scores and explains applicants with one model version. Built once per version (the explainer
 * precomputes per-tree tables), then shared by every request that took this version. Reasons
 * are computed for every `bad` decision (a refusal must state them) and for `good` ones only
 * when asked: exact explanations of a large forest cost milliseconds per applicant (see
 * docs/api.md#scoring).
 */
export class Scorer {
  readonly name: string;
  readonly version: number;
  readonly threshold: number;
  readonly spec: DatasetSpec;
  private readonly pipeline: FittedPipeline;
  private readonly explainer: Explainer;
  /** Contributions are read into reasons at once, so one buffer serves every call. */
  private readonly buffer: Float64Array;
  private readonly top = topReasonsBuffer();
  /** Worker threads for files, started by the first file this version scores. */
  private pool: WorkerPool<DecideBatchInput, DecisionTuple[]> | null = null;
  private running = 0;
  private retired = false;

  constructor(model: ScorerModel) {
    this.name = model.name;
    this.version = model.version;
    this.pipeline = model.pipeline;
    this.threshold = model.pipeline.threshold;
    this.spec = model.spec;
    this.explainer = createExplainer(model.pipeline);
    this.buffer = new Float64Array(model.pipeline.features.length);
  }

  /** One applicant: `values` has one value per feature column of the spec, as the validator produces. */
  score(values: ArrayLike<number>, explainGood: boolean): Scored {
    const top = this.top;
    const probabilityBad = this.scoreInto(values, explainGood, top);
    const reasons: Reason[] = [];
    for (let r = 0; r < top.count; r++) {
      const f = top.features[r];
      reasons.push(
        reasonFor(this.spec, this.pipeline.features[f].name, values[f], top.contributions[r]),
      );
    }
    return { ...this.classify(probabilityBad), probabilityBad, reasons };
  }

  /**
   * `score` without objects: returns the probability of bad and leaves the top reasons (feature
   * indices and contributions) in `top`. For code that serialises decisions directly.
   */
  scoreInto(values: ArrayLike<number>, explainGood: boolean, top: TopReasons): number {
    const probabilityBad = this.pipeline.predictProbaRow(values);
    top.count = 0;
    if (probabilityBad >= this.threshold || explainGood) {
      const { contributions } = this.explainer.explain(values, this.buffer);
      const features = topFeatures(contributions, REASONS);
      for (const f of features) {
        top.features[top.count] = f;
        top.contributions[top.count++] = contributions[f];
      }
    }
    return probabilityBad;
  }

  /** The class and its confidence for a probability of bad. */
  classify(probabilityBad: number): { risk: "good" | "bad"; confidence: number } {
    const bad = probabilityBad >= this.threshold;
    return { risk: bad ? "bad" : "good", confidence: bad ? probabilityBad : 1 - probabilityBad };
  }

  /**
   * A batch of a file as finished decision rows, made in worker threads (scoring and exact
   * explanations are the costly part) while the calling thread goes on logging earlier ones.
   */
  async decideBatch(input: DecideBatchInput): Promise<DecisionTuple[]> {
    if (this.pool === null) {
      const shared: DecideShared = {
        name: this.name,
        version: this.version,
        model: this.pipeline.toJSON(),
        spec: this.spec,
      };
      this.pool = createPool({ module: SCORING_JOBS, fn: "decideBatchJob" }, shared);
    }
    const pool = this.pool;
    this.running++;
    try {
      return await pool.run(input);
    } catch (e) {
      // A failed pool stays failed: the next file gets a fresh one.
      if (this.pool === pool) this.pool = null;
      void pool.close();
      throw e;
    } finally {
      this.running--;
      if (this.retired && this.running === 0) void this.closePool();
    }
  }

  /** This version no longer serves: its workers stop once the files they are scoring are done. */
  retire(): void {
    this.retired = true;
    if (this.running === 0) void this.closePool();
  }

  private async closePool(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
  }
}
