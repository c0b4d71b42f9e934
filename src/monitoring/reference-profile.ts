import { AppError } from "../core/errors.js";
import { Rng } from "../core/rng.js";
import { type DatasetSpec, featureColumns } from "../data/index.js";
import type { DriftFrame } from "./drift.js";

/**
 * What the drift tests need from a model version's training data, computed once when the
 * version is trained and stored beside its model file: per numeric column its sorted values
 * (KS and Wasserstein read the empirical distribution; bins come from them), per categorical
 * column its counts, missing values counted on both; and the model's own probabilities on that
 * data, the reference for prediction drift. 1,000 training rows make about 60 kB of JSON.
 *
 * Larger training sets are profiled on a seeded uniform sample of PROFILE_ROWS rows (the same
 * rows for every column): a window of decisions is compared with a reference many times its
 * size either way, so the tests hardly change, while 150,000 rows would make a 15 MB file that
 * every serving replica reads and every scrape of the real-time window expands.
 */
export interface ReferenceProfile {
  readonly format: "riskometer-reference-profile/1";
  /** Rows profiled: the training rows, or the sample of them. */
  readonly rows: number;
  /** The training rows when the profile is of a sample of them (absent when of all). */
  readonly sampledFrom?: number;
  readonly columns: readonly ProfileColumn[];
  /** The model's probability of bad on each training row, sorted. */
  readonly probabilityBad: readonly number[];
}

export type ProfileColumn =
  | {
      readonly name: string;
      readonly kind: "numeric";
      readonly sorted: readonly number[];
      readonly missing: number;
    }
  | {
      readonly name: string;
      readonly kind: "categorical";
      readonly counts: Readonly<Record<string, number>>;
      readonly missing: number;
    };

/** Where the profile is stored in the training run of the chosen candidate. */
export const REFERENCE_PROFILE_ARTIFACT = "model/reference-profile.json";

/**
 * The profile of a table in the spec's encoding (its feature columns in order, categorical
 * values as indices into the column's values, NaN for a missing value) and the model's
 * probabilities on it.
 */
export function buildReferenceProfile(
  spec: DatasetSpec,
  allColumns: readonly Float64Array[],
  allProbabilityBad: ArrayLike<number>,
): ReferenceProfile {
  const total = allColumns[0]?.length ?? allProbabilityBad.length;
  const sample = total > PROFILE_ROWS ? sampleRows(total, PROFILE_ROWS) : null;
  const pick = (values: ArrayLike<number>): ArrayLike<number> =>
    sample ? Float64Array.from(sample, (i) => values[i]) : values;
  const columns = allColumns.map(pick);
  const probabilityBad = pick(allProbabilityBad);
  return {
    format: "riskometer-reference-profile/1",
    rows: sample ? sample.length : total,
    ...(sample ? { sampledFrom: total } : {}),
    columns: featureColumns(spec).map((column, j) => {
      const values = Array.from(columns[j]);
      let missing = 0;
      if (column.kind === "numeric") {
        const present: number[] = [];
        for (const v of values) {
          if (Number.isFinite(v)) present.push(v);
          else missing++;
        }
        return {
          name: column.name,
          kind: "numeric",
          sorted: present.sort((a, b) => a - b),
          missing,
        };
      }
      const counts: Record<string, number> = {};
      for (const v of values) {
        const value = Number.isInteger(v) ? column.values[v]?.value : undefined;
        if (value === undefined) missing++;
        else counts[value] = (counts[value] ?? 0) + 1;
      }
      return { name: column.name, kind: "categorical", counts, missing };
    }),
    probabilityBad: Array.from(probabilityBad).sort((a, b) => a - b),
  };
}

/** Most training rows a profile keeps (see ReferenceProfile). */
export const PROFILE_ROWS = 20_000;

/** `k` of the rows 0..n-1, uniformly at random from a fixed seed, ascending. */
function sampleRows(n: number, k: number): Int32Array {
  const rows = Int32Array.from({ length: n }, (_, i) => i);
  const rng = new Rng(PROFILE_ROWS);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(n - i);
    const t = rows[i];
    rows[i] = rows[j];
    rows[j] = t;
  }
  return rows.subarray(0, k).sort();
}

/** Reads a stored profile, refusing anything else. */
export function parseReferenceProfile(text: string, source: string): ReferenceProfile {
  const profile = JSON.parse(text) as ReferenceProfile;
  if (profile?.format !== "riskometer-reference-profile/1" || !Array.isArray(profile.columns)) {
    throw new AppError("MODEL_FILE_INVALID", `${source} is not a reference profile`);
  }
  return profile;
}

/**
 * The profile as a window of data for `detectDrift`: numeric columns as their sorted values,
 * categorical ones expanded from their counts, missing values put back (the tests count them).
 * The order of values does not matter to any test.
 */
export function profileFrame(profile: ReferenceProfile): DriftFrame {
  const frame: Record<string, (number | null)[] | (string | null)[]> = {};
  for (const column of profile.columns) {
    if (column.kind === "numeric") {
      frame[column.name] = [...column.sorted, ...Array<null>(column.missing).fill(null)];
    } else {
      const values: (string | null)[] = [];
      for (const [value, count] of Object.entries(column.counts)) {
        for (let i = 0; i < count; i++) values.push(value);
      }
      for (let i = 0; i < column.missing; i++) values.push(null);
      frame[column.name] = values;
    }
  }
  return frame;
}
