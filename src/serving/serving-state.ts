import type { DecisionLog } from "../decisions/index.js";
import type { ModelHolder } from "./model-holder.js";
import type { ServingMetrics } from "./metrics.js";
import { Scorer } from "./scoring.js";

/**
 * What the scoring routes share: the model holder (following `name@champion`), the scorer of
 * the serving version (built once per version), the decision log and the metrics.
 */
export class ServingState {
  private scorer: Scorer | null = null;

  constructor(
    readonly holder: ModelHolder,
    readonly log: DecisionLog,
    readonly serving: ServingMetrics,
  ) {}

  /** Called by the holder with each newly loaded version, before it serves. */
  prepare(model: NonNullable<ReturnType<ModelHolder["current"]>>): void {
    this.scorer = new Scorer(model);
    this.serving.setModel(model.name, model.version);
  }

  /**
   * The scorer of the version serving now. A request takes it once and uses it to the end, so a
   * switch to a new version never changes the model under a request in flight.
   */
  requireScorer(): Scorer {
    const model = this.holder.require();
    if (this.scorer === null || this.scorer.model !== model) this.prepare(model);
    return this.scorer as Scorer;
  }

  readonly metrics = {
    count: (risk: "good" | "bad", source: string, probabilityBad: number): void => {
      this.serving.predictions.inc({ risk, source });
      this.serving.probabilityBad.observe(probabilityBad);
    },
  };
}
