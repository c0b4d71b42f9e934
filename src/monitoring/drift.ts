/**
 * Data drift of a whole table: per column, drop and count missing values, pick the test
 * (Evidently's automatic choice unless overridden), run it, and check whether the share of
 * missing values rose; then the dataset verdict from the share of drifted columns. Pure: the
 * caller supplies both windows as plain arrays.
 */
import { AppError } from "../core/errors.js";
import type { Sample } from "./binning.js";
import {
  DRIFT_TESTS,
  isDriftTestName,
  runDriftTest,
  type ColumnKind,
  type DriftTestName,
  type DriftTestResult,
  type EffectSize,
} from "./drift-tests.js";

/** A column to test: its name in the data and how its values are compared. */
export interface ColumnSchema {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** Numeric values; NaN, ±Infinity, null and undefined count as missing. */
export type NumericValues = Float64Array | readonly (number | null | undefined)[];
/** Category labels; null, undefined (and NaN) count as missing. */
export type CategoricalValues = readonly (string | null | undefined)[];
/** One window of data: column name → values. Columns not in the schema are ignored. */
export type DriftFrame = Readonly<Record<string, NumericValues | CategoricalValues>>;

/** A test and/or threshold to use instead of the automatic choice and the test's default. */
export interface TestOverride {
  readonly test?: DriftTestName;
  readonly threshold?: number;
}

/**
 * Overrides for all columns, per column kind and per column. The test and the threshold are
 * resolved separately, most specific first (column, then kind, then all), as Evidently's
 * `per_column_stattest` / `cat_stattest` / `stattest` and their `_threshold` twins.
 */
export interface TestOverrides {
  readonly all?: TestOverride;
  readonly byKind?: Readonly<Partial<Record<ColumnKind, TestOverride>>>;
  readonly byColumn?: Readonly<Record<string, TestOverride>>;
}

export interface DriftOptions {
  readonly tests?: TestOverrides;
  /** Dataset drift when drifted / tested columns reaches this share (default 0.5). */
  readonly datasetDriftShare?: number;
  /** Missing-value drift when current share − reference share exceeds this (default 0.05). */
  readonly missingShareIncrease?: number;
  /**
   * Whether a column whose missing share rose counts as drifted for the dataset verdict
   * (default false, so the verdict matches Evidently's, which ignores missing values).
   */
  readonly countMissingDrift?: boolean;
}

export const DEFAULT_DATASET_DRIFT_SHARE = 0.5;
export const DEFAULT_MISSING_SHARE_INCREASE = 0.05;

/** Missing values per window as a share of its rows (0 for an empty window), and the check. */
export interface MissingShares {
  readonly reference: number;
  readonly current: number;
  /** Current share exceeds the reference share by more than `missingShareIncrease`. */
  readonly drift: boolean;
}

/** The drift result of one column. Test fields are null when the column was skipped. */
export interface ColumnDrift {
  readonly column: string;
  readonly kind: ColumnKind;
  readonly test: DriftTestName | null;
  readonly statistic: number | null;
  readonly pValue: number | null;
  readonly threshold: number | null;
  /** The distribution test's verdict (false when skipped). */
  readonly drift: boolean;
  readonly effectSize: EffectSize | null;
  readonly missing: MissingShares;
  /** Values tested per window, after dropping missing ones. */
  readonly sizes: { readonly reference: number; readonly current: number };
  /** Why no test ran: "no reference values" or "no current values". */
  readonly skipped?: string;
  readonly note?: string;
}

export interface DatasetDrift {
  readonly datasetDrift: boolean;
  /** Drifted columns / counted columns (0 when none was counted). */
  readonly driftShare: number;
  readonly driftedColumns: number;
  /** Columns that entered the share: tested ones, plus missing-drifted ones if counted. */
  readonly countedColumns: number;
  /** The share from which the dataset counts as drifted. */
  readonly shareThreshold: number;
  readonly columns: readonly ColumnDrift[];
}

// Evidently switches from p-value tests to distances above this many reference values.
const SMALL_REFERENCE_MAX = 1000;

/**
 * The automatic test for a column (spec table; Evidently's `get_stattest` defaults), from the
 * reference size after dropping missing values and the number of distinct values over both
 * windows.
 *
 * @example defaultTest("numeric", 1000, 6) // "ks"
 * @example defaultTest("numeric", 1001, 6) // "wasserstein"
 * @example defaultTest("categorical", 500, 2) // "z"
 */
export function defaultTest(
  kind: ColumnKind,
  referenceSize: number,
  distinct: number,
): DriftTestName {
  if (referenceSize <= SMALL_REFERENCE_MAX) {
    if (kind === "numeric" && distinct > 5) return "ks";
    return distinct > 2 ? "chisquare" : "z";
  }
  return kind === "numeric" && distinct > 5 ? "wasserstein" : "jensenshannon";
}

/**
 * Drift of every schema column between two windows, and the dataset verdict.
 *
 * @example
 * detectDrift([{ name: "age", kind: "numeric" }], { age: [30, 40, 50, 60] }, { age: [31, 41, null] })
 * // { datasetDrift: false, driftShare: 0, columns: [{ column: "age", test: "ks", pValue: 0.9333333333333332,
 * //   drift: false, missing: { reference: 0, current: 0.3333333333333333, drift: true }, … }], … }
 */
export function detectDrift(
  schema: readonly ColumnSchema[],
  reference: DriftFrame,
  current: DriftFrame,
  options: DriftOptions = {},
): DatasetDrift {
  checkSchema(schema, options);
  checkSettings(options);
  const columns = schema.map((column) =>
    columnDrift(
      column,
      columnValues(reference, column, "reference"),
      columnValues(current, column, "current"),
      options,
    ),
  );
  return datasetResult(columns, options);
}

/**
 * The dataset verdict over column results: the share of drifted columns among those counted
 * (tested ones, plus missing-drifted ones when they count) against the share threshold.
 */
export function datasetResult(columns: ColumnDrift[], options: DriftOptions): DatasetDrift {
  const countMissing = options.countMissingDrift ?? false;
  const shareThreshold = options.datasetDriftShare ?? DEFAULT_DATASET_DRIFT_SHARE;
  let counted = 0;
  let drifted = 0;
  for (const c of columns) {
    const missingCounts = countMissing && c.missing.drift;
    if (c.skipped === undefined || missingCounts) counted++;
    if (c.drift || missingCounts) drifted++;
  }
  const driftShare = counted === 0 ? 0 : drifted / counted;
  return {
    datasetDrift: counted > 0 && driftShare >= shareThreshold,
    driftShare,
    driftedColumns: drifted,
    countedColumns: counted,
    shareThreshold,
    columns,
  };
}

/**
 * Drift of one column: missing values dropped and counted, then the resolved test. An empty
 * window (after dropping missing values) skips the test instead of failing.
 */
export function columnDrift(
  column: ColumnSchema,
  reference: NumericValues | CategoricalValues,
  current: NumericValues | CategoricalValues,
  options: DriftOptions = {},
): ColumnDrift {
  checkSettings(options);
  const ref = dropMissing(column, reference, "reference");
  const cur = dropMissing(column, current, "current");
  return columnResult(
    column,
    { rows: reference.length, missing: ref.missing, present: ref.sample.values.length },
    { rows: current.length, missing: cur.missing, present: cur.sample.values.length },
    () => new Set<number | string>([...ref.sample.values, ...cur.sample.values]).size,
    options,
    (test, threshold) => runDriftTest(test, ref.sample, cur.sample, threshold),
  );
}

/** A column's rows in one window: all of them, the missing ones, and the rest. */
export interface ColumnCounts {
  readonly rows: number;
  readonly missing: number;
  readonly present: number;
}

/**
 * The parts of a column result both drift engines share: missing shares, sizes, skipping an
 * empty window, the test choice (from `distinct()`, the distinct values of both windows, asked
 * only when a test runs), the kind check, and the fields in order. `run` computes the test;
 * `extraNote` joins its note.
 */
export function columnResult(
  column: ColumnSchema,
  ref: ColumnCounts,
  cur: ColumnCounts,
  distinct: () => number,
  options: DriftOptions,
  run: (test: DriftTestName, threshold: number) => DriftTestResult,
  extraNote: string | null = null,
): ColumnDrift {
  const missing = missingShares(ref, cur, options);
  const sizes = { reference: ref.present, current: cur.present };
  const base = { column: column.name, kind: column.kind, missing, sizes };
  const skipped =
    sizes.reference === 0
      ? "no reference values"
      : sizes.current === 0
        ? "no current values"
        : null;
  if (skipped !== null) {
    const none = { test: null, statistic: null, pValue: null, threshold: null, effectSize: null };
    return { ...base, ...none, drift: false, skipped };
  }
  const { test, threshold } = resolveTest(
    column,
    defaultTest(column.kind, sizes.reference, distinct()),
    options.tests,
  );
  if (!DRIFT_TESTS[test].kinds.includes(column.kind)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `column "${column.name}": drift test "${test}" needs a numeric column, this one is ${column.kind}`,
    );
  }
  const result = run(test, threshold);
  const note = [result.note, extraNote].filter((n) => n !== undefined && n !== null);
  return {
    ...base,
    test: result.test,
    statistic: result.statistic,
    pValue: result.pValue,
    threshold: result.threshold,
    drift: result.drift,
    effectSize: result.effectSize ?? null,
    ...(note.length === 0 ? {} : { note: note.join("; ") }),
  };
}

