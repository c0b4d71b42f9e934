import { AppError } from "../core/errors.js";
import type { DecisionLog } from "../decisions/index.js";
import type { ModelHolder, ServingModel } from "./model-holder.js";
import type { ServingMetrics } from "./metrics.js";
import type { ReferenceProfile } from "../monitoring/reference-profile.js";
import type { RecentWindow } from "./recent-window.js";
import { Decider, type DecisionObserver } from "../scoring/index.js";

/**
 * What the scoring routes share: the model holder (following `name@champion`), the decider of
 * the serving version (built once per version), the decision log and the metrics.
 */
export class ServingState {
  private decider: Decider | null = null;
  /** The loaded version `decider` was built for. */
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
    this.recent = serving.recent.of(holder.name);
  }

  /** Called by the holder with each newly loaded version, before it serves. */
  prepare(model: ServingModel): void {
    // The previous version's requests in flight keep their decider; its workers stop after them.
    this.decider?.retire();
    this.decider = new Decider(
      {
        name: model.name,
        version: model.version,
        pipeline: model.loaded.pipeline,
        spec: model.loaded.spec,
      },
      this.log,
      this.count,
    );
    this.scored = model;
    const recent = this.recent;
    this.serving.setModel(model.name, model.version);
    recent.restart(model.loaded.spec);
    void this.referenceOf(model).then(
      (profile) => {
        if (this.scored === model) recent.setReference(profile);
      },
      () => {},
    );
  }

  /** Stops the scoring workers (at shutdown, after the server stopped taking requests). */
  close(): void {
    this.decider?.retire();
  }

  /**
   * The decider of the version serving now. A request takes it once and uses it to the end, so
   * a switch to a new version never changes the model under a request in flight.
   */
  requireDecider(): Decider {
    const model = this.holder.require();
    if (this.decider === null || this.scored !== model) this.prepare(model);
    return this.decider as Decider;
  }

  /** One logged decision: the counters, and the real-time window (`values` as validated). */
  private readonly count: DecisionObserver = (risk, source, probabilityBad, values) => {
    const model = this.holder.name;
    this.serving.predictions.inc({ model, risk, source });
    this.serving.probabilityBad.observe({ model }, probabilityBad);
    this.recent.add(values, probabilityBad, risk === "bad");
  };
}

/** At most this many models besides the primary one are served at once (each follows its alias). */
export const MAX_EXTRA_MODELS = 20;

/**
 * The registered models one server serves: the primary one (the configured name, loaded at
 * start) and any other registered model a request names (`?model=NAME`), loaded on its first
 * request and then following its own `champion` alias. A name the registry does not know is
 * refused (NOT_FOUND) without keeping anything, so unknown names cannot pile up.
 */
export class ServingModels {
  private readonly others = new Map<string, Promise<ServingState>>();

  constructor(
    readonly primary: ServingState,
    /** Opens (and starts) the state of another registered model. */
    private readonly open: (name: string) => Promise<ServingState>,
    /** Whether the registry has a model of this name. */
    private readonly exists: (name: string) => Promise<boolean>,
  ) {}

  /** The state of `name` (default: the primary model). */
  async get(name?: string): Promise<ServingState> {
    if (name === undefined || name === "" || name === this.primary.holder.name) {
      return this.primary;
    }
    const known = this.others.get(name);
    if (known) return known;
    if (!(await this.exists(name))) {
      throw new AppError("NOT_FOUND", `no registered model "${name}"`);
    }
    if (this.others.size >= MAX_EXTRA_MODELS) {
      throw new AppError(
        "CONFLICT",
        `this server already serves ${MAX_EXTRA_MODELS} models besides ${this.primary.holder.name}`,
      );
    }
    const opening = this.open(name);
    this.others.set(name, opening);
    opening.catch(() => this.others.delete(name));
    return opening;
  }

  /** Checks every served model's alias now (after a promotion through this server). */
  async checkAll(): Promise<void> {
    await this.primary.holder.check();
    for (const opening of this.others.values()) {
      const state = await opening.catch(() => null);
      await state?.holder.check();
    }
  }

  /** Stops following the aliases and the scoring workers of every model. */
  async close(): Promise<void> {
    this.primary.holder.stop();
    this.primary.close();
    for (const opening of this.others.values()) {
      const state = await opening.catch(() => null);
      state?.holder.stop();
      state?.close();
    }
  }
}
