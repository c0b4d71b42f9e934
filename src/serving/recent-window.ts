import { Gauge, type Registry } from "prom-client";
import { type DatasetSpec, type FeatureColumn, featureColumns } from "../data/index.js";
import { type DatasetDrift, detectDrift } from "../monitoring/drift.js";
import { type ReferenceProfile, profileFrame } from "../monitoring/reference-profile.js";

/** Decisions the real-time window holds (the latest ones). */
export const RECENT_WINDOW = 500;

/** How long a drift result of the window is reused across scrapes. */
const RECOMPUTE_MS = 10_000;

/**
 * The real-time views of every served model's recent decisions, as Prometheus gauges labelled
 * `model`: one window per registered model served (see `RecentWindow`), kept while the server
 * runs.
 */
export class RecentWindows {
  private readonly windows = new Map<string, RecentWindow>();

  constructor(registry: Registry) {
    const windows = this.windows;
    const gauge = (
      name: string,
      help: string,
      labelNames: string[],
      fill: (g: Gauge, model: string, w: RecentWindow) => void,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["model", ...labelNames],
        registers: [registry],
        collect() {
          this.reset();
          for (const [model, w] of windows) fill(this, model, w);
        },
      });
    gauge(
      "riskometer_recent_decisions",
      `Decisions in the real-time window (the latest ${RECENT_WINDOW})`,
      [],
      (g, model, w) => g.set({ model }, w.size),
    );
    gauge(
      "riskometer_recent_refused_share",
      "Share of the real-time window's decisions that were refusals",
      [],
      (g, model, w) => {
        const share = w.refusedShare();
        if (share !== null) g.set({ model }, share);
      },
    );
    gauge(
      "riskometer_recent_feature_drift_score",
      "Per-feature drift of the real-time window against the serving model's training data (p-value or distance)",
      ["feature", "test"],
      (g, model, w) => {
        for (const c of w.drift()?.columns ?? []) {
          const v = c.pValue ?? c.statistic;
          if (c.test && v !== null && Number.isFinite(v))
            g.set({ model, feature: c.column, test: c.test }, v);
        }
      },
    );
    gauge(
      "riskometer_recent_feature_drift_detected",
      "1 when the real-time window drifted from the training data in the feature, else 0",
      ["feature", "test"],
      (g, model, w) => {
        for (const c of w.drift()?.columns ?? []) {
          if (c.test) g.set({ model, feature: c.column, test: c.test }, c.drift ? 1 : 0);
        }
      },
    );
    gauge(
      "riskometer_recent_drift_share",
      "Share of the features that drifted in the real-time window",
      [],
      (g, model, w) => {
        const d = w.drift();
        if (d) g.set({ model }, d.driftShare);
      },
    );
  }

  /** The window of a registered model's decisions. */
  of(model: string): RecentWindow {
    let w = this.windows.get(model);
    if (!w) {
      w = new RecentWindow();
      this.windows.set(model, w);
    }
    return w;
  }
}

/**
 * The real-time view of one model's recent decisions: a ring of the latest applicants (as the
 * validator encodes them) and their probabilities, filled as predictions are made, and compared
 * with the serving version's reference profile when Prometheus scrapes (at most every 10 s; the
 * tests of a 500-row window against a 1,000-row reference take a few milliseconds). Between the
 * 3-hourly reports this is what shows a shift within minutes.
 */
export class RecentWindow {
  /** The serving version's feature columns and, per column, the window's values. */
  private columns: readonly FeatureColumn[] = [];
  private values: Float64Array[] = [];
  private readonly probabilities = new Float64Array(RECENT_WINDOW);
  private readonly bad = new Uint8Array(RECENT_WINDOW);
  private next = 0;
  private held = 0;
  private reference: ReferenceProfile | null = null;
  private cached: { at: number; drift: DatasetDrift | null } | null = null;

  /** Decisions held (at most RECENT_WINDOW). */
  get size(): number {
    return this.held;
  }

  /** Share of the held decisions that were refusals; null while it holds none. */
  refusedShare(): number | null {
    if (this.held === 0) return null;
    return this.bad.subarray(0, this.held).reduce((a, b) => a + b, 0) / this.held;
  }

  /**
   * A new version serves: its decisions (on its dataset spec) start a new window, compared once
   * its reference loads.
   */
  restart(spec: DatasetSpec): void {
    this.columns = featureColumns(spec);
    this.values = this.columns.map(() => new Float64Array(RECENT_WINDOW));
    this.reference = null;
    this.held = 0;
    this.next = 0;
    this.cached = null;
  }

  /** The serving version's reference profile (null when it has none). */
  setReference(profile: ReferenceProfile | null): void {
    this.reference = profile;
    this.cached = null;
  }

  /** One decision: the applicant's values (one per feature column of the spec, as validated). */
  add(values: ArrayLike<number>, probabilityBad: number, bad: boolean): void {
    const at = this.next;
    for (let j = 0; j < this.values.length; j++) this.values[j][at] = values[j];
    this.probabilities[at] = probabilityBad;
    this.bad[at] = bad ? 1 : 0;
    this.next = (at + 1) % RECENT_WINDOW;
    this.held = Math.min(RECENT_WINDOW, this.held + 1);
  }

  /** The window against the reference (null without a reference or decisions), cached 10 s. */
  drift(): DatasetDrift | null {
    const now = Date.now();
    if (this.cached && now - this.cached.at < RECOMPUTE_MS) return this.cached.drift;
    let drift: DatasetDrift | null = null;
    if (this.reference && this.held > 0) {
      const current: Record<string, (string | null)[] | Float64Array> = {};
      this.columns.forEach((column, j) => {
        const held = this.values[j].subarray(0, this.held);
        current[column.name] =
          column.kind === "numeric"
            ? Float64Array.from(held)
            : Array.from(held, (v) => column.values[v]?.value ?? null);
      });
      drift = detectDrift(
        this.columns.map((c) => ({ name: c.name, kind: c.kind })),
        profileFrame(this.reference),
        current,
      );
    }
    this.cached = { at: now, drift };
    return drift;
  }
}