/** Test and threshold for a column: each from the most specific override that names it. */
export function resolveTest(
  column: ColumnSchema,
  automatic: DriftTestName,
  overrides: TestOverrides = {},
): { test: DriftTestName; threshold: number } {
  const layers = [
    overrides.byColumn?.[column.name],
    overrides.byKind?.[column.kind],
    overrides.all,
  ];
  const test = layers.find((o) => o?.test !== undefined)?.test ?? automatic;
  const threshold =
    layers.find((o) => o?.threshold !== undefined)?.threshold ?? DRIFT_TESTS[test].defaultThreshold;
  return { test, threshold };
}

function missingShares(ref: ColumnCounts, cur: ColumnCounts, options: DriftOptions): MissingShares {
  const reference = ref.rows === 0 ? 0 : ref.missing / ref.rows;
  const current = cur.rows === 0 ? 0 : cur.missing / cur.rows;
  const increase = options.missingShareIncrease ?? DEFAULT_MISSING_SHARE_INCREASE;
  return { reference, current, drift: current - reference > increase };
}

function columnValues(
  frame: DriftFrame,
  column: ColumnSchema,
  side: string,
): NumericValues | CategoricalValues {
  const values = Object.hasOwn(frame, column.name) ? frame[column.name] : undefined;
  if (values === undefined || !(Array.isArray(values) || values instanceof Float64Array)) {
    throw new AppError("INVALID_ARGUMENT", `the ${side} data has no column "${column.name}"`);
  }
  return values;
}

