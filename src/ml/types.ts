import type { Rng } from "../core/rng.js";

/**
 * The ML core works on column-major tables of numbers. Categorical values are stored as their
 * category index (0 … nCategories-1) in a Float64Array; numeric values as they are. NaN marks a
 * missing value (validation refuses them for the credit schema, but learners must not crash).
 */
export interface FeatureSpec {
  readonly name: string;
  readonly kind: "numeric" | "categorical";
  /** Number of categories, for categorical features. */
  readonly nCategories?: number;
}

export interface Table {
  readonly features: readonly FeatureSpec[];
  /** One array per feature, each of length `n`. */
  readonly columns: readonly Float64Array[];
  readonly n: number;
}

export interface LabeledTable extends Table {
  /** 1 = positive class (`bad`, the risk class), 0 = negative (`good`). */
  readonly y: Uint8Array;
}

/** A trained binary classifier. `predictRaw` is on the log-odds scale. */
export interface FittedClassifier {
  readonly algorithm: AlgorithmName;
  /** Raw score (log-odds of the positive class) per row. */
  predictRaw(table: Table): Float64Array;
  /** Probability of the positive class per row (before any calibration). */
  predictProba(table: Table): Float64Array;
  /** Raw score of a single row given as one value per feature (fast path for serving). */
  predictRawRow(row: ArrayLike<number>): number;
  /**
   * Out-of-fold style predictions for the training rows, when the learner gets them for free
   * (the forest's out-of-bag estimates); probabilities, NaN where a row was never out of bag.
   */
  readonly oobProba?: Float64Array;
  /** Per-feature importance (same order as `features`), normalised to sum to 1. */
  featureImportance(): Float64Array;
  /** Plain JSON; `ALGORITHMS[algorithm].fromJSON` reads it back. */
  toJSON(): unknown;
}

export type AlgorithmName = "logreg" | "forest" | "gbdt";

/** A hyperparameter search space: each parameter is a range or a choice. */
export type ParamSpec =
  | { readonly type: "float"; readonly low: number; readonly high: number; readonly log?: boolean }
  | { readonly type: "int"; readonly low: number; readonly high: number; readonly log?: boolean }
  | { readonly type: "choice"; readonly values: readonly (string | number | boolean)[] };

export type SearchSpace = Readonly<Record<string, ParamSpec>>;

export type Params = Record<string, string | number | boolean>;

export interface Algorithm<P extends Params = Params> {
  readonly name: AlgorithmName;
  /** Defaults chosen once from nested CV; never from the evaluation folds. */
  readonly defaults: P;
  readonly space: SearchSpace;
  /** Trains on `data`; `rng` supplies every random draw (same seed → same model). */
  fit(data: LabeledTable, params: Partial<P>, rng: Rng): FittedClassifier;
  fromJSON(json: unknown, features: readonly FeatureSpec[]): FittedClassifier;
}

/** Cost matrix of the data set's documentation: accepting a bad applicant costs 5. */
export interface CostMatrix {
  /** Predicted good, actually bad (a bad loan accepted). */
  readonly falseNegative: number;
  /** Predicted bad, actually good (a good customer refused). */
  readonly falsePositive: number;
}

export const GERMAN_CREDIT_COSTS: CostMatrix = { falseNegative: 5, falsePositive: 1 };

/** Row subset of a table (copies the selected rows). */
export function takeRows<T extends Table>(table: T, rows: ArrayLike<number>): T {
  const n = rows.length;
  const columns = table.columns.map((col) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = col[rows[i]];
    return out;
  });
  const base: Table = { features: table.features, columns, n };
  if ("y" in table) {
    const src = (table as unknown as LabeledTable).y;
    const y = new Uint8Array(n);
    for (let i = 0; i < n; i++) y[i] = src[rows[i]];
    return { ...base, y } as unknown as T;
  }
  return base as T;
}
