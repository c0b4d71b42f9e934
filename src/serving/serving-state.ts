import type { DecisionLog } from "../decisions/index.js";
import type { ModelHolder, ServingModel } from "./model-holder.js";
import type { ServingMetrics } from "./metrics.js";
import type { ReferenceProfile } from "../monitoring/reference-profile.js";
import { RecentWindow } from "./recent-window.js";
import { Scorer } from "./scoring.js";

/**
 * What the scoring routes share: the model holder (following `name@champion`), the scorer of
 * the serving version (built once per version), the decision log and the metrics.
 */
export class ServingState {
  private scorer: Scorer | null = null;
  /** The loaded version `scorer` was built for. */
  private scored: ServingModel | null = null;

  /** The latest decisions, compared with the serving version's training data on /metrics. */
  readonly recent: RecentWindow;

  constructor(
    readonly holder: ModelHolder,
    readonly log: DecisionLog,
    readonly serving: ServingMetrics,
    /** The reference profile of a version (null when it has none). */
    private readonly referenceOf: (
      model: ServingModel,
    ) => Promise<ReferenceProfile | null> = async () => null,
  ) {
    this.recent = new RecentWindow(serving.registry);
  }

  /** Called by the holder with each newly loaded version, before it serves. */
  prepare(model: ServingModel): void {
    // The previous version's requests in flight keep their scorer; its workers stop after them.
    this.scorer?.retire();
    this.scorer = new Scorer({
      name: model.name,
      version: model.version,
      pipeline: model.loaded.pipeline,
      spec: model.loaded.spec,
    });
    this.scored = model;
    this.serving.setModel(model.name, model.version);
    this.recent.restart(model.loaded.spec);
    void this.referenceOf(model).then(
      (profile) => {
        if (this.scored === model) this.recent.setReference(profile);
      },
      () => {},
    );
  }

  /** Stops the scoring workers (at shutdown, after the server stopped taking requests). */
  close(): void {
    this.scorer?.retire();
  }

  /**
   * The scorer of the version serving now. A request takes it once and uses it to the end, so a
   * switch to a new version never changes the model under a request in flight.
   */
  requireScorer(): Scorer {
    const model = this.holder.require();
    if (this.scorer === null || this.scored !== model) this.prepare(model);
    return this.scorer as Scorer;
  }

  readonly metrics = {
    /** One logged decision: the counters, and the real-time window (`values` as validated). */
    count: (
      risk: "good" | "bad",
      source: string,
      probabilityBad: number,
      values: ArrayLike<number>,
    ): void => {
      this.serving.predictions.inc({ risk, source });
      this.serving.probabilityBad.observe(probabilityBad);
      this.recent.add(values, probabilityBad, risk === "bad");
    },
  };
}
