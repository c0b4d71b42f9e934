/** Shared fixtures of the tests of missing values in trees and their ensembles. */
import type { Rng } from "../../core/rng.js";
import type { LabeledTable } from "../types.js";
import { Tree } from "./tree.js";

/** The same tree with other missing-value sides (and, if given, other thresholds). */
export function withMissingSides(
  t: Tree,
  missingLeft: Uint8Array,
  threshold: Float64Array = t.threshold,
): Tree {
  return new Tree(
    t.nLeaves,
    t.feature,
    threshold,
    t.categorical,
    t.left,
    t.right,
    t.gain,
    t.cover,
    t.leafValue,
    t.leafCover,
    t.catOffsets,
    t.catValues,
    missingLeft,
  );
}

/**
 * One numeric feature x in 0..99 (ten rows each): 80% bad below 30, 10% from 30 on; 200 rows
 * without x, 80% bad, as risky as low x.
 */
export function missingLikeLow(): LabeledTable {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const copy = Math.floor(i / 100);
    x.push(i % 100);
    y.push(i % 100 < 30 ? Number(copy < 8) : Number(copy === 0));
  }
  for (let i = 0; i < 200; i++) {
    x.push(NaN);
    y.push(Number(i % 5 !== 0));
  }
  return {
    features: [{ name: "x", kind: "numeric" }],
    columns: [Float64Array.from(x)],
    n: x.length,
    y: Uint8Array.from(y),
  };
}

/** The table with numeric values missing, more often for bad rows (30% against 10%). */
export function withMissingValues(t: LabeledTable, rng: Rng): LabeledTable {
  const columns = t.columns.map((c, f) =>
    t.features[f].kind === "numeric"
      ? c.map((v, i) => (rng.next() < (t.y[i] ? 0.3 : 0.1) ? NaN : v))
      : c.slice(),
  );
  return { ...t, columns };
}
