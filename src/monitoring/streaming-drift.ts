/**
 * Streaming data drift: the current window arrives in chunks and each column keeps a compact
 * state instead of its values, yet the report equals `detectDrift` on the concatenated window —
 * same test choice, same statistics and p-values bit for bit (the states below are chosen so that
 * every floating-point operation of the in-memory tests is replayed in the same order).
 *
 * What a column keeps about the current window (n = rows, K = distinct reference values):
 *
 * - every numeric column: a histogram over the reference's distinct values R[0] < … < R[K−1] —
 *   counts of values equal to each R[k] and strictly between neighbours (below R[0], above
 *   R[K−1] included), 2K + 1 counters — and the smallest value below R[0] with its count.
 *   That gives KS exactly (proof at `ksFromHistogram`) and the Z test; O(K), flat in n.
 * - a numeric column whose test may need each current value (chi-square, Jensen–Shannon, PSI,
 *   K–L, Wasserstein): also exact counts of the current values that are not reference points,
 *   keyed by value in first-seen order. It grows with the number of such distinct values, not
 *   with n: for integer-valued or otherwise discrete columns that is bounded by the value range.
 *   With the automatic choice this map is kept only while it can matter: a reference of at most
 *   1000 values with more than five distinct values gets KS, which never needs it; one with five
 *   or fewer keeps it until the union exceeds five values (then KS is certain and it is dropped).
 *   A reference above 1000 values defaults to Wasserstein, which needs the exact current
 *   distribution: a continuous column then keeps one entry per distinct value (memory grows), and
 *   once more than `distinctNoteLimit` (100,000) entries were needed the column's result says so
 *   in its `note`. Sturges bins (JS/PSI/K–L on more than 20 distinct reference values, only by
 *   override) are likewise computed from these exact counts, since their edges depend on the final
 *   n and range.
 * - a categorical column: a count per category (reference categories first, new ones as they are
 *   first seen — the order the tests sum in), flat in n, growing with new categories (same note).
 * - per column: rows, missing values (NaN, ±Infinity, null, undefined; NaN also for labels).
 *
 * For the German credit schema with its 1000-row reference every column is flat: duration,
 * credit_amount and age run KS on the histogram, the four-valued and two-valued numeric columns and
 * the categorical ones chi-square or Z on counts.
 *
 * The reference is kept whole (it is the small side: a stored profile of the training data). KS
 * p-values for max(n_ref, n_cur) > 10000 are SciPy's asymptotic ones, as in `detectDrift`.
 */
import { AppError } from "../core/errors.js";
import { histogramShares, MAX_VALUE_BINS } from "./binning.js";
import {
  columnResult,
  defaultTest,
  detectDrift,
  dropMissing,
  type CategoricalValues,
  type ColumnDrift,
  type ColumnSchema,
  type DatasetDrift,
  datasetResult,
  type DriftFrame,
  type DriftOptions,
  type NumericValues,
} from "./drift.js";
import {
  chiSquareFromCounts,
  distanceFromShares,
  populationStd,
  zFromCounts,
  type DriftTestName,
  type DriftTestResult,
} from "./drift-tests.js";
import { ksTwoSamplePValue } from "./ks-distribution.js";
import type { ProfileColumn, ReferenceProfile } from "./reference-profile.js";

export interface StreamingDriftOptions extends DriftOptions {
  /**
   * Distinct current values per column, beyond the reference's, above which the column's result
   * notes that its state grew with the data (default 100,000). The result stays exact.
   */
  readonly distinctNoteLimit?: number;
}

export const DEFAULT_DISTINCT_NOTE_LIMIT = 100_000;

// V8 Maps refuse a 2^24th entry; SlotIndex chains further Maps from here on.
const MAP_CAPACITY = 1 << 23;
// Evidently's floor for the reference standard deviation (as `wassersteinTest`).
const MIN_WASSERSTEIN_NORM = 0.001;

type Values = NumericValues | CategoricalValues;
type Counts = { rows: number; missing: number; present: number };

/**
 * Slot numbers 0, 1, 2, … for distinct keys in the order they were first seen; the caller keeps
 * per-slot data in arrays. Numbers compare as a Map does (0 and −0 are one key), as the tests'
 * `valueCounts` does. Beyond `capacity` keys a further Map takes new keys, so a window with more
 * than 2^24 distinct values (a V8 Map's limit) still counts exactly.
 */
