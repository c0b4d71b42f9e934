import type { DecisionTuple } from "../decisions/index.js";
import { type DecidingModel, type DecisionContext, DecisionEncoder } from "./decision-encoder.js";
import { Scorer, type ScorerSource } from "./scorer.js";

/*
 * The scoring path's worker-thread jobs (see core/pool.ts). A worker gets its model once as
 * `shared` and builds its scorer from it on the first call.
 */

/**
 * This module as a job reference for the worker pool: compiled (`.js`) from dist/, where the
 * pool uses worker threads; from sources (`.ts`, under the test runner) it runs in-process.
 */
export const SCORING_JOBS = import.meta.url;

/** One batch of validated rows of a file. */
export interface DecideBatchInput {
  /** One column per feature column of the spec, values as the validator produces them. */
  readonly columns: readonly Float64Array[];
  readonly n: number;
  readonly rowNumbers: Int32Array;
  /** Ids for the rows' decisions, made by the caller (ids increase within a process). */
  readonly ids: readonly string[];
  /** Columns outside the spec, passed through into each decision's input. */
  readonly extras: { readonly header: readonly string[]; readonly values: string[][] };
  readonly context: DecisionContext;
  /** Also explain `good` rows; `bad` ones always are. */
  readonly explainGood: boolean;
}

/** What a worker needs to decide: the model version and its spec. */
export interface DecideShared extends ScorerSource, DecidingModel {}

/** The batch's decisions as decision-log rows, in row order. */
export function decideBatch(encoder: DecisionEncoder, input: DecideBatchInput): DecisionTuple[] {
  const { columns, n, rowNumbers, ids, extras, context } = input;
  const values = new Float64Array(columns.length);
  const rows = new Array<DecisionTuple>(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < values.length; j++) values[j] = columns[j][k];
    const extra =
      extras.header.length === 0
        ? undefined
        : Object.fromEntries(extras.header.map((h, e) => [h, extras.values[k][e]]));
    rows[k] = encoder.encode(values, input.explainGood, context, {
      id: ids[k],
      rowNumber: rowNumbers[k],
      extras: extra,
    });
  }
  return rows;
}

const encoders = new WeakMap<DecideShared, DecisionEncoder>();

/** The pool job: `decideBatch` with the model of `shared`. */
export function decideBatchJob(shared: DecideShared, input: DecideBatchInput): DecisionTuple[] {
  let encoder = encoders.get(shared);
  if (!encoder) {
    encoder = new DecisionEncoder(Scorer.of(shared), shared);
    encoders.set(shared, encoder);
  }
  return decideBatch(encoder, input);
}

/** The pool job for files scored without decisions: each row's calibrated probability of bad. */
export function probabilitiesJob(
  shared: ScorerSource,
  input: { columns: Float64Array[]; n: number },
): Float64Array {
  return Scorer.of(shared).probabilities(input.columns, input.n);
}