/** The non-missing values of a column as a test sample, and how many were missing. */
export function dropMissing(
  column: ColumnSchema,
  values: NumericValues | CategoricalValues,
  side = "data",
): { sample: Sample; missing: number } {
  return column.kind === "numeric"
    ? dropMissingNumbers(column, values, side)
    : dropMissingLabels(column, values, side);
}

function dropMissingNumbers(
  column: ColumnSchema,
  values: NumericValues | CategoricalValues,
  side: string,
): { sample: Sample; missing: number } {
  const kept = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (typeof v === "number") {
      if (Number.isFinite(v)) kept[n++] = v;
    } else if (v !== null && v !== undefined) {
      throw wrongType(column, side, i, v);
    }
  }
  return { sample: { kind: "numeric", values: kept.slice(0, n) }, missing: values.length - n };
}

function dropMissingLabels(
  column: ColumnSchema,
  values: NumericValues | CategoricalValues,
  side: string,
): { sample: Sample; missing: number } {
  const kept: string[] = [];
  for (let i = 0; i < values.length; i++) {
    const v: unknown = values[i];
    if (typeof v === "string") kept.push(v);
    // NaN is how pandas and the ML tables mark a missing label, so it is accepted as missing.
    else if (v !== null && v !== undefined && !Number.isNaN(v)) throw wrongType(column, side, i, v);
  }
  return { sample: { kind: "categorical", values: kept }, missing: values.length - kept.length };
}