export class SlotIndex<K> {
  private readonly maps: Map<K, number>[] = [new Map()];
  private last: Map<K, number>;
  private count = 0;

  constructor(private readonly capacity = MAP_CAPACITY) {
    this.last = this.maps[0];
  }

  get size(): number {
    return this.count;
  }

  get(key: K): number | undefined {
    const slot = this.maps[0].get(key);
    if (slot !== undefined || this.maps.length === 1) return slot;
    for (let m = 1; m < this.maps.length; m++) {
      const s = this.maps[m].get(key);
      if (s !== undefined) return s;
    }
    return undefined;
  }

  /** The next slot for a key that `get` did not find. */
  add(key: K): number {
    if (this.last.size >= this.capacity) {
      this.last = new Map();
      this.maps.push(this.last);
    }
    this.last.set(key, this.count);
    return this.count++;
  }
}

/** A Float64Array of at least `length` entries holding `array`'s, doubling to amortise growth. */
function grown(array: Float64Array<ArrayBuffer>, length: number): Float64Array<ArrayBuffer> {
  if (length <= array.length) return array;
  const bigger = new Float64Array(Math.max(length, 2 * array.length));
  bigger.set(array);
  return bigger;
}

/** Exact counts of the current values that are not reference points, in first-seen order. */
class OffPointCounts {
  readonly index = new SlotIndex<number>();
  values = new Float64Array(16);
  counts = new Float64Array(16);

  get size(): number {
    return this.index.size;
  }

  add(v: number): void {
    let slot = this.index.get(v);
    if (slot === undefined) {
      slot = this.index.add(v);
      this.values = grown(this.values, slot + 1);
      this.counts = grown(this.counts, slot + 1);
      this.values[slot] = v;
    }
    this.counts[slot]++;
  }

  /** The distinct values ascending, with their counts. */
  sorted(): { values: Float64Array; counts: Float64Array } {
    const values = this.values.slice(0, this.size).sort();
    const counts = Float64Array.from(values, (v) => this.counts[this.index.get(v) as number]);
    return { values, counts };
  }
}

/** One column's reference facts and current-window state. */
interface ColumnState {
  readonly column: ColumnSchema;
  /** Adds one chunk's values; `firstRow` is the window row of values[0] (for error messages). */
  add(values: Values, firstRow: number): void;
  result(options: StreamingDriftOptions): ColumnDrift;
}

/**
 * Drift of every schema column between a reference and a current window fed in chunks, equal to
 * `detectDrift(schema, reference, concatenated chunks, options)` (for a profile, to `detectDrift`
 * on `profileFrame(profile)`). `result()` may be called at any time and does not end the stream.
 *
 * A chunk that fails validation (a missing column, a wrong type) may have been partly counted, so
 * the accumulator refuses further use after one; errors name the same row as `detectDrift`,
 * though with several bad cells the first one found may differ.
 *
 * @example
 * const acc = new DriftAccumulator([{ name: "age", kind: "numeric" }], { age: [30, 40, 50, 60] });
 * acc.add({ age: [31, 41] });
 * acc.add({ age: Float64Array.of(NaN) });
 * acc.result().columns[0].pValue // 0.9333333333333332, as detectDrift with current [31, 41, NaN]
 */
export class DriftAccumulator {
  private readonly states: ColumnState[];
  private rowCount = 0;
  private failure: unknown = null;

  constructor(
    schema: readonly ColumnSchema[],
    reference: DriftFrame | ReferenceProfile,
    private readonly options: StreamingDriftOptions = {},
  ) {
    // detectDrift on empty windows runs its own schema and option checks, so both paths accept
    // and refuse exactly the same settings.
    const empty: DriftFrame = Object.fromEntries(schema.map((c) => [c.name, []]));
    detectDrift(schema, empty, empty, options);
    const limit = options.distinctNoteLimit ?? DEFAULT_DISTINCT_NOTE_LIMIT;
    if (!(Number.isInteger(limit) && limit >= 0)) {
      throw new AppError(
        "INVALID_ARGUMENT",
        `distinctNoteLimit must be an integer >= 0, got ${limit}`,
      );
    }
    const profile = isProfile(reference) ? profileColumns(reference) : null;
    this.states = schema.map((column) => {
      const ref =
        profile === null
          ? referenceFromFrame(reference as DriftFrame, column)
          : referenceFromProfile(profile, column);
      return column.kind === "numeric"
        ? new NumericState(column, ref, options)
        : new CategoricalState(column, ref);
    });
  }

