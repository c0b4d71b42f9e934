import { AppError } from "../../core/errors.js";
import {
  featureColumns,
  valueLabel,
  type DatasetSpec,
  type FeatureColumn,
} from "../../data/index.js";
import type { Explanation } from "./explainer.js";

/** One reason for a score: a feature whose value pushed the applicant towards `bad`. */
export interface Reason {
  /** Column name, e.g. `checking_status`. */
  readonly feature: string;
  /** Readable column name, e.g. `Checking account`. */
  readonly label: string;
  /** Canonical value: the category's value (e.g. `<0`) or the number; null when missing. */
  readonly value: string | number | null;
  /** Readable value, e.g. `below 0 DM`, `48 months` or `missing`. */
  readonly valueLabel: string;
  /** The feature's contribution, in the explanation's space. */
  readonly contribution: number;
  /** The reason as shown to the applicant, e.g. `Checking account: below 0 DM`. */
  readonly text: string;
}

/**
 * The `k` features that push the score furthest towards `bad` (largest positive contributions;
 * ties in feature order; features that lower the risk are never reasons). `row` is the
 * explained row: categorical values as indices into the spec's values (NaN when missing), numbers as they are.
 *
 * @example
 *   topReasons(explainer.explain(row), row, spec, 2).map((r) => r.text);
 *   // ["Checking account: below 0 DM", "Duration: 48 months"]
 */
export function topReasons(
  explanation: Explanation,
  row: ArrayLike<number>,
  spec: DatasetSpec,
  k = 3,
): Reason[] {
  const { contributions, features } = explanation;
  return topFeatures(contributions, k).map((f) =>
    reasonFor(spec, features[f], row[f], contributions[f]),
  );
}

/**
 * Indices of the `k` largest positive contributions, largest first (ties in feature order):
 * the features of `topReasons`, as numbers, for code that turns them into reasons elsewhere.
 */
export function topFeatures(contributions: ArrayLike<number>, k = 3): number[] {
  const candidates: number[] = [];
  for (let f = 0; f < contributions.length; f++) if (contributions[f] > 0) candidates.push(f);
  // Array.prototype.sort is stable, so equal contributions keep feature order.
  candidates.sort((a, b) => contributions[b] - contributions[a]);
  return candidates.slice(0, Math.max(0, k));
}

/** The reason for one feature of the model: `x` its value in the row, as the model reads it. */
export function reasonFor(
  spec: DatasetSpec,
  feature: string,
  x: number,
  contribution: number,
): Reason {
  const column = columnsByName(spec).get(feature);
  if (!column) {
    throw new AppError(
      "SCHEMA_MISMATCH",
      `the model's feature ${JSON.stringify(feature)} is not a feature column of the dataset spec "${spec.name}"`,
    );
  }
  const { value, valueLabel } = describe(column, x);
  return {
    feature: column.name,
    label: column.label,
    value,
    valueLabel,
    contribution,
    text: `${column.label}: ${valueLabel}`,
  };
}

/** Specs are immutable and few: one lookup table each, not one per explained row. */
const BY_NAME = new WeakMap<DatasetSpec, Map<string, FeatureColumn>>();

function columnsByName(spec: DatasetSpec): Map<string, FeatureColumn> {
  let byName = BY_NAME.get(spec);
  if (!byName) {
    byName = new Map(featureColumns(spec).map((c) => [c.name, c]));
    BY_NAME.set(spec, byName);
  }
  return byName;
}

function describe(
  column: FeatureColumn,
  x: number,
): { value: string | number | null; valueLabel: string } {
  if (x !== x) return { value: null, valueLabel: "missing" };
  if (column.kind === "categorical") {
    const v = Number.isInteger(x) ? column.values[x] : undefined;
    return v ? { value: v.value, valueLabel: v.label } : { value: x, valueLabel: "unknown" };
  }
  return { value: x, valueLabel: valueLabel(column, x) };
}
