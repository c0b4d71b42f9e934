import { Rng } from "../core/rng.js";
import type { DriftFrame } from "./drift.js";

/** Decisions the charts of a report draw from at most (the tests use every decision). */
export const CHART_SAMPLE = 20_000;

/**
 * A uniform random sample of the window's decisions for the report's charts (reservoir
 * sampling, seeded, so the same window gives the same charts): bounded memory for any window.
 */
export class ChartSample {
  private readonly rng = new Rng(20_261_127);
  private readonly rows: { values: (string | number | null)[]; probability: number }[] = [];
  private seen = 0;

  constructor(
    private readonly size: number,
    private readonly schema: readonly { name: string; kind: "numeric" | "categorical" }[],
  ) {}

  offer(
    frame: Record<string, (string | null)[] | Float64Array>,
    i: number,
    probability: number,
  ): void {
    this.seen++;
    const slot = this.seen <= this.size ? this.rows.length : this.rng.int(this.seen);
    if (slot >= this.size) return;
    const row = { values: this.schema.map((c) => frame[c.name][i]), probability };
    this.rows[slot] = row;
  }

  frame(): DriftFrame {
    return Object.fromEntries(
      this.schema.map((c, j) => [
        c.name,
        c.kind === "numeric"
          ? Float64Array.from(this.rows, (r) => r.values[j] as number)
          : this.rows.map((r) => r.values[j] as string | null),
      ]),
    );
  }

  probabilities(): Float64Array {
    return Float64Array.from(this.rows, (r) => r.probability);
  }
}
