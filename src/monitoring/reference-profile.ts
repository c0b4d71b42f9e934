import { AppError } from "../core/errors.js";
import { type DatasetSpec, featureColumns } from "../data/index.js";
import type { DriftFrame } from "./drift.js";

/**
 * What the drift tests need from a model version's training data, computed once when the
 * version is trained and stored beside its model file: per numeric column its sorted values
 * (KS and Wasserstein read the empirical distribution; bins come from them), per categorical
 * column its counts, missing values counted on both; and the model's own probabilities on that
 * data, the reference for prediction drift. 1,000 training rows make about 60 kB of JSON.
 */
export interface ReferenceProfile {
  readonly format: "riskometer-reference-profile/1";
  readonly rows: number;
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
  columns: readonly Float64Array[],
  probabilityBad: ArrayLike<number>,
): ReferenceProfile {
  const rows = columns[0]?.length ?? 0;
  return {
    format: "riskometer-reference-profile/1",
    rows,
    columns: featureColumns(spec).map((column, j) => {
      const values = columns[j];
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