  /** Rows added so far. */
  get rows(): number {
    return this.rowCount;
  }

  /** Adds rows: every schema column, all of one length (other columns are ignored). */
  add(chunk: DriftFrame): void {
    this.checkUsable();
    let length = -1;
    const columns = this.states.map((state, j) => {
      const values = frameColumn(chunk, state.column, "current");
      if (length === -1) length = values.length;
      else if (values.length !== length) {
        const first = this.states[0].column.name;
        throw new AppError(
          "INVALID_ARGUMENT",
          `the chunk's columns differ in length: "${first}" has ${length} values, "${this.states[j].column.name}" has ${values.length}`,
        );
      }
      return values;
    });
    try {
      this.states.forEach((state, j) => state.add(columns[j], this.rowCount));
    } catch (error) {
      this.failure = error;
      throw error;
    }
    this.rowCount += Math.max(length, 0);
  }

  /** The report so far: the same shape and numbers as `detectDrift`. */
  result(): DatasetDrift {
    this.checkUsable();
    return datasetResult(
      this.states.map((s) => s.result(this.options)),
      this.options,
    );
  }

  private checkUsable(): void {
    if (this.failure !== null) {
      throw new AppError(
        "CONFLICT",
        "an earlier chunk was rejected part-way, so the counts are incomplete: start a new report",
        { cause: this.failure },
      );
    }
  }
}

function isProfile(reference: DriftFrame | ReferenceProfile): reference is ReferenceProfile {
  return (reference as ReferenceProfile).format === "riskometer-reference-profile/1";
}

/** Profile columns by name; a repeated name keeps the last, as `profileFrame` does. */
function profileColumns(profile: ReferenceProfile): Map<string, ProfileColumn> {
  return new Map(profile.columns.map((c) => [c.name, c]));
}

/** A column of a window, refused as `detectDrift` refuses it when absent or not an array. */
function frameColumn(frame: DriftFrame, column: ColumnSchema, side: string): Values {
  const values = Object.hasOwn(frame, column.name) ? frame[column.name] : undefined;
  if (values === undefined || !(Array.isArray(values) || values instanceof Float64Array)) {
    throw new AppError("INVALID_ARGUMENT", `the ${side} data has no column "${column.name}"`);
  }
  return values;
}

/** A reference column: its present values (in their order) or category counts, and sizes. */
type Reference =
  | { readonly kind: "numeric"; readonly values: Float64Array; readonly counts: Counts }
  | {
      readonly kind: "categorical";
      readonly categories: readonly (readonly [string, number])[];
      readonly counts: Counts;
    };

function referenceFromFrame(frame: DriftFrame, column: ColumnSchema): Reference {
  const raw = frameColumn(frame, column, "reference");
  const { sample, missing } = dropMissing(column, raw, "reference");
  const counts = { rows: raw.length, missing, present: sample.values.length };
  if (sample.kind === "numeric") return { kind: "numeric", values: sample.values, counts };
  const seen = new Map<string, number>();
  for (const v of sample.values) seen.set(v, (seen.get(v) ?? 0) + 1);
  return { kind: "categorical", categories: [...seen], counts };
}

function referenceFromProfile(
  profile: ReadonlyMap<string, ProfileColumn>,
  column: ColumnSchema,
): Reference {
  const stored = profile.get(column.name);
  if (stored === undefined) {
    throw new AppError("INVALID_ARGUMENT", `the reference data has no column "${column.name}"`);
  }
  if (stored.kind !== column.kind) {
    throw new AppError(
      "INVALID_ARGUMENT",
      `column "${column.name}" is ${column.kind} in the schema but ${stored.kind} in the reference profile`,
    );
  }
  checkCount(column, "missing", stored.missing);
  if (stored.kind === "numeric") {
    const { sample, missing } = dropMissing(column, stored.sorted, "reference");
    if (sample.kind !== "numeric") throw new AppError("INTERNAL", "numeric sample expected");
    const rows = stored.sorted.length + stored.missing;
    const counts = { rows, missing: missing + stored.missing, present: sample.values.length };
    return { kind: "numeric", values: sample.values, counts };
  }
  // `profileFrame` expands the counts in this order, so the tests see the categories in it.
  const categories = Object.entries(stored.counts).filter(([value, count]) => {
    checkCount(column, `count of "${value}"`, count);
    return count > 0;
  });
  const present = categories.reduce((sum, [, count]) => sum + count, 0);
  const counts = { rows: present + stored.missing, missing: stored.missing, present };
  return { kind: "categorical", categories, counts };
}