function wrongType(column: ColumnSchema, side: string, row: number, value: unknown): AppError {
  const expected = column.kind === "numeric" ? "numbers" : "strings";
  return new AppError(
    "INVALID_ARGUMENT",
    `column "${column.name}" is ${column.kind} and needs ${expected}, but the ${side} data has ${JSON.stringify(value)} (${typeof value}) at row ${row}`,
  );
}

/** Schema checks for a whole table: unique names, known kinds, overrides naming real columns. */
function checkSchema(schema: readonly ColumnSchema[], options: DriftOptions): void {
  const names = new Set<string>();
  for (const c of schema) {
    if (names.has(c.name)) {
      throw new AppError("INVALID_ARGUMENT", `column "${c.name}" appears twice in the schema`);
    }
    if (c.kind !== "numeric" && c.kind !== "categorical") {
      throw new AppError(
        "INVALID_ARGUMENT",
        `column "${c.name}": kind must be "numeric" or "categorical"`,
      );
    }
    names.add(c.name);
  }
  for (const name of Object.keys(options.tests?.byColumn ?? {})) {
    if (!names.has(name)) {
      throw new AppError("INVALID_ARGUMENT", `tests.byColumn: no column "${name}" in the schema`);
    }
  }
}

/** Option checks that do not depend on the schema: shares, test names and thresholds. */
function checkSettings(options: DriftOptions): void {
  checkShare("datasetDriftShare", options.datasetDriftShare, false);
  checkShare("missingShareIncrease", options.missingShareIncrease, true);
  const tests = options.tests ?? {};
  checkOverride("tests.all", tests.all);
  for (const [kind, o] of Object.entries(tests.byKind ?? {})) {
    if (kind !== "numeric" && kind !== "categorical") {
      throw new AppError("INVALID_ARGUMENT", `tests.byKind: unknown column kind "${kind}"`);
    }
    checkOverride(`tests.byKind.${kind}`, o);
  }
  for (const [name, o] of Object.entries(tests.byColumn ?? {})) {
    checkOverride(`tests.byColumn.${name}`, o);
  }
}

function checkShare(name: string, value: number | undefined, zeroAllowed: boolean): void {
  if (value === undefined) return;
  if (!(value <= 1 && (zeroAllowed ? value >= 0 : value > 0))) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `${name} must be a share in ${zeroAllowed ? "[0" : "(0"}, 1], got ${value}`,
    );
  }
}

function checkOverride(where: string, o: TestOverride | undefined): void {
  if (o === undefined) return;
  if (o.test !== undefined && !isDriftTestName(o.test)) {
    const known = Object.keys(DRIFT_TESTS).join(", ");
    throw new AppError(
      "INVALID_ARGUMENT",
      `${where}.test: unknown drift test "${String(o.test)}" (known: ${known})`,
    );
  }
  if (o.threshold !== undefined && !(Number.isFinite(o.threshold) && o.threshold >= 0)) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `${where}.threshold must be a finite number >= 0, got ${o.threshold}`,
    );
  }
}
