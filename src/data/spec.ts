/**
 * Dataset specs: what a data set's columns are, as data instead of code. A spec names each
 * column's kind (numeric, categorical, id, ignored), readable labels, allowed values and ranges,
 * which cell texts mean "missing" and whether a column may be missing, the target and its risk
 * class, the cost matrix and the attributes to watch for fairness. Every model version carries
 * the spec it was trained on; applicants are validated against it.
 *
 * Specs are JSON files (see docs/dataset-spec.md): the spec travels inside the model file, the
 * registry and the API as JSON, so the file a person edits is the very thing that is stored,
 * and no YAML parser (with its implicit types: `NO` read as false, `1e3` as a number) sits
 * between a bank's category codes and the validator.
 */

export const SPEC_FORMAT = "riskometer-dataset-spec";
export const SPEC_FORMAT_VERSION = 1;

/** Cell texts that mean "missing" unless a spec says otherwise (compared case-insensitively). */
export const DEFAULT_MISSING_VALUES: readonly string[] = ["", "NA", "N/A", "null", "NaN"];

/** Accepting a bad applicant costs 5, rejecting a good one 1 (the German credit cost matrix). */
export const DEFAULT_COSTS: Costs = { badAccepted: 5, goodRejected: 1 };

export interface CategoryValue {
  /** Canonical value, as written in the data (e.g. `<0`). */
  readonly value: string;
  /** Readable label for forms and explanations (e.g. `below 0 DM`). */
  readonly label: string;
  /** Other spellings accepted for this value (e.g. the UCI code `A11`). */
  readonly aliases: readonly string[];
  /**
   * The group of every value not listed (rare values grouped at inference): a value the spec
   * does not name is read as this one instead of being refused. At most one per column.
   */
  readonly other?: boolean;
}

interface ColumnBase {
  readonly name: string;
  /** Readable name, e.g. `Checking account`. */
  readonly label: string;
  readonly description?: string;
}

interface FeatureColumnBase extends ColumnBase {
  /**
   * Whether the value may be missing (a missing-value text, or the column absent): the model
   * then scores the applicant with the value missing. Otherwise a missing value is an error.
   */
  readonly allowMissing: boolean;
  /** Extra cell texts that mean missing in this column only (e.g. `-1`). */
  readonly missingValues?: readonly string[];
}

export interface CategoricalColumn extends FeatureColumnBase {
  readonly kind: "categorical";
  readonly values: readonly CategoryValue[];
}

export interface NumericColumn extends FeatureColumnBase {
  readonly kind: "numeric";
  /** Smallest valid value (inclusive); absent: no lower bound. */
  readonly min?: number;
  /** Largest valid value (inclusive); absent: no upper bound. */
  readonly max?: number;
  readonly integer: boolean;
  readonly unit?: string;
}

/** An identifier (one per row): passed through to outputs, never a feature. */
export interface IdColumn extends ColumnBase {
  readonly kind: "id";
}

/** A column the models never see (passed through to outputs as it is). */
export interface IgnoredColumn extends ColumnBase {
  readonly kind: "ignored";
}

export type FeatureColumn = CategoricalColumn | NumericColumn;
export type Column = FeatureColumn | IdColumn | IgnoredColumn;
export type ColumnKind = Column["kind"];
export const COLUMN_KINDS: readonly ColumnKind[] = ["numeric", "categorical", "id", "ignored"];

export interface TargetSpec {
  readonly name: string;
  readonly label: string;
  /** Other header names accepted for the target column (e.g. `target`). */
  readonly aliases: readonly string[];
  /** The two values of the target, each with its own aliases (e.g. UCI codes `1`, `2`). */
  readonly values: readonly CategoryValue[];
  /** The value that means default / bad: the risk class a positive prediction means. */
  readonly riskClass: string;
}

export interface Costs {
  /** Cost of accepting an applicant who turns out bad (a false negative). */
  readonly badAccepted: number;
  /** Cost of rejecting an applicant who would have been good (a false positive). */
  readonly goodRejected: number;
}

/**
 * A group of applicants for fairness: by values of a categorical column, or by a numeric band
 * `[min, max)` (either end may be open).
 */