function checkCount(column: ColumnSchema, what: string, count: unknown): void {
  if (!(Number.isSafeInteger(count) && (count as number) >= 0)) {
    throw new AppError(
      "MODEL_FILE_INVALID",
      `reference profile, column "${column.name}": ${what} must be a count, got ${JSON.stringify(count)}`,
    );
  }
}

function wrongType(column: ColumnSchema, row: number, value: unknown): AppError {
  const expected = column.kind === "numeric" ? "numbers" : "strings";
  return new AppError(
    "INVALID_ARGUMENT",
    `column "${column.name}" is ${column.kind} and needs ${expected}, but the current data has ${JSON.stringify(value)} (${typeof value}) at row ${row}`,
  );
}

function grewNote(extra: number, options: StreamingDriftOptions, what: string): string | null {
  if (extra <= (options.distinctNoteLimit ?? DEFAULT_DISTINCT_NOTE_LIMIT)) return null;
  return `streaming kept ${extra} distinct current ${what} to stay exact: this column's memory grew with the data`;
}

/** The test an override fixes for a column, if any (the most specific layer naming one). */
function overriddenTest(column: ColumnSchema, options: DriftOptions): DriftTestName | undefined {
  const o = options.tests;
  return o?.byColumn?.[column.name]?.test ?? o?.byKind?.[column.kind]?.test ?? o?.all?.test;
}

class NumericState implements ColumnState {
  /** The reference's distinct values, ascending. */
  private readonly points: Float64Array;
  /** How often each point occurs in the reference. */
  private readonly refCounts: Float64Array;
  /** Point indices in the order the reference first shows them (the tests' key order). */
  private readonly refOrder: Int32Array;
  private readonly refValues: Float64Array;
  private readonly ref: Counts;
  /**
   * The histogram: [2k] counts current values strictly between points k−1 and k (k = 0: below
   * all, k = K: above all), [2k+1] those equal to point k.
   */
  private readonly counts: Float64Array;
  private readonly cur: Counts = { rows: 0, missing: 0, present: 0 };
  private belowMin = Infinity;
  private belowMinCount = 0;
  /** Exact off-point counts while the test may need them (see the module comment). */
  private offPoints: OffPointCounts | null = null;
  /** Off-point distinct values when `offPoints` was dropped: a lower bound, enough for the choice. */
  private offPointsDropped = 0;
  /** Whether `offPoints` may be dropped once the automatic choice becomes KS. */
  private readonly dropOnKs: boolean;

  constructor(
    readonly column: ColumnSchema,
    reference: Reference,
    options: DriftOptions,
  ) {
    if (reference.kind !== "numeric") throw new AppError("INTERNAL", "numeric reference expected");
    this.ref = reference.counts;
    this.refValues = reference.values;
    const sorted = Float64Array.from(reference.values).sort();
    let k = 0;
    for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) k++;
    this.points = new Float64Array(k);
    this.refCounts = new Float64Array(k);
    k = -1;
    for (let i = 0; i < sorted.length; i++) {
      if (i === 0 || sorted[i] !== sorted[i - 1]) this.points[++k] = sorted[i];
      this.refCounts[k]++;
    }
    this.refOrder = new Int32Array(this.points.length);
    const seen = new Uint8Array(this.points.length);
    let next = 0;
    for (const v of reference.values) {
      const p = this.lowerBound(v);
      if (seen[p] === 0) {
        seen[p] = 1;
        this.refOrder[next++] = p;
      }
    }
    this.counts = new Float64Array(2 * this.points.length + 1);
    const fixed = overriddenTest(column, options);
    const automatic = defaultTest("numeric", this.ref.present, this.points.length);
    // KS and Z read the histogram alone; the automatic choice can only move towards KS as the
    // union gains values (defaultTest is monotone in it), so KS from the start stays KS.
    const needsValues =
      this.ref.present > 0 &&
      (fixed === undefined ? automatic !== "ks" : fixed !== "ks" && fixed !== "z");
    if (needsValues) this.offPoints = new OffPointCounts();
    this.dropOnKs = fixed === undefined;
  }

  /** Number of points below v (binary search). */
  private lowerBound(v: number): number {
    const points = this.points;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(values: Values, firstRow: number): void {
    const points = this.points;
    const counts = this.counts;
    let present = 0;
    if (values instanceof Float64Array) {
      for (let r = 0; r < values.length; r++) {
        const v = values[r];
        if (!Number.isFinite(v)) continue;
        present++;
        const p = this.lowerBound(v);
        if (p < points.length && points[p] === v) counts[2 * p + 1]++;
        else this.offPoint(v, p);
      }
    } else {
      for (let r = 0; r < values.length; r++) {
        const v: unknown = values[r];
        if (typeof v === "number") {
          if (!Number.isFinite(v)) continue;
          present++;
          const p = this.lowerBound(v);
          if (p < points.length && points[p] === v) counts[2 * p + 1]++;
          else this.offPoint(v, p);
        } else if (v !== null && v !== undefined) {
          throw wrongType(this.column, firstRow + r, v);
        }
      }
    }
    this.cur.rows += values.length;
    this.cur.present += present;
    this.cur.missing += values.length - present;
  }

  /** A value strictly between points p−1 and p. */
  private offPoint(v: number, p: number): void {
    this.counts[2 * p]++;
    if (p === 0) {
      if (v < this.belowMin) {
        this.belowMin = v;
        this.belowMinCount = 1;
      } else if (v === this.belowMin) this.belowMinCount++;
    }
    const off = this.offPoints;
    if (off === null) return;
    const before = off.size;
    off.add(v);
    if (
      this.dropOnKs &&
      off.size > before &&
      defaultTest("numeric", this.ref.present, this.points.length + off.size) === "ks"
    ) {
      this.offPointsDropped = off.size;
      this.offPoints = null;
    }
  }

  result(options: StreamingDriftOptions): ColumnDrift {
    const extra = this.offPoints?.size ?? this.offPointsDropped;
    return columnResult(
      this.column,
      this.ref,
      this.cur,
      () => this.points.length + extra,
      options,
      (test, threshold) => this.run(test, threshold),
      grewNote(this.offPoints?.size ?? 0, options, "values off the reference's points"),
    );
  }

  private run(test: DriftTestName, threshold: number): DriftTestResult {
    switch (test) {
      case "ks":
        return this.ksFromHistogram(threshold);
      case "z":
        return this.z(threshold);
      case "chisquare": {
        const { ref, cur } = this.valueCounts();
        return chiSquareFromCounts(ref, cur, this.ref.present, this.cur.present, threshold);
      }
      case "wasserstein":
        return this.wasserstein(threshold);
      case "jensenshannon":
      case "psi":
      case "kl_div": {
        const shares =
          this.points.length > MAX_VALUE_BINS ? this.sturgesShares() : this.valueShares();
        return distanceFromShares(test, shares.ref, shares.cur, threshold);
      }
    }
  }

  private exactOffPoints(): OffPointCounts {
    if (this.offPoints === null) {
      throw new AppError("INTERNAL", `column "${this.column.name}": current values were not kept`);
    }
    return this.offPoints;
  }

  /**
   * KS D exactly as `ksStatistic` computes it on the sorted windows. That function evaluates
   * diff(i, j) = i/n1 − j/n2 (each a double) at every distinct pooled value x, i and j counting
   * the values <= x, and keeps the largest and smallest. Take consecutive points R[k] < R[k+1]
   * (R[−1] = −∞, R[K] = +∞): every pooled x in [R[k], R[k+1]) has the same i = I_k (reference
   * values <= R[k]), and j rises with x. Rounded division and subtraction are monotone, so
   * diff(I_k, j) falls as j rises: its largest value on the interval is at x = R[k] itself,
   * j = C(<= R[k]); its smallest at the last pooled value before R[k+1], j = C(< R[k+1]) — and if
   * no current value lies strictly inside, that pair is the one at R[k]. Below R[0] i = 0, so the
   * diffs are <= 0 and the smallest is at j = C(< R[0]); if nothing lies below, the pair is (0, 0)
   * with diff 0, which changes nothing because the last pooled value (n1, n2) already gives 0 to
   * both extremes. Hence the pairs (I_{k−1}, C(< R[k])) and (I_k, C(<= R[k])) for every k, plus
   * (n1, n2), hold both extremes as the same doubles, and the histogram knows them all.
   */
  private ksFromHistogram(threshold: number): DriftTestResult {
    const n1 = this.ref.present;
    const n2 = this.cur.present;
    const counts = this.counts;
    let maxDiff = -Infinity;
    let minDiff = Infinity;
    let i = 0;
    let j = 0;
    for (let k = 0; k <= this.points.length; k++) {
      j += counts[2 * k];
      const before = i / n1 - j / n2;
      if (before > maxDiff) maxDiff = before;
      if (before < minDiff) minDiff = before;
      if (k === this.points.length) break;
      i += this.refCounts[k];
      j += counts[2 * k + 1];
      const at = i / n1 - j / n2;
      if (at > maxDiff) maxDiff = at;
      if (at < minDiff) minDiff = at;
    }
    const minS = Math.min(Math.max(-minDiff, 0), 1);
    const d = minS > maxDiff ? minS : maxDiff;
    const { statistic, pValue } = ksTwoSamplePValue(n1, n2, d);
    return {
      test: "ks",
      statistic,
      pValue,
      threshold,
      drift: pValue <= threshold,
      effectSize: { measure: "ks_d", value: statistic },
    };
  }

  /** Z needs only the union's smallest value and its counts, which the histogram holds. */
  private z(threshold: number): DriftTestResult {
    const below = this.counts[0] > 0;
    const single = this.points.length === 1 && this.counts[1] === this.cur.present;
    return zFromCounts(
      single,
      below ? 0 : this.refCounts[0],
      below ? this.belowMinCount : this.counts[1],
      this.ref.present,
      this.cur.present,
      threshold,
    );
  }

  /** Counts per distinct value of the union, in the tests' order: reference first-seen, then current. */
  private valueCounts(): { ref: Float64Array; cur: Float64Array } {
    const off = this.exactOffPoints();
    const k = this.refOrder.length;
    const ref = new Float64Array(k + off.size);
    const cur = new Float64Array(k + off.size);
    for (let t = 0; t < k; t++) {
      ref[t] = this.refCounts[this.refOrder[t]];
      cur[t] = this.counts[2 * this.refOrder[t] + 1];
    }
    cur.set(off.counts.subarray(0, off.size), k);
    return { ref, cur };
  }

  /** One bin per distinct value (`binShares` with at most 20 distinct reference values). */
  private valueShares(): { ref: Float64Array; cur: Float64Array } {
    const { ref, cur } = this.valueCounts();
    return {
      ref: ref.map((c) => c / this.ref.present),
      cur: cur.map((c) => c / this.cur.present),
    };
  }

  /** Sturges bins as `sturgesEdges` + `histogramShares`, the current side from exact counts. */
  private sturgesShares(): { ref: Float64Array; cur: Float64Array } {
    const off = this.exactOffPoints();
    const points = this.points;
    let first = points[0];
    let last = points[points.length - 1];
    let integers = this.refValues.every((v) => Number.isInteger(v));
    let curIntegers = true;
    const seenValue = (v: number) => {
      if (v < first) first = v;
      if (v > last) last = v;
      if (!Number.isInteger(v)) curIntegers = false;
    };
    for (let k = 0; k < points.length; k++) if (this.counts[2 * k + 1] > 0) seenValue(points[k]);
    for (let s = 0; s < off.size; s++) seenValue(off.values[s]);
    integers &&= curIntegers;
    if (first === last) {
      first -= 0.5;
      last += 0.5;
    }
    const range = last - first;
    let width = range / (Math.log2(this.ref.present + this.cur.present) + 1);
    if (width < 1 && integers) width = 1;
    const bins = Math.ceil(range / width);
    const step = range / bins;
    const edges = Float64Array.from({ length: bins + 1 }, (_, i) => i * step + first);
    edges[bins] = last;
    const cur = new Float64Array(bins);
    const place = (v: number, count: number) => {
      let lo = 0;
      let hi = bins;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (edges[mid] <= v) lo = mid + 1;
        else hi = mid;
      }
      if (lo > 0 && v <= edges[bins]) cur[lo - 1] += count;
    };
    for (let k = 0; k < points.length; k++) place(points[k], this.counts[2 * k + 1]);
    for (let s = 0; s < off.size; s++) place(off.values[s], off.counts[s]);
    return {
      ref: histogramShares(this.refValues, edges),
      cur: cur.map((c) => c / this.cur.present),
    };
  }

  /**
   * `wasserstein1` replayed: the same walk over the pooled distinct values ascending, with the
   * reference points and the exact off-point counts merged.
   */
  private wasserstein(threshold: number): DriftTestResult {
    const off = this.exactOffPoints().sorted();
    const points = this.points;
    const n1 = this.ref.present;
    const n2 = this.cur.present;
    let k = 0;
    let t = 0;
    let i = 0;
    let j = 0;
    let total = 0;
    for (;;) {
      const p = k < points.length ? points[k] : Infinity;
      const o = t < off.values.length ? off.values[t] : Infinity;
      let x: number;
      if (p < o) {
        x = p;
        i += this.refCounts[k];
        j += this.counts[2 * k + 1];
        k++;
      } else {
        x = o;
        j += off.counts[t];
        t++;
      }
      const next = Math.min(
        k < points.length ? points[k] : Infinity,
        t < off.values.length ? off.values[t] : Infinity,
      );
      if (next === Infinity) break;
      total += Math.abs(i / n1 - j / n2) * (next - x);
    }
    const statistic = total / Math.max(populationStd(this.refValues), MIN_WASSERSTEIN_NORM);
    return {
      test: "wasserstein",
      statistic,
      pValue: null,
      threshold,
      drift: statistic >= threshold,
    };
  }
}