export interface FairnessGroup {
  readonly name: string;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

export interface FairnessAttribute {
  /** The column that defines the groups (a feature, id or ignored column). */
  readonly column: string;
  /** Readable name of the attribute, e.g. `Age band`. */
  readonly label: string;
  readonly groups: readonly FairnessGroup[];
  /** The group every other group is compared with (by convention the advantaged one). */
  readonly reference: string;
}

export interface DatasetSpec {
  readonly format: typeof SPEC_FORMAT;
  readonly formatVersion: number;
  /** Short name, e.g. `german-credit`. */
  readonly name: string;
  /** The spec's own revision: raise it when the spec is edited. */
  readonly version: number;
  readonly description?: string;
  /** Cell texts that mean missing in every column (compared case-insensitively, trimmed). */
  readonly missingValues: readonly string[];
  readonly columns: readonly Column[];
  readonly target: TargetSpec;
  readonly costs: Costs;
  readonly fairness: readonly FairnessAttribute[];
}

/** The columns the models use, in spec order: feature j of a Table is featureColumns(spec)[j]. */
export function featureColumns(spec: DatasetSpec): FeatureColumn[] {
  let cached = FEATURES.get(spec);
  if (!cached) {
    cached = spec.columns.filter(isFeature);
    FEATURES.set(spec, cached);
  }
  return cached;
}

const FEATURES = new WeakMap<DatasetSpec, FeatureColumn[]>();

export function isFeature(column: Column): column is FeatureColumn {
  return column.kind === "numeric" || column.kind === "categorical";
}

/** 1 for the risk class, 0 for the other target value. */
export function riskIndex(spec: DatasetSpec): number {
  return spec.target.values.findIndex((v) => v.value === spec.target.riskClass);
}

/** The target value that is not the risk class (e.g. `good`). */
export function safeClass(spec: DatasetSpec): string {
  const other = spec.target.values.find((v) => v.value !== spec.target.riskClass);
  return other ? other.value : "";
}

/** Lookup from accepted spelling (value or alias, also lower-cased) to category index. */
export function categoryIndex(column: CategoricalColumn): Map<string, number> {
  const m = new Map<string, number>();
  const put = (text: string, i: number) => {
    if (!m.has(text)) m.set(text, i);
    const lower = text.toLowerCase();
    if (!m.has(lower)) m.set(lower, i);
  };
  column.values.forEach((v, i) => put(v.value, i));
  column.values.forEach((v, i) => v.aliases.forEach((a) => put(a, i)));
  return m;
}

/** Index of the column's `other` value (unlisted values map there), or -1. */
export function otherIndex(column: CategoricalColumn): number {
  return column.values.findIndex((v) => v.other === true);
}

/** The missing-value texts of a column, lower-cased: the spec's and the column's own. */
export function missingTexts(spec: DatasetSpec, column: FeatureColumn): Set<string> {
  const out = new Set<string>();
  for (const t of spec.missingValues) out.add(t.trim().toLowerCase());
  for (const t of column.missingValues ?? []) out.add(t.trim().toLowerCase());
  out.add("");
  return out;
}

/**
 * Readable phrase for one feature value, e.g. `Checking account: below 0 DM`,
 * `Duration: 48 months` or `Monthly income: missing`.
 */
export function describeValue(column: FeatureColumn, value: number): string {
  return `${column.label}: ${valueLabel(column, value)}`;
}

/** Readable value alone: the category's label, the number with its unit, or `missing`. */
export function valueLabel(column: FeatureColumn, value: number): string {
  if (value !== value) return "missing";
  if (column.kind === "categorical") return column.values[value]?.label ?? "unknown";
  return column.unit ? `${value} ${column.unit}` : `${value}`;
}

/**
 * A readable label from a header name: words split at `_`, `.`, `-`, spaces, lower-to-upper
 * case changes and letter/digit boundaries, first letter capitalised, acronyms kept
 * (`MonthlyIncome` → `Monthly income`, `credit_amount` → `Credit amount`, `PAY_AMT1` →
 * `PAY AMT 1`, `A1` → `A1`).
 */
export function labelFromName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === "") return "Unnamed column";
  // A short code such as A1 or X12 reads best as it is.
  if (/^[A-Za-z]\d{1,3}$/.test(trimmed)) return trimmed;
  const words = trimmed
    .replace(/([a-z])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .replace(/([A-Za-z])(\d)/g, "$1 $2")
    .replace(/(\d)([A-Za-z])/g, "$1 $2")
    .split(/[\s_.]+/)
    .filter((w) => w !== "");
  const out = words.map((w, i) => {
    const acronym = w.length > 1 && w === w.toUpperCase() && /[A-Z]/.test(w);
    if (acronym) return w;
    return i === 0 ? w[0].toUpperCase() + w.slice(1).toLowerCase() : w.toLowerCase();
  });
  return out.join(" ");
}

/** The spec's costs as the ML core's cost matrix (a bad accepted is a false negative). */
export function costMatrix(spec: DatasetSpec): { falseNegative: number; falsePositive: number } {
  return { falseNegative: spec.costs.badAccepted, falsePositive: spec.costs.goodRejected };
}