class CategoricalState implements ColumnState {
  private readonly index = new SlotIndex<string>();
  /** Category of each slot: the reference's in first-seen order, then new ones as seen. */
  private readonly keys: string[] = [];
  private readonly refCounts: Float64Array;
  private curCounts: Float64Array<ArrayBuffer>;
  private readonly ref: Counts;
  private readonly cur: Counts = { rows: 0, missing: 0, present: 0 };

  constructor(
    readonly column: ColumnSchema,
    reference: Reference,
  ) {
    if (reference.kind !== "categorical") {
      throw new AppError("INTERNAL", "categorical reference expected");
    }
    this.ref = reference.counts;
    this.refCounts = new Float64Array(reference.categories.length);
    for (const [value, count] of reference.categories) {
      this.refCounts[this.index.add(value)] = count;
      this.keys.push(value);
    }
    this.curCounts = new Float64Array(Math.max(16, this.keys.length));
  }

  add(values: Values, firstRow: number): void {
    const index = this.index;
    let counts = this.curCounts;
    let present = 0;
    for (let r = 0; r < values.length; r++) {
      const v: unknown = values[r];
      if (typeof v === "string") {
        present++;
        let slot = index.get(v);
        if (slot === undefined) {
          slot = this.newCategory(v);
          counts = this.curCounts;
        }
        counts[slot]++;
      } else if (v !== null && v !== undefined && !Number.isNaN(v)) {
        // NaN marks a missing label (pandas, the ML tables), as in detectDrift.
        throw wrongType(this.column, firstRow + r, v);
      }
    }
    this.cur.rows += values.length;
    this.cur.present += present;
    this.cur.missing += values.length - present;
  }

  private newCategory(value: string): number {
    const slot = this.index.add(value);
    this.keys.push(value);
    this.curCounts = grown(this.curCounts, slot + 1);
    return slot;
  }

  result(options: StreamingDriftOptions): ColumnDrift {
    const extra = this.keys.length - this.refCounts.length;
    return columnResult(
      this.column,
      this.ref,
      this.cur,
      () => this.keys.length,
      options,
      (test, threshold) => this.run(test, threshold),
      grewNote(extra, options, "categories not in the reference"),
    );
  }

  private run(test: DriftTestName, threshold: number): DriftTestResult {
    const k = this.keys.length;
    const ref = new Float64Array(k);
    ref.set(this.refCounts);
    const cur = this.curCounts.slice(0, k);
    switch (test) {
      case "chisquare":
        return chiSquareFromCounts(ref, cur, this.ref.present, this.cur.present, threshold);
      case "z": {
        // The smallest category as `compareValues` orders strings.
        let min = 0;
        for (let s = 1; s < k; s++) if (this.keys[s] < this.keys[min]) min = s;
        return zFromCounts(
          k === 1,
          ref[min],
          cur[min],
          this.ref.present,
          this.cur.present,
          threshold,
        );
      }
      case "jensenshannon":
      case "psi":
      case "kl_div":
        return distanceFromShares(
          test,
          ref.map((c) => c / this.ref.present),
          cur.map((c) => c / this.cur.present),
          threshold,
        );
      case "ks":
      case "wasserstein":
        // columnResult refuses these for categorical columns before running them.
        throw new AppError("INTERNAL", `${test} on a categorical column`);
    }
  }
}
